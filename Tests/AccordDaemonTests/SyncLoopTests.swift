import AccordCore
import AccordHTTP
import AccordStore
import AccordSync
import AccordSystemd
import AccordTestSupport
import Foundation
import Logging
import Testing

@testable import AccordDaemon

/// The loop as the engine's one owner: jobs run between steps, and a job queued while
/// it stops is answered, never left hanging.
@Suite("Sync loop: one owner, jobs and shutdown")
struct SyncLoopTests {
    func makeLoop(_ folder: TemporaryFolder) throws -> SyncLoop {
        try FileManager.default.createDirectory(atPath: folder.child("root"), withIntermediateDirectories: true)
        let engine = try SyncEngine(
            settings: SyncSettings(root: folder.child("root"), schemas: SchemaSet()), store: try StateStore(path: folder.child("state.db")),
            hub: HubClient(baseURL: "http://127.0.0.1:1", token: nil, http: HTTPClient()))
        let doorbell = Doorbell()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        return SyncLoop(
            engine: engine, inbox: ChangeInbox(debounceMilliseconds: 5, doorbell: doorbell, logger: logger), doorbell: doorbell,
            metrics: DaemonMetrics(), watcher: nil, rescanInterval: 3600, notifier: SystemdNotifier(environment: [:]), logger: logger)
    }

    @Test func aJobQueuedWhileTheLoopStopsIsAnsweredWithAnError() async throws {
        let folder = try TemporaryFolder()
        let loop = try makeLoop(folder)
        // The loop is not running: the job waits in the queue until stop answers it.
        let job = Task { try await loop.perform { engine in try await engine.cursor() } }
        while await loop.queuedJobs == 0 { await Task.yield() }
        await loop.stop()
        await #expect(throws: LoopStopped.self) { try await job.value }
        // Once stopped, a new job is refused at once.
        await #expect(throws: LoopStopped.self) { try await loop.perform { engine in try await engine.cursor() } }
    }

    @Test func jobsRunOnTheRunningLoop() async throws {
        let folder = try TemporaryFolder()
        let loop = try makeLoop(folder)
        let running = Task { await loop.run() }
        #expect(try await loop.perform { engine in try await engine.cursor() } == 0)
        await loop.stop()
        await running.value
    }

    @Test func theControlAPIAnswers503WhenTheLoopHasStopped() async throws {
        let folder = try TemporaryFolder()
        let loop = try makeLoop(folder)
        await loop.stop()
        let handler = ControlHandler(loop: loop, metrics: DaemonMetrics())
        let response = await handler.handle(
            ControlRequest(method: "POST", path: "/v1/conflicts/agreement/x", query: [:], body: Array(#"{"keep": "local"}"#.utf8)))
        #expect(response.status == 503)
    }
}
