import Synchronization

/// Wakes long-polling readers of the changes feed the moment a write commits: each
/// waiter parks on a continuation, and every write resumes all of them. No polling.
final class ChangeNotifier: Sendable {
    private struct Waiter {
        var after: Int64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var latest: Int64 = 0
        var draining = false
        var nextID = 0
        var waiters: [Int: Waiter] = [:]
    }

    private let state = Mutex(State())

    /// Records that `seq` was written and wakes every waiter behind it.
    func published(_ seq: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.latest = max(state.latest, seq)
            let ready = state.waiters.filter { $0.value.after < state.latest }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once a change after `seq` is published, or when `timeout` passes, or
    /// when the task is cancelled (server shutdown), whichever comes first.
    func wait(after seq: Int64, timeout: Duration) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.latest > seq || state.draining || Task.isCancelled { return true }
                            state.waiters[id] = Waiter(after: seq, continuation: continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.cancel(id)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Releases every waiter now and makes later waits return at once.
    func drain() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.draining = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    var waiterCount: Int { state.withLock { $0.waiters.count } }

    private func cancel(_ id: Int) {
        let continuation = state.withLock { state in state.waiters.removeValue(forKey: id)?.continuation }
        continuation?.resume()
    }
}
