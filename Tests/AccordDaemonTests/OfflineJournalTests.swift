import AccordCore
import AccordHTTP
import AccordStore
import AccordSync
import AccordSystemd
import AccordTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import AccordDaemon

/// What the journal says when the hub comes and goes: a flap is said once, an outage
/// that lasts is always said, whatever flapped before it.
@Suite("Sync loop: offline in the journal")
struct OfflineJournalTests {
    /// Every line logged, with its level.
    final class Lines: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
        func count(_ level: Logger.Level, _ text: String) -> Int { lines.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count } }
    }

    struct Capture: LogHandler {
        let sink: Lines
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            sink.lines.withLock { $0.append((level, message.description)) }
        }
    }

    @Test func aFlapIsSaidOnceAndAnOutageThatLastsIsSaidAgain() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.child("root"), withIntermediateDirectories: true)
        let clock = ManualClock()
        let engine = try SyncEngine(
            settings: SyncSettings(root: folder.child("root"), schemas: SchemaSet()), store: try StateStore(path: folder.child("state.db")),
            hub: HubClient(baseURL: "http://127.0.0.1:1", token: nil, http: HTTPClient()), clock: clock)
        let sink = Lines()
        let logger = Logger(label: "test", factory: { _ in Capture(sink: sink) })
        let doorbell = Doorbell()
        let loop = SyncLoop(
            engine: engine, inbox: ChangeInbox(debounceMilliseconds: 5, doorbell: doorbell, logger: logger), doorbell: doorbell,
            metrics: DaemonMetrics(), watcher: nil, rescanInterval: 3600, notifier: SystemdNotifier(environment: [:]), logger: logger, clock: clock)
        await loop.setReachable(false, error: "another feed")
        #expect(sink.count(.warning, "not syncing with the hub: another feed") == 1)
        await loop.setReachable(true, error: nil)
        #expect(sink.count(.notice, "reachable again") == 1)
        // The same cause within five minutes: a flap, said at debug only, both ways.
        clock.advance(by: 10)
        await loop.setReachable(false, error: "another feed")
        await loop.setReachable(true, error: nil)
        clock.advance(by: 10)
        await loop.setReachable(false, error: "another feed")
        #expect(sink.count(.warning, "not syncing") == 1 && sink.count(.notice, "reachable again") == 1)
        #expect(sink.count(.debug, "not syncing with the hub: another feed") == 2)
        // Still offline after a minute: an outage, said as a warning.
        clock.advance(by: 30)
        await loop.setReachable(false, error: "another feed")
        #expect(sink.count(.warning, "not syncing") == 1)
        clock.advance(by: 31)
        await loop.setReachable(false, error: "another feed")
        #expect(sink.count(.warning, "still not syncing with the hub: another feed") == 1)
        clock.advance(by: 5)
        await loop.setReachable(false, error: "another feed")
        #expect(sink.count(.warning, "not syncing") == 2, "said once, not at every failed try")
        // Its end is said too.
        await loop.setReachable(true, error: nil)
        #expect(sink.count(.notice, "reachable again") == 2)
    }
}
