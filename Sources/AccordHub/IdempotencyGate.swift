import Synchronization

/// Tracks idempotency keys whose first request is still being processed, so that a
/// concurrent retry gets 409 instead of racing the original.
final class IdempotencyGate: Sendable {
    private let inFlight = Mutex(Set<String>())

    /// False when the key is already in flight.
    func enter(_ key: String) -> Bool {
        inFlight.withLock { $0.insert(key).inserted }
    }

    func leave(_ key: String) {
        _ = inFlight.withLock { $0.remove(key) }
    }
}
