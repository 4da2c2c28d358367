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

/// The control API's whole request path (bytes → parser → `ControlHandler` → response)
/// for the fuzzer, against a real engine, state database and running sync loop whose
/// hub is a closed port. Package access: only the fuzz target uses it.
package final class ControlFuzzHarness: Sendable {
    private let handler: ControlHandler

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
        handler = ControlHandler(loop: loop, metrics: DaemonMetrics(), hubURL: "http://127.0.0.1:1")
        Task { await loop.run() }
    }

    /// Feeds one input as it would arrive on the socket (optionally split in two reads)
    /// and returns the status the daemon would answer, or nil when the parser waits
    /// for more bytes.
    package func run(_ bytes: [UInt8], splitAt: Int? = nil) -> Int? {
        var parser = ControlRequestParser()
        var outcome = ControlRequestParser.Outcome.needMore
        if let splitAt, splitAt < bytes.count {
            outcome = parser.feed(bytes[..<splitAt])
            if outcome == .needMore { outcome = parser.feed(bytes[splitAt...]) }
        } else {
            outcome = parser.feed(bytes)
        }
        switch outcome {
        case .needMore: return nil
        case .refused(let status, _, _): return status
        case .request(let request):
            let done = Mutex<ControlResponse?>(nil)
            let semaphore = Semaphore()
            let handler = self.handler
            Task {
                let response = await handler.handle(request)
                done.withLock { $0 = response }
                semaphore.signal()
            }
            semaphore.wait()
            return done.withLock { $0 }?.status
        }
    }
}
