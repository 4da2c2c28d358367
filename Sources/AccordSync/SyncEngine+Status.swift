import AccordCore
import AccordStore

/// What the engine shows the outside (status, metrics): read-only.
extension SyncEngine {
    /// Every invalid input the last looks found.
    package var problems: [RecordProblem] {
        problemsByPath.keys.sorted().flatMap { problemsByPath[$0] ?? [] }
    }

    /// Counts for status.
    package func counts() throws -> (pending: Int, records: Int, files: Int, conflicts: Int) {
        (try store.pendingCount(), index.recordCount, index.fileCount, Set(try store.openConflicts().map(\.key)).count)
    }

    package func openConflicts() throws -> [StoredConflict] { try store.openConflicts() }

    package func events(limit: Int) throws -> [SyncEvent] { try store.events(limit: limit) }

    /// The unapplied changes (at most `limit`) and how many there are.
    package func unappliedChanges(limit: Int) throws -> (list: [UnappliedChange], count: Int) {
        unappliedKeys.isEmpty ? ([], 0) : try store.unappliedChanges(limit: limit)
    }

    /// Whether the replica is paused, kept in the state so a restart stays paused.
    package func pausedInState() throws -> Bool {
        try store.setting(Self.pausedSetting) == "1"
    }

    package func savePaused(_ paused: Bool) throws {
        try store.setSetting(Self.pausedSetting, paused ? "1" : nil)
    }

    /// When the replica last synced with the hub, kept in the state at a stop so that
    /// status after a restart does not say "never".
    package func lastSyncInState() throws -> Double? {
        try store.setting(Self.lastSyncSetting).flatMap(Double.init)
    }

    package func saveLastSync(_ time: Double) throws {
        try store.setSetting(Self.lastSyncSetting, String(time))
    }
}
