import Synchronization

/// Counters for `/metrics`, shared by the loop (which counts) and the control server
/// (which renders them).
final class DaemonMetrics: Sendable {
    struct Counters {
        var pushes = 0
        var pulls = 0
        var merges = 0
        var retries = 0
        var conflicts = 0
        var rejected = 0
        /// Seconds from a change seen to the hub's acknowledgement.
        var latencyBuckets = [Int](repeating: 0, count: DaemonMetrics.bounds.count)
        var latencyCount = 0
        var latencySum = 0.0
    }

    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    let counters = Mutex(Counters())

    func observeLatency(_ seconds: Double, count: Int) {
        guard count > 0 else { return }
        counters.withLock { counters in
            for (index, bound) in Self.bounds.enumerated() where seconds <= bound { counters.latencyBuckets[index] += count }
            counters.latencyCount += count
            counters.latencySum += seconds * Double(count)
        }
    }
}
