import AccordStore

/// The state changes of files already written whose commit failed (a full or failing
/// disk under the state database). The root then holds versions the state does not
/// know: a later scan would take each for a local edit against the old base, and an
/// edit the user makes meanwhile back to that old base would look like no edit at all
/// and be lost. So the engine keeps these writes and commits them before it does
/// anything else (`SyncEngine.commitHeld`): the state catches up with what the files
/// became, and whatever the user did since is measured against that. Only failures
/// that may pass are held (`StateStore.mayPass`). A restart loses
/// them; the hub's revisions then stand in (`SyncEngine.heldRevision`).
struct HeldCommit: Sendable {
    var writes: [StoreWrite]
    /// The plans and what carrying them out did, mirrored into the index once committed.
    var plans: [RecordPlan]
    var outcomes: [AppliedPlan]
}

/// A commit that failed after its plans' files were written (see `HeldCommit`).
struct CommitAfterWritesFailed: Error {
    let held: HeldCommit
    let underlying: any Error
}
