/// Steps in a row that failed here, not at the hub (the state database or the root
/// refusing a write: a full or read-only disk), and when the next may try. Without
/// this backoff a failing step is retried at once, forever (pure: the loop supplies
/// the time and the delay).
struct LocalFailures {
    /// What failed in the last step (nil once a step succeeds again).
    private(set) var error: String?
    private(set) var retryAt = 0.0
    /// Failures in this run, for the backoff's attempt number.
    private(set) var count = 0
    /// The causes of this run already said in the journal.
    private var said: Set<String> = []

    /// A step failed with `failure`; the next may try at `retryAt`. True if its cause
    /// is new to this run (said in the journal once, not at every try).
    mutating func failed(_ failure: String, retryAt: Double) -> Bool {
        self.retryAt = retryAt
        count += 1
        error = failure
        return said.insert(failure).inserted
    }

    /// A step succeeded: the run is over. Returns the failure it ended, if any.
    mutating func succeeded() -> String? {
        defer { self = LocalFailures() }
        return error
    }
}
