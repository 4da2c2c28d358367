import AccordCore
import AccordStore
import AccordSync

/// What the control API may see of the daemon: values, read without changing anything.
struct DaemonSnapshot: Sendable {
    var state: String
    var paused: Bool
    var hubReachable: Bool
    /// The hub requests go to now (the first of `remote` that answers).
    var hub: String
    var lastSync: Double?
    var lastError: String?
    /// What fails here, not at the hub (the state database or the root), while it does.
    var localError: String?
    /// The steps in a row that failed here: with the backoff, a few a minute at most.
    var localFailures: Int
    var root: String
    var pending: Int
    var records: Int
    var files: Int
    var conflicts: Int
    var problems: [RecordProblem]
    var heldDeletions: Int
    var holdReason: String?
    var unapplied: [UnappliedChange]
    var unappliedCount: Int
    /// Deletions found but still waiting out their settle window.
    var deletionsSettling: Bool
}

extension SyncLoop {
    /// The daemon's state for status and metrics (read-only).
    func snapshot() async throws -> DaemonSnapshot {
        let counts = try await engineCounts()
        let unapplied = try await read { try await $0.unappliedChanges(limit: 100) }
        return DaemonSnapshot(
            state: stateName, paused: paused, hubReachable: hubReachable, hub: await read { await $0.hub.baseURL }, lastSync: lastSync, lastError: lastError,
            localError: localError, localFailures: localFailures.count,
            root: await read { await $0.settings.root }, pending: counts.pending, records: counts.records, files: counts.files,
            conflicts: counts.conflicts, problems: await read { await $0.problems }, heldDeletions: await read { await $0.heldDeletions.count },
            holdReason: await read { await $0.holdReason }, unapplied: unapplied.list, unappliedCount: unapplied.count,
            deletionsSettling: await read { await $0.deletionsSettleAt != nil })
    }

    func conflicts() async throws -> [StoredConflict] { try await read { try await $0.openConflicts() } }

    func events(limit: Int) async throws -> [SyncEvent] { try await read { try await $0.events(limit: limit) } }

    private func engineCounts() async throws -> (pending: Int, records: Int, files: Int, conflicts: Int) {
        try await read { try await $0.counts() }
    }
}
