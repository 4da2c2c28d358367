import Dispatch
import Synchronization

enum GroupCommitError: Error {
    case missingOutcome
}

/// Group commit: writes that arrive while a transaction is being committed wait and go
/// into the next one together, so many concurrent writers share one fsync. Each write
/// still runs in order inside the transaction and sees the ones before it. A group of
/// items submitted together (a batch) is never split across transactions.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    private struct Pending {
        var items: [Item]
        var continuation: CheckedContinuation<[Outcome], any Error>
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
        guard let outcome = try await submit([item]).first else { throw GroupCommitError.missingOutcome }
        return outcome
    }

    /// Commits `items` in one transaction (with whatever else is waiting); their
    /// outcomes in order.
    func submit(_ items: [Item]) async throws -> [Outcome] {
        guard !items.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.queue.append(Pending(items: items, continuation: continuation))
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
                // Whole groups, up to maxBatch items (a larger group goes alone).
                var taken: [Pending] = []
                var count = 0
                while let next = state.queue.first, taken.isEmpty || count + next.items.count <= maxBatch {
                    taken.append(state.queue.removeFirst())
                    count += next.items.count
                }
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try commit(batch.flatMap(\.items))
                var offset = 0
                for pending in batch {
                    let end = offset + pending.items.count
                    // Every waiter is answered, even if a commit returned too few outcomes.
                    if end <= outcomes.count {
                        pending.continuation.resume(returning: Array(outcomes[offset..<end]))
                    } else {
                        pending.continuation.resume(throwing: GroupCommitError.missingOutcome)
                    }
                    offset = end
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: error) }
            }
        }
    }
}
