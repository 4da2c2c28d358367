import AccordCore
import AccordStore

/// What carrying out a plan did to the root, for the engine's in-memory index.
struct AppliedPlan: Sendable {
    var report: SyncReport
    /// The file the record now lives in (written), or nil.
    var savedFile: FileIndexEntry?
    /// A file that is gone (its last record removed).
    var removedFile: String?
    /// Why the file action failed (the plan's `onFileFailure` was committed instead).
    var failure: RecordWriteError?
}

/// Carries out `RecordPlan`s, as mutagen's transition does: the file action first,
/// checked against the file the plan was made from, then every state change of the
/// plan in one `StateStore` transaction. A file action that fails is recorded (the
/// plan's `onFileFailure`), never a reason to abort the round.
///
/// CRASH: between the file action and the commit. The file holds the new version while
/// the state still has the old base and the old index entry. The next scan reads the
/// file (its hash changed), finds it differs from the base, and queues it against the
/// old rev; the push meets a 412 carrying that same version, the merge finds nothing
/// to change, and the base moves: no new revision, nothing lost. If the hub moved on
/// meanwhile, the engine finds the file's version among the hub's revisions and takes
/// it as the base (`SyncEngine.plan`), so the newer one is pulled, not met as a conflict.
///
/// CRASH: after the commit. Everything moved together; the cursor (committed later,
/// per page) may lag, and the page is read again: the base already has each rev, so
/// each change is skipped.
///
/// RACE: a save by the user between the writer's last check and its rename is
/// overwritten; `RecordFileWriter` narrows that to one syscall (see there).
struct PlanApplier: Sendable {
    let writer: RecordFileWriter
    let store: StateStore

    /// - Parameters:
    ///   - home: the file the record lives in now (nil: none yet).
    ///   - expectedHash: that file's hash as last indexed; the write is refused if the
    ///     file changed since.
    func apply(_ plan: RecordPlan, home: String?, expectedHash: ContentDigest?, now: Double) throws -> AppliedPlan {
        var applied = AppliedPlan(report: plan.report)
        var writes: [StoreWrite] = []
        switch perform(plan.file, key: plan.key, home: home, expectedHash: expectedHash) {
        case .success(let outcome):
            applied.savedFile = outcome.saved
            applied.removedFile = outcome.removed
            if let saved = outcome.saved { writes.append(.saveFile(saved)) }
            if let removed = outcome.removed { writes.append(.removeFile(removed)) }
        case .failure(let error):
            guard let failure = plan.onFileFailure else { throw error }
            try store.commit(failure.changes(key: plan.key, error: error.description).map { Self.write($0, now: now) })
            var report = SyncReport()
            report.unapplied = 1
            return AppliedPlan(report: report, failure: error)
        }
        try commit(writes + plan.changes.map { Self.write($0, now: now) }, plans: [plan], outcomes: [applied])
        return applied
    }

    /// The file action alone: the file's new index entry, or the path that is gone.
    private func perform(
        _ action: FileAction, key: RecordKey, home: String?, expectedHash: ContentDigest?
    ) -> Result<
        (saved: FileIndexEntry?, removed: String?), RecordWriteError
    > {
        do {
            switch action {
            case .none:
                return .success((nil, nil))
            case .write(let fields):
                return .success((try writer.write(Record(key: key, fields: fields), in: home, expectedHash: expectedHash), nil))
            case .remove:
                guard let home else { return .success((nil, nil)) }
                if let entry = try writer.remove(key, from: home, expectedHash: expectedHash) { return .success((entry, nil)) }
                return .success((nil, home))
            }
        } catch {
            return .failure(error)
        }
    }

    /// Carries out the plans of one page together, each file target distinct: every
    /// file staged beside its place, one flush of the file system (instead of an
    /// fsync per file), every file placed, one fsync per folder, then one commit of
    /// all their state changes and the cursor. A file that could not be staged or
    /// placed commits its plan's `onFileFailure` instead; the others go on.
    ///
    /// CRASH: before the commit, with some files placed: as for one plan (the scan
    /// finds them changed, the push meets a 412 carrying the same version); the cursor
    /// did not move, so the page is read again and the rest applied.
    ///
    /// RACE: a record the user creates in a new file just before a page brings the
    /// same record from the hub, before the watcher has reported the file, may end up
    /// in two files; the next scan reports the duplicate (nothing is pushed or lost).
    func applyPage(
        _ items: [(plan: RecordPlan, home: String?, expectedHash: ContentDigest?)], cursor: Int64?, anchor: FeedAnchor? = nil, now: Double
    ) throws -> [AppliedPlan] {
        let folders = FolderCache(root: writer.root, modes: writer.modes)
        defer { folders.close() }
        var staged: [Int: RecordFileWriter.Staged] = [:]
        var failures: [Int: RecordWriteError] = [:]
        for (index, item) in items.enumerated() {
            switch stage(item.plan, home: item.home, expectedHash: item.expectedHash, folders: folders) {
            case .success(let file?): staged[index] = file
            case .success(nil): continue
            case .failure(let error): failures[index] = error
            }
        }
        if !staged.isEmpty { folders.flush() }
        var results = items.map { AppliedPlan(report: $0.plan.report) }
        for index in staged.keys.sorted() {
            switch Result(catching: { () throws(RecordWriteError) in try writer.place(staged[index]!) }) {
            case .success(let entry?): results[index].savedFile = entry
            case .success(nil): results[index].removedFile = staged[index]!.relativePath
            case .failure(let error): failures[index] = error
            }
        }
        if !staged.isEmpty { folders.syncAll() }
        var writes: [StoreWrite] = []
        for (index, item) in items.enumerated() {
            if let failure = failures[index] {
                let kept = item.plan.onFileFailure?.changes(key: item.plan.key, error: failure.description) ?? []
                writes += kept.map { Self.write($0, now: now) }
                var report = SyncReport()
                report.unapplied = 1
                results[index] = AppliedPlan(report: report, failure: failure)
                continue
            }
            if let entry = results[index].savedFile { writes.append(.saveFile(entry)) }
            if let removed = results[index].removedFile { writes.append(.removeFile(removed)) }
            writes += item.plan.changes.map { Self.write($0, now: now) }
        }
        if let cursor { writes.append(.setCursor(cursor, anchor: anchor)) }
        try commit(writes, plans: items.map(\.plan), outcomes: results)
        return results
    }

    /// Commits `writes`; if that fails after a file was written or removed, the
    /// failure carries them to be committed later (`HeldCommit`).
    private func commit(_ writes: [StoreWrite], plans: [RecordPlan], outcomes: [AppliedPlan]) throws {
        do {
            try store.commit(writes)
        } catch {
            guard outcomes.contains(where: { $0.savedFile != nil || $0.removedFile != nil }), StateStore.mayPass(error) else { throw error }
            throw CommitAfterWritesFailed(held: HeldCommit(writes: writes, plans: plans, outcomes: outcomes), underlying: error)
        }
    }

    /// A plan's file staged without fsync (nil: it has no file action).
    private func stage(
        _ plan: RecordPlan, home: String?, expectedHash: ContentDigest?, folders: FolderCache
    ) -> Result<RecordFileWriter.Staged?, RecordWriteError> {
        do {
            switch plan.file {
            case .none:
                return .success(nil)
            case .write(let fields):
                return .success(
                    try writer.stage(Record(key: plan.key, fields: fields), in: home, expectedHash: expectedHash, folders: folders, durable: false))
            case .remove:
                guard let home else { return .success(nil) }
                return .success(try writer.stageRemoval(plan.key, from: home, expectedHash: expectedHash, folders: folders, durable: false))
            }
        } catch {
            return .failure(error)
        }
    }

    /// Commits changes that touch no file (push outcomes) for many records at once.
    func commit(_ changes: [StateChange], now: Double) throws {
        try store.commit(changes.map { Self.write($0, now: now) })
    }

    static func write(_ change: StateChange, now: Double) -> StoreWrite {
        switch change {
        case .saveBase(let base): .saveBase(base)
        case .enqueue(let key, let kind, let baseRev, let fields, let changedAt):
            .enqueue(key: key, kind: kind, baseRev: baseRev, fields: fields, changedAt: changedAt)
        case .dropOperation(let operation): .dropOperation(operation)
        case .reschedule(let operation, let at, let error): .reschedule(operation, at: at, error: error)
        case .setConflicts(let key, let conflicts): .setConflicts(key, conflicts)
        case .event(let type, let record, let summary): .event(type: type, record: record, summary: summary, at: now)
        case .markUnapplied(let key, let rev, let attempts, let nextAttemptAt, let error):
            .markUnapplied(key, rev: rev, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error, now: now)
        case .clearUnapplied(let key): .clearUnapplied(key)
        }
    }
}
