#if canImport(Glibc)
    import Glibc
#endif

/// sd_notify(3) without libsystemd: one datagram per message to `NOTIFY_SOCKET`.
/// Does nothing when systemd did not ask for notifications.
package struct SystemdNotifier: Sendable {
    package let socketPath: String?
    /// Half of `WATCHDOG_USEC`, in seconds: how often systemd wants `WATCHDOG=1`.
    package let watchdogInterval: Double?

    package init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = environment["WATCHDOG_USEC"], let micros = Double(text), micros > 0,
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true
        {
            watchdogInterval = micros / 2 / 1_000_000
        } else {
            watchdogInterval = nil
        }
    }

    /// From this process's environment (what systemd sets for a `Type=notify` unit).
    package static func fromEnvironment() -> SystemdNotifier {
        var environment: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        return SystemdNotifier(environment: environment)
    }

    package var isActive: Bool { socketPath != nil }

    /// Sends `message` (for example "READY=1" or "STATUS=idle"); false if it could not.
    /// Never blocks: a listener that stops reading must not stall the daemon (a full
    /// datagram queue once froze it inside a status update).
    @discardableResult
    package func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        // A leading "@" names an abstract socket: its first byte is NUL.
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT), socketAddress, length)
            }
        }
        return sent == bytes.count
    }
}
