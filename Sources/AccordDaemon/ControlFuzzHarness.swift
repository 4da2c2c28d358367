import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordSync
import AccordSystemd
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The control API's whole request path for the fuzzer: the real NIO server on a Unix
/// socket in a temporary folder, with the real `ControlHandler`, engine, state
/// database and running sync loop (its hub a closed port). Each input is written on
/// a fresh connection, the write side shut, and the answer read to the end. Package
/// access: only the fuzz target uses it.
package final class ControlFuzzHarness: Sendable {
    private let socketPath: String
    private let server: ControlHTTPServer

    /// Builds the daemon's inside in a fresh temporary folder.
    package init() throws {
        var template = Array("/tmp/accord-fuzz-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonStartError(description: "cannot create a temporary folder", isConfigError: false) }
        let folder = String(cString: made)
        mkdir(folder + "/root", 0o755)
        let store = try StateStore(path: folder + "/state.db")
        let settings = SyncSettings(root: folder + "/root", schemas: SchemaSet(), retry: RetryPolicy(baseDelayMilliseconds: 1000, maxDelayMilliseconds: 60_000))
        var options = HTTPClientOptions()
        options.connectTimeoutSeconds = 1
        let hub = HubClient(baseURL: "http://127.0.0.1:1", token: nil, http: HTTPClient(options: options))
        let engine = try SyncEngine(settings: settings, store: store, hub: hub)
        let doorbell = Doorbell()
        let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        let loop = SyncLoop(
            engine: engine, inbox: ChangeInbox(debounceMilliseconds: 5, doorbell: doorbell, logger: logger), doorbell: doorbell,
            metrics: DaemonMetrics(), watcher: nil, rescanInterval: 3600, notifier: SystemdNotifier(environment: [:]), logger: logger)
        let handler = ControlHandler(loop: loop, metrics: DaemonMetrics())
        socketPath = folder + "/control.sock"
        var limits = ControlHTTPServer.Limits()
        limits.requestDeadline = .seconds(2)
        server = try ControlHTTPServer(unixPath: socketPath, tcp: nil, limits: limits) { await handler.handle($0) }
        Task { await loop.run() }
    }

    /// Sends one input and returns the status the daemon answered, or nil when it
    /// closed without an answer (an incomplete request).
    package func run(_ bytes: [UInt8]) -> Int? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return nil }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            answer += chunk[0..<count]
        }
        let text = String(decoding: answer.prefix(12), as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }
}
