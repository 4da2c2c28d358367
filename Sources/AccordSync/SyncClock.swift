import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the engine and the daemon read the time: wall-clock seconds since 1970 (what
/// the hub and the file system speak). Injected, so settle windows, `newest` and
/// backoff are tested at exact instants instead of with real sleeps.
package protocol SyncClock: Sendable {
    func now() -> Double
}

/// The system's real-time clock.
package struct WallClock: SyncClock {
    package init() {}

    package func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// A clock that moves only when told (tests, simulations).
package final class ManualClock: SyncClock {
    private let time: Mutex<Double>

    package init(_ start: Double = 1_800_000_000) {
        time = Mutex(start)
    }

    package func now() -> Double { time.withLock { $0 } }

    package func advance(by seconds: Double) {
        time.withLock { $0 += seconds }
    }

    package func set(_ seconds: Double) {
        time.withLock { $0 = seconds }
    }
}

/// Where backoff jitter comes from: numbers in [0, 1). Injected for the same reason as
/// the clock.
package protocol JitterSource: Sendable {
    func next() -> Double
}

/// The system's random numbers.
package struct SystemJitter: JitterSource {
    package init() {}

    package func next() -> Double { Double.random(in: 0..<1) }
}

/// Always the same number (tests): 1 gives the full backoff, 0 none.
package struct FixedJitter: JitterSource {
    package let value: Double

    package init(_ value: Double) {
        self.value = value
    }

    package func next() -> Double { value }
}
