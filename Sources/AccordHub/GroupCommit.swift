import Dispatch
import Synchronization

enum GroupCommitError: Error {
    case missingOutcome
}

/// Group commit: writes that arrive while a transaction is being committed wait and go
/// into the next one together, so many concurrent writers share one fsync. Each write
/// still runs in order inside the transaction and sees the ones before it.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    private struct Pending {
        var item: Item
        var continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let worker = DispatchQueue(label: "accord.group-commit")
    /// Runs one batch in one transaction; returns an outcome per item, in order.
    private let commit: @Sendable ([Item]) throws -> [Outcome]
    let maxBatch: Int

    init(maxBatch: Int = 256, commit: @escaping @Sendable ([Item]) throws -> [Outcome]) {
        self.maxBatch = maxBatch
        self.commit = commit
    }

    func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.queue.append(Pending(item: item, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if start { worker.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let taken = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try commit(batch.map(\.item))
                for (pending, outcome) in zip(batch, outcomes) { pending.continuation.resume(returning: outcome) }
                // Every waiter is answered, even if a commit returned too few outcomes.
                for pending in batch.dropFirst(outcomes.count) { pending.continuation.resume(throwing: GroupCommitError.missingOutcome) }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
