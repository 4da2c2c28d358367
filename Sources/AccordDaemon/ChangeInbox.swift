import AccordSync
import AccordWatch
import Logging
import Synchronization

/// Where the watcher's signals land: aggregated under a lock on the watcher's own
/// thread, then the loop is woken. Remembers what the loop must know besides paths:
/// that events were lost, and that the watch limit was hit.
final class ChangeInbox: Sendable {
    private struct State {
        var aggregator: ChangeAggregator
        var limitReached = false
        /// When the oldest change not yet handed out was seen: for the latency histogram.
        var firstSeen: Double?
    }

    private let state: Mutex<State>
    private let doorbell: Doorbell
    private let logger: Logger
    private let clock: any SyncClock

    init(debounceMilliseconds: Int, doorbell: Doorbell, logger: Logger, clock: any SyncClock = WallClock()) {
        state = Mutex(State(aggregator: Self.aggregator(debounceMilliseconds)))
        self.doorbell = doorbell
        self.logger = logger
        self.clock = clock
    }

    /// A path that changes all the time is still synced at least every second.
    private static func aggregator(_ debounceMilliseconds: Int) -> ChangeAggregator {
        let debounce = Double(debounceMilliseconds) / 1000
        return ChangeAggregator(debounce: debounce, maxDelay: max(1, debounce * 4))
    }

    func receive(_ signals: [WatchSignal]) {
        let now = clock.now()
        state.withLock { state in
            if state.firstSeen == nil { state.firstSeen = now }
            for signal in signals {
                switch signal {
                case .changed(let path):
                    state.aggregator.note(path, at: now)
                case .overflow:
                    logger.notice("the inotify queue overflowed; rescanning the whole root")
                    state.aggregator.noteFullRescan(at: now)
                case .rootLost:
                    logger.warning("the root folder was deleted, moved or unmounted; rescanning, and holding any deletions")
                    state.aggregator.noteFullRescan(at: now)
                case .limitReached(let message):
                    logger.error("\(message)")
                    state.limitReached = true
                }
            }
        }
        doorbell.ring()
    }

    /// Asks for a full rescan at once (a manual sync, a resume).
    func requestFullRescan() {
        let now = clock.now()
        state.withLock { $0.aggregator.noteFullRescan(at: now) }
        doorbell.ring()
    }

    func take(at now: Double) -> (paths: [String], fullRescan: Bool, firstSeen: Double?) {
        state.withLock { state in
            let due = state.aggregator.takeDue(at: now)
            let seen = state.firstSeen
            if state.aggregator.isEmpty { state.firstSeen = nil }
            return (due.paths, due.fullRescan, due.paths.isEmpty && !due.fullRescan ? nil : seen)
        }
    }

    var nextDeadline: Double? { state.withLock { $0.aggregator.nextDeadline } }

    var limitReached: Bool { state.withLock { $0.limitReached } }

    func setDebounce(milliseconds: Int) {
        state.withLock { state in
            let fresh = Self.aggregator(milliseconds)
            state.aggregator.debounce = fresh.debounce
            state.aggregator.maxDelay = fresh.maxDelay
        }
    }
}
