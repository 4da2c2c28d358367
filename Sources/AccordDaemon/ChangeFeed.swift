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
    /// How long each long-poll waits for a change. Every poll that comes back empty
    /// costs both sides a wake-up and a few state reads, the bulk of an idle daemon's
    /// CPU, so it is long: a hub that hangs without closing (stopped, answering nothing)
    /// is still found within 45 + 5 s of grace, inside the 60 s that CONTRACT 8.6
    /// gives an idle daemon to say `offline`; a dead link is found sooner by TCP
    /// keepalive with TCP_USER_TIMEOUT. It stays under the hub's 60 s maximum.
    static let waitSeconds = 45
    /// Changes per page of the feed.
    static let pageLimit = 500

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
                    let (cursor, basesMoved) = try await loop.read { (try await $0.cursor(), await $0.basesMoved) }
                    since = max(since, cursor)
                    let hub = await loop.read { await $0.hub }
                    let page = try await hub.changes(since: since, limit: Self.pageLimit, waitSeconds: Self.waitSeconds, fields: true)
                    // Such a hub answers at once, without a long-poll: it must not
                    // count as reachable, or the feed would ask again without pause.
                    try await loop.read { [since] in try await $0.checkFeed(page, cursor: since) }
                    failures = 0
                    await loop.setReachable(true, error: nil)
                    if !page.changes.isEmpty {
                        await loop.deliver(page, since: since, basesMoved: basesMoved)
                        since = page.lastSeq
                    }
                } catch let error as HubError {
                    if Task.isCancelled { return }
                    failures += 1
                    // 1, 2, 4 … 30 seconds between tries while the hub is away.
                    var pause = Double(min(30_000, 500 << min(failures, 6))) / 1000
                    if case .retryable(_, let retryAfter?) = error {
                        // An answer with Retry-After (503: too many long-polls, a full
                        // write queue): the hub is there and busy. Wait as it asks; it is
                        // not reported unreachable.
                        if failures == 1 { logger.notice("the hub is busy: \(error); long-polling again in \(Int(retryAfter.rounded(.up))) s") }
                        pause = max(pause, retryAfter)
                    } else {
                        await loop.setReachable(false, error: error.description)
                    }
                    try await Task.sleep(for: .seconds(pause))
                    // Even a busy hub may be one shutting down, and the hub may have
                    // been restored from a backup while this slept (other requests
                    // may have looked at it before that): its feed is looked at again,
                    // anchor and all, before a page of it is applied.
                    await loop.read { await $0.hubLost() }
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
