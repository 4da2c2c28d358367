/// Turns a stream of per-path change notices into batches to scan (pure; the caller
/// passes the time). A path seen for the first time in a while is due at once, so a
/// single save syncs without delay; a path that keeps changing is debounced by
/// `debounce` seconds, but never held longer than `maxDelay` after its first notice,
/// so a file that never stops changing still syncs.
package struct ChangeAggregator: Sendable {
    package var debounce: Double
    package var maxDelay: Double
    private var pending: [String: Pending] = [:]
    /// When each path was last handed out; a notice within `debounce` of it is a burst.
    private var lastTaken: [String: Double] = [:]
    private var rescanDue: Double?

    private struct Pending {
        var first: Double
        var due: Double
    }

    package init(debounce: Double, maxDelay: Double) {
        self.debounce = debounce
        self.maxDelay = max(maxDelay, debounce)
    }

    package var isEmpty: Bool { pending.isEmpty && rescanDue == nil }

    package mutating func note(_ path: String, at now: Double) {
        if rescanDue != nil { return }  // the full rescan covers it
        if var waiting = pending[path] {
            waiting.due = min(now + debounce, waiting.first + maxDelay)
            pending[path] = waiting
        } else if let taken = lastTaken[path], now - taken < debounce {
            pending[path] = Pending(first: now, due: now + debounce)
        } else {
            pending[path] = Pending(first: now, due: now)
        }
    }

    /// Lost events or a lost root: everything must be looked at, right away.
    package mutating func noteFullRescan(at now: Double) {
        rescanDue = now
        pending.removeAll()
    }

    /// When the next batch is due, or nil when nothing is waiting.
    package var nextDeadline: Double? {
        if let rescanDue { return rescanDue }
        return pending.values.map(\.due).min()
    }

    /// The paths due at `now` (sorted), or a full rescan, and forgets them.
    package mutating func takeDue(at now: Double) -> (paths: [String], fullRescan: Bool) {
        lastTaken = lastTaken.filter { now - $0.value < debounce }
        if let due = rescanDue, due <= now {
            rescanDue = nil
            return ([], true)
        }
        let ready = pending.filter { $0.value.due <= now }.keys.sorted()
        for path in ready {
            pending[path] = nil
            lastTaken[path] = now
        }
        return (ready, false)
    }
}
