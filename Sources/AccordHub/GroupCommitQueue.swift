/// The waiting side of group commit, shared by `GroupCommit` (SQLite, on a thread) and
/// `AsyncGroupCommit` (PostgreSQL): submitted groups queue while a commit runs, the
/// next commit takes whole groups up to a size, and each waiter gets its own outcomes.
struct GroupCommitQueue<Item: Sendable, Outcome: Sendable> {
    struct Pending {
        var items: [Item]
        var continuation: CheckedContinuation<[Outcome], any Error>
    }

    private var queue: [Pending] = []
    private var draining = false

    /// Queues a group; true when the caller must start draining (nobody is).
    mutating func enqueue(_ items: [Item], _ continuation: CheckedContinuation<[Outcome], any Error>) -> Bool {
        queue.append(Pending(items: items, continuation: continuation))
        if draining { return false }
        draining = true
        return true
    }

    /// Whole groups, up to `maxBatch` items (a larger group goes alone); empty when
    /// none wait, and then draining stops.
    mutating func take(maxBatch: Int) -> [Pending] {
        var taken: [Pending] = []
        var count = 0
        while let next = queue.first, taken.isEmpty || count + next.items.count <= maxBatch {
            taken.append(queue.removeFirst())
            count += next.items.count
        }
        if taken.isEmpty { draining = false }
        return taken
    }

    /// Answers every waiter of a committed batch, in order; each is answered even if
    /// the commit returned too few outcomes.
    static func answer(_ batch: [Pending], with result: Result<[Outcome], any Error>) {
        switch result {
        case .success(let outcomes):
            var offset = 0
            for pending in batch {
                let end = offset + pending.items.count
                if end <= outcomes.count {
                    pending.continuation.resume(returning: Array(outcomes[offset..<end]))
                } else {
                    pending.continuation.resume(throwing: GroupCommitError.missingOutcome)
                }
                offset = end
            }
        case .failure(let error):
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }
}
