import Synchronization

/// Wakes the sync loop from anywhere (the watcher's thread, the feed, the control API)
/// without a task hop. A ring while nobody waits is kept, so no wake-up is lost.
final class Doorbell: Sendable {
    private let state = Mutex<(rung: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on a ring, or after `seconds`.
    func wait(seconds: Double) async {
        if state.withLock({ state in
            defer { state.rung = false }
            return state.rung
        }) {
            return
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int64(max(0, seconds) * 1000)))
            if !Task.isCancelled { ring() }
        }
        await withCheckedContinuation { continuation in
            let ringAlready = state.withLock { state -> Bool in
                if state.rung {
                    state.rung = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if ringAlready { continuation.resume() }
        }
        timer.cancel()
    }
}
