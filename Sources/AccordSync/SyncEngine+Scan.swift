import AccordCore
import AccordFiles
import AccordStore

extension SyncEngine {
    /// Rescans the root and queues every local change. Returns the scan's problems
    /// (invalid input, never pushed) and how many operations were queued.
    @discardableResult
    package func scan() throws -> (queued: Int, problems: [RecordProblem]) {
        try commitHeld()
        let scanner = RootScanner(root: settings.root, schemas: settings.schemas, ignore: settings.ignore, maxRecordBytes: settings.maxRecordBytes)
        let held = settings.policy == .manual ? Set(try store.openConflicts().map(\.key)) : []
        let now = clock.now()
        var queued: Set<RecordKey> = []
        // Records come in batches and are compared with their own bases only, so
        // memory follows the batch, not the root.
        let result = try scanner.scan(previous: index, batchSize: settings.scanBatchSize) { batch in
            let keys = batch.map(\.key)
            var scanned: [RecordKey: JSONObject] = [:]
            var modified: [RecordKey: Double] = [:]
            for record in batch {
                scanned[record.key] = record.fields
                modified[record.key] = record.modified
            }
            let changes = Differ.changes(
                scanned: scanned, present: Set(keys), protected: [], held: held, bases: try store.bases(keys), pending: try store.pendingOperations(keys))
            // The change time is the file's mtime (for `newest`), never later than now.
            try store.applyScan(
                enqueue: changes.map { ($0.key, .put, $0.baseRev, scanned[$0.key], min(modified[$0.key] ?? now, now)) }, saveFiles: [], removeFiles: [])
            queued.formUnion(changes.map(\.key))
        }
        // A copy queued before its duplicate turned up is withdrawn: neither is synced.
        for key in result.lateDuplicates.intersection(queued) {
            if let operation = try store.pendingOperation(key) { try store.discard(operation) }
            queued.remove(key)
        }
        // Deletions: live bases found nowhere in the root (and not protected), settled
        // and judged by the mass-delete guard.
        let liveKeys = try store.liveBaseKeys()
        let vanished = liveKeys.subtracting(result.present).subtracting(result.protected)
        let deletions = Differ.changes(
            scanned: [:], present: result.present, protected: result.protected, held: held, bases: try store.bases(vanished),
            pending: try store.pendingOperations(vanished))
        let decision = DeletionPlanner.decide(
            deletions, settle: &settle, allowed: deletionsAllowed, liveRecords: liveKeys.count, rootReadable: Self.isReadableFolder(settings.root),
            rootEmpty: result.index.isEmpty && result.problems.isEmpty, maxDeletePercent: settings.maxDeletePercent,
            previousHold: (holdReason, heldDeletions.count), now: now)
        if let event = decision.event { try store.recordEvent(type: "held", record: "", summary: event, at: now) }
        deletionsSettleAt = decision.settleAt
        heldDeletions = decision.held
        holdReason = decision.holdReason
        deletionsAllowed = false
        try saveHold()
        problemsByPath = Dictionary(grouping: result.problems, by: \.path)
        // The index moves with the last of the changes: a crash before re-reads the same
        // files and finds their changes already queued.
        try store.applyScan(
            enqueue: decision.queue.map { ($0.key, .delete, $0.baseRev, nil, now) },
            saveFiles: result.index.entries(changedFrom: index),
            removeFiles: index.paths.filter { !result.index.contains($0) })
        index = result.index
        protectedKeys = result.protected
        scannedOnce = true
        return (queued.count + decision.queue.count, result.problems)
    }

    /// The fast path for the watcher: looks only at `paths` (root-relative). Falls back
    /// to a full scan whenever these files alone cannot tell the truth: a folder or a
    /// link changed, a record appeared that lives in another file too (a move or a
    /// duplicate), or a record left these files (a move or a delete: the full scan
    /// tells them apart, and applies the mass-delete guard).
    @discardableResult
    package func scan(paths: [String]) throws -> (queued: Int, problems: [RecordProblem], fullScan: String?) {
        try commitHeld()
        if holdReason != nil { return try fullScan("deletions are held") }
        let scanner = RootScanner(root: settings.root, schemas: settings.schemas, ignore: settings.ignore, maxRecordBytes: settings.maxRecordBytes)
        guard let found = scanner.scanFiles(paths, previous: index) else { return try fullScan("a folder or a link changed") }
        let looked = Set(paths)
        var scanned: [RecordKey: JSONObject] = [:]
        var modified: [RecordKey: Double] = [:]
        var place: [RecordKey: String] = [:]
        for record in found.records {
            // A duplicate here, or a record the root held twice or invalid: only a full
            // scan sees every copy.
            if scanned[record.key] != nil || protectedKeys.contains(record.key) { return try fullScan("\(record.key) is held twice or invalid") }
            if let home = index.location(of: record.key), home != record.path, !looked.contains(home) {
                return try fullScan("\(record.key) moved from \(home)")
            }
            scanned[record.key] = record.fields
            modified[record.key] = record.modified
            place[record.key] = record.path
        }
        let held = settings.policy == .manual ? Set(try store.openConflicts().map(\.key)) : []
        // Only files read again (or gone) can have lost a record; one unchanged since
        // the last look (a file this daemon wrote itself) holds what it held.
        for path in found.problems.keys {
            for key in index.records(at: path) where scanned[key] == nil && !found.protected.contains(key) {
                if index.location(of: key) == path, !held.contains(key) { return try fullScan("\(key) left \(path)") }
            }
        }
        let now = clock.now()
        let keys = Array(scanned.keys)
        let changes = Differ.changes(
            scanned: scanned, present: Set(keys), protected: [], held: held, bases: try store.bases(keys), pending: try store.pendingOperations(keys))
        try store.applyScan(
            enqueue: changes.map { ($0.key, .put, $0.baseRev, scanned[$0.key], min(modified[$0.key] ?? now, now)) }, saveFiles: found.saved,
            removeFiles: found.removed)
        for entry in found.saved { index.set(entry) }
        for path in found.removed { index.remove(path) }
        for (key, path) in place { index.place(key, at: path) }
        for (path, problems) in found.problems { problemsByPath[path] = problems.isEmpty ? nil : problems }
        protectedKeys.formUnion(found.protected)
        for key in scanned.keys { protectedKeys.remove(key) }
        return (changes.count, found.problems.values.flatMap { $0 }, nil)
    }

    /// A full scan instead of the fast path, with the reason why (for the debug log).
    private func fullScan(_ reason: String) throws -> (queued: Int, problems: [RecordProblem], fullScan: String?) {
        let (queued, problems) = try scan()
        return (queued, problems, reason)
    }

    /// Lets the deletions the guard holds through on the next scan
    /// (`accordctl resume --allow-deletes`).
    package func allowDeletions() {
        deletionsAllowed = true
    }

    /// The mass-delete guard's hold, kept in the state so a restart keeps it.
    func saveHold() throws {
        let stored = try store.setting(Self.holdSetting)
        guard stored != holdReason else { return }
        try store.setSetting(Self.holdSetting, holdReason)
        try store.setSetting(Self.heldKeysSetting, holdReason == nil ? nil : heldDeletions.map(\.description).joined(separator: "\n"))
    }
}
