import Foundation

/// Plain TCP sockets on 127.0.0.1 for the proxies and raw clients of the tests and
/// benchmarks, so the sockaddr dance lives in one place.
package enum LoopbackSocket {
    /// A listening socket on a free loopback port.
    package static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError("cannot listen on loopback: \(reason)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) { _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A socket connected to `port` on loopback (or to `host`, a dotted IPv4 address).
    package static func connect(port: Int, host: String = "127.0.0.1") throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket: \(String(cString: strerror(errno)))") }
        var address = loopback(port: port)
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw TestSupportError("cannot connect to \(host):\(port): \(reason)")
        }
        return fd
    }

    /// Turns off Nagle's algorithm, so small writes leave at once.
    package static func noDelay(_ fd: Int32) {
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        return address
    }

    /// Sends every byte unless the peer goes away (then it stops quietly: callers that
    /// care read what the peer said).
    package static func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }

    /// A port free on loopback right now (bound, then released), for a server that
    /// must be told its port: a random pick collides with the ephemeral ports of the
    /// other tests' connections.
    package static func freePort() throws -> Int {
        let (fd, port) = try listen()
        close(fd)
        return port
    }

    /// Established TCP connections to `port` on loopback, from `ss`: how a test knows a
    /// client's request has reached a server before it acts.
    package static func establishedConnections(port: Int) throws -> Int {
        let run = try ProgramRun.succeed("/usr/bin/ss", ["-Htn", "state", "established", "( dport = :\(port) )"])
        return run.stdout.split(separator: "\n").count
    }

    /// Accepts connections on `listener` and hands each to `handle`, until the listener
    /// is closed (`stopped` then says so) or fails.
    package static func acceptEach(_ listener: Int32, stopped: () -> Bool, handle: (Int32) -> Void) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if stopped() || errno != EINTR { return }
                continue
            }
            handle(client)
        }
    }

    /// Whether the peer closes `fd` within `timeout` seconds (what it sends meanwhile is
    /// read and dropped). Reads on a thread of its own, not on the test's pool.
    package static func closedByPeer(_ fd: Int32, within timeout: Double) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread {
                var slice = timeval(tv_sec: 0, tv_usec: 200_000)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
                let end = Date().addingTimeInterval(timeout)
                var buffer = [UInt8](repeating: 0, count: 4096)
                var closed = false
                while !closed, Date() < end {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    closed = count == 0 || (count < 0 && errno == ECONNRESET)
                }
                continuation.resume(returning: closed)
            }.start()
        }
    }
}
