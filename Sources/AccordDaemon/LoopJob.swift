import AccordSync

/// The loop stopped before an operator's job could run.
struct LoopStopped: Error, CustomStringConvertible {
    var description: String { "accordd is shutting down; try again once it is back" }
}

/// An operator's job: run with the engine between steps, or refused at shutdown.
/// Exactly one of the two is called.
struct Job: Sendable {
    let run: @Sendable (SyncEngine) async -> Void
    let refuse: @Sendable () -> Void
}
