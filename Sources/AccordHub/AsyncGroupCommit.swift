import Synchronization

/// Group commit for an asynchronous store (PostgreSQL): writes that arrive while a
/// transaction is being committed wait and go into the next one together, so many
/// concurrent writers share one round of locking and one WAL flush. As
/// `GroupCommit`: each write runs in order inside the transaction and sees the ones
/// before it, a group submitted together is never split, and each waiter is answered
/// only after its transaction's commit (or with its error).
final class AsyncGroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    private let state = Mutex(GroupCommitQueue<Item, Outcome>())
    /// Runs one batch in one transaction; returns an outcome per item, in order.
    private let commit: @Sendable ([Item]) async throws -> [Outcome]
    let maxBatch: Int

    init(maxBatch: Int = 256, commit: @escaping @Sendable ([Item]) async throws -> [Outcome]) {
        self.maxBatch = maxBatch
        self.commit = commit
    }

    func submit(_ items: [Item]) async throws -> [Outcome] {
        guard !items.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            if state.withLock({ $0.enqueue(items, continuation) }) { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { $0.take(maxBatch: maxBatch) }
            if batch.isEmpty { return }
            let result: Result<[Outcome], any Error>
            do {
                result = .success(try await commit(batch.flatMap(\.items)))
            } catch {
                result = .failure(error)
            }
            GroupCommitQueue.answer(batch, with: result)
        }
    }
}
