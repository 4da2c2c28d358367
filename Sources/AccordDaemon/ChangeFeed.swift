import AccordSync
import AccordSystemd
import Logging
import ServiceLifecycle

/// Long-polls the hub's changes feed (with the records' fields) and hands each page
/// to the loop, which applies it if its cursor is still where the page starts: an
/// edit on another replica costs one round trip to arrive, not two. It writes nothing
/// itself, so it can be cancelled at any moment. Its successes and failures are how
/// the daemon knows whether the hub is reachable.
struct ChangeFeed: Service {
    let loop: SyncLoop
    let logger: Logger
    static let waitSeconds = 25

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var since: Int64 = 0
            var failures = 0
            while !Task.isCancelled {
                let paused = await loop.paused
                let holding = await loop.read { await $0.holdReason } != nil
                if paused || holding {
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                do {
                    since = max(since, try await loop.read { try await $0.cursor() })
                    let hub = await loop.read { await $0.hub }
                    let page = try await hub.changes(since: since, limit: 500, waitSeconds: Self.waitSeconds, fields: true)
                    failures = 0
                    await loop.setReachable(true, error: nil)
                    if !page.changes.isEmpty {
                        await loop.deliver(page, since: since)
                        since = page.lastSeq
                    }
                } catch let error as HubError {
                    if Task.isCancelled { return }
                    failures += 1
                    await loop.setReachable(false, error: error.description)
                    // 1, 2, 4 … 30 seconds between tries while the hub is away.
                    try await Task.sleep(for: .milliseconds(min(30_000, 500 << min(failures, 6))))
                }
            }
        }
    }
}

/// Runs the loop until a graceful shutdown, then lets its current step finish.
struct LoopService: Service {
    let loop: SyncLoop

    func run() async throws {
        await withGracefulShutdownHandler {
            await loop.run()
        } onGracefulShutdown: {
            Task { await loop.stop() }
        }
    }
}
