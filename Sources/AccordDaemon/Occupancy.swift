import Synchronization

/// A counted number of places (requests of one kind held at once).
final class Occupancy: Sendable {
    let limit: Int
    private let taken = Mutex(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place; false when all are taken.
    func enter() -> Bool {
        taken.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        taken.withLock { $0 -= 1 }
    }
}
