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
    private let state = Mutex(GroupCommitQueue<Item, Outcome>())
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
            if state.withLock({ $0.enqueue(items, continuation) }) { worker.async { self.drain() } }
        }
    }

    private func drain() {
        while true {
            let batch = state.withLock { $0.take(maxBatch: maxBatch) }
            if batch.isEmpty { return }
            GroupCommitQueue.answer(batch, with: Result { try commit(batch.flatMap(\.items)) })
        }
    }
}
