import AccordCore
import AccordFiles
import AccordStore

#if canImport(Glibc)
    import Glibc
#endif

/// The sync module's API: `scan` the root into the outbox, `push` the outbox to the
/// hub, `pull` the hub's changes into the files; `syncOnce` does all three. The daemon
/// only wires these to events. State lives in `StateStore`, so any step can be killed
/// and started again.
public actor SyncEngine {
    public private(set) var settings: SyncSettings
    let store: StateStore
    public private(set) var hub: HubClient
    let writer: RecordFileWriter
    var locations: [RecordKey: String] = [:]
    var index: [String: FileIndexEntry] = [:]
    var randomness = SystemRandomNumberGenerator()
    /// Keys the last look at the root found broken, invalid or duplicated: never
    /// overwritten or deleted by a pull until fixed.
    var protectedKeys: Set<RecordKey> = []
    /// Keys with an unapplied hub change (mirrors the store, so the common case of
    /// none costs no query).
    var unappliedKeys: Set<RecordKey> = []
    /// Invalid input by file, for status: replaced per file by each look at it.
    private var problemsByPath: [String: [RecordProblem]] = [:]
    /// Deletions the mass-delete guard holds back, and why.
    public private(set) var heldDeletions: [RecordKey] = []
    public private(set) var holdReason: String?
    private var deletionsAllowed = false
    private var vanishing: Set<RecordKey> = []
    private var vanishingSince = 0.0
    /// When deletions seen by the last scan may go (a rescan is due then), if any wait.
    public private(set) var deletionsSettleAt: Double?

    public init(settings: SyncSettings, store: StateStore, hub: HubClient) throws {
        self.settings = settings
        self.store = store
        self.hub = hub
        writer = RecordFileWriter(root: settings.root, modes: settings.modes, maxRecordBytes: settings.maxRecordBytes)
        index = try store.fileIndex()
        unappliedKeys = try store.unappliedKeys()
        if let hold = try store.setting(Self.holdSetting) {
            holdReason = hold
            heldDeletions = try store.setting(Self.heldKeysSetting)?.split(separator: "\n").compactMap { RecordKey(String($0)) } ?? []
        }
    }

    static let holdSetting = "hold_reason"
    static let heldKeysSetting = "held_deletions"

    /// The retry policy's delay before attempt `attempt + 1`, with jitter.
    public func retryDelay(attempt: Int, retryAfter: Double? = nil) -> Double {
        settings.retry.delay(attempt: attempt, random: Double.random(in: 0..<1, using: &randomness), retryAfter: retryAfter)
    }

    /// Rescans the root and queues every local change. Returns the scan's problems
    /// (invalid input, never pushed) and how many operations were queued.
    @discardableResult
    public func scan() throws -> (queued: Int, problems: [RecordProblem]) {
        let scanner = RootScanner(root: settings.root, schemas: settings.schemas, ignore: settings.ignore, maxRecordBytes: settings.maxRecordBytes)
        let held = settings.policy == .manual ? Set(try store.openConflicts().map(\.key)) : []
        let now = Clock.now()
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
        // Deletions: live bases found nowhere in the root (and not protected), unless
        // the mass-delete guard holds them.
        let liveKeys = try store.liveBaseKeys()
        let vanished = liveKeys.subtracting(result.present).subtracting(result.protected)
        var deletions = Differ.changes(
            scanned: [:], present: result.present, protected: result.protected, held: held, bases: try store.bases(vanished),
            pending: try store.pendingOperations(vanished))
        // Deletions wait until the set of vanished records stops changing for
        // `deleteSettleSeconds`: an `rm -rf` removes files one at a time, and the guard
        // must judge the whole of it, not its first few files.
        let vanishingNow = Set(deletions.map(\.key))
        if vanishingNow != vanishing {
            vanishing = vanishingNow
            vanishingSince = now
        }
        if !deletions.isEmpty, !deletionsAllowed, now - vanishingSince < settings.deleteSettleSeconds {
            deletionsSettleAt = vanishingSince + settings.deleteSettleSeconds
            deletions = []
        } else {
            deletionsSettleAt = nil
        }
        let verdict = DeleteGuard.check(
            deletions: deletions.count, liveRecords: liveKeys.count, rootReadable: Self.isReadableFolder(settings.root),
            rootEmpty: result.index.isEmpty && result.problems.isEmpty, maxDeletePercent: settings.maxDeletePercent)
        if case .hold(let reason) = verdict, !deletionsAllowed {
            if holdReason != reason || heldDeletions.count != deletions.count {
                try store.recordEvent(
                    type: "held", record: "", summary: "\(deletions.count) deletions held: \(reason); run accordctl resume --allow-deletes to let them through",
                    at: now)
            }
            heldDeletions = deletions.map(\.key)
            holdReason = reason
            deletions = []
        } else {
            heldDeletions = []
            holdReason = nil
        }
        try saveHold()
        deletionsAllowed = false
        problemsByPath = Dictionary(grouping: result.problems, by: \.path)
        // The index moves with the last of the changes: a crash before re-reads the same
        // files and finds their changes already queued.
        try store.applyScan(
            enqueue: deletions.map { ($0.key, .delete, $0.baseRev, nil, now) },
            saveFiles: result.index.compactMap { index[$0.key] == $0.value ? nil : $0.value },
            removeFiles: index.keys.filter { result.index[$0] == nil })
        index = result.index
        locations = result.locations
        protectedKeys = result.protected
        return (queued.count + deletions.count, result.problems)
    }

    /// The fast path for the watcher: looks only at `paths` (root-relative). Falls back
    /// to a full scan whenever these files alone cannot tell the truth: a folder or a
    /// link changed, a record appeared that lives in another file too (a move or a
    /// duplicate), or a record left these files (a move or a delete: the full scan
    /// tells them apart, and applies the mass-delete guard).
    @discardableResult
    public func scan(paths: [String]) throws -> (queued: Int, problems: [RecordProblem], fullScan: Bool) {
        if holdReason != nil { return try fullScan() }
        let scanner = RootScanner(root: settings.root, schemas: settings.schemas, ignore: settings.ignore, maxRecordBytes: settings.maxRecordBytes)
        guard let found = scanner.scanFiles(paths, previous: index) else { return try fullScan() }
        let looked = Set(paths)
        var scanned: [RecordKey: JSONObject] = [:]
        var modified: [RecordKey: Double] = [:]
        var place: [RecordKey: String] = [:]
        for record in found.records {
            if scanned[record.key] != nil { return try fullScan() }  // a duplicate
            if let home = locations[record.key], home != record.path, !looked.contains(home) { return try fullScan() }
            scanned[record.key] = record.fields
            modified[record.key] = record.modified
            place[record.key] = record.path
        }
        let held = settings.policy == .manual ? Set(try store.openConflicts().map(\.key)) : []
        for path in looked {
            for key in index[path]?.records ?? [] where scanned[key] == nil && !found.protected.contains(key) {
                if locations[key] == path, !held.contains(key) { return try fullScan() }
            }
        }
        let now = Clock.now()
        let keys = Array(scanned.keys)
        let changes = Differ.changes(
            scanned: scanned, present: Set(keys), protected: [], held: held, bases: try store.bases(keys), pending: try store.pendingOperations(keys))
        try store.applyScan(
            enqueue: changes.map { ($0.key, .put, $0.baseRev, scanned[$0.key], min(modified[$0.key] ?? now, now)) }, saveFiles: found.saved,
            removeFiles: found.removed)
        for entry in found.saved { index[entry.path] = entry }
        for path in found.removed { index[path] = nil }
        for (key, path) in place { locations[key] = path }
        for (path, problems) in found.problems { problemsByPath[path] = problems.isEmpty ? nil : problems }
        protectedKeys.formUnion(found.protected)
        for key in scanned.keys { protectedKeys.remove(key) }
        return (changes.count, found.problems.values.flatMap { $0 }, false)
    }

    private func fullScan() throws -> (queued: Int, problems: [RecordProblem], fullScan: Bool) {
        let (queued, problems) = try scan()
        return (queued, problems, true)
    }

    /// Every invalid input the last looks found, for status.
    public var problems: [RecordProblem] {
        problemsByPath.keys.sorted().flatMap { problemsByPath[$0] ?? [] }
    }

    /// Lets the deletions the guard holds through on the next scan
    /// (`accordctl resume --allow-deletes`).
    public func allowDeletions() {
        deletionsAllowed = true
    }

    /// A config reload: policy, ignore globs and the rest take effect from the next step.
    public func reconfigure(_ settings: SyncSettings, hub: HubClient? = nil) {
        self.settings = settings
        if let hub { self.hub = hub }
    }

    /// The position in the hub's changes feed up to which everything is applied.
    public func cursor() throws -> Int64 { try store.cursor() }

    /// The hub is back: operations waiting out a backoff may go now.
    public func retryNow() throws { try store.retryAllNow(now: Clock.now()) }

    /// When the earliest waiting operation may be tried again (nil: the outbox is empty).
    public func nextAttemptTime() throws -> Double? { try store.nextAttemptTime() }

    static func isReadableFolder(_ path: String) -> Bool {
        guard let handle = opendir(path) else { return false }
        closedir(handle)
        return true
    }

    /// Sends every due operation, `pushConcurrency` at a time, until none is due.
    public func push() async throws -> SyncReport {
        var report = SyncReport()
        // Rounds continue while operations are acknowledged or resolved; a round that
        // only reschedules (the hub is down) ends the push until the next call.
        while true {
            let due = try store.dueOperations(now: Clock.now(), limit: settings.pushConcurrency * 8)
            if due.isEmpty { break }
            let hub = self.hub
            let results = await withTaskGroup(of: (OutboxOperation, Result<HubWriteResult, HubError>).self) { group in
                var results: [(OutboxOperation, Result<HubWriteResult, HubError>)] = []
                var iterator = due.makeIterator()
                for _ in 0..<settings.pushConcurrency {
                    guard let operation = iterator.next() else { break }
                    group.addTask { (operation, await Self.send(operation, to: hub)) }
                }
                while let result = await group.next() {
                    results.append(result)
                    if let operation = iterator.next() { group.addTask { (operation, await Self.send(operation, to: hub)) } }
                }
                return results
            }
            var progressed = false
            let applied = results.compactMap { item -> (OutboxOperation, RemoteRecord)? in
                if case .success(.applied(let remote)) = item.1 { return (item.0, remote) }
                return nil
            }
            let oldBases = try store.bases(applied.map(\.0.key))
            try store.completeAll(
                applied.map { operation, remote in
                    let summary = EventSummary.describe(old: oldBases[operation.key]?.liveFields, new: remote.liveFields)
                    return (operation, remote, (type: "pushed", summary: summary))
                }, at: Clock.now())
            report.pushed += applied.count
            progressed = !applied.isEmpty
            for (operation, result) in results {
                switch result {
                case .success(.applied):
                    continue
                case .success(.preconditionFailed(let current)):
                    do {
                        try await reconcile(
                            operation.key, local: operation.kind == .put ? operation.fields : nil, remote: current, operation: operation, report: &report)
                    } catch let error as UnappliedError {
                        try noteUnapplied(operation.key, rev: current?.rev ?? "", error: error.description, report: &report)
                    }
                    progressed = true
                case .failure(.rejected(let status, let detail)):
                    // Retrying cannot help; the operation waits for the next local change.
                    try store.reschedule(operation, nextAttemptAt: .greatestFiniteMagnitude, error: "\(status): \(detail)")
                    try store.recordEvent(type: "rejected", record: operation.key.description, summary: "\(status): \(detail)", at: Clock.now())
                    report.rejected += 1
                case .failure(let error):
                    let after: Double?
                    if case .retryable(_, let retryAfter) = error { after = retryAfter } else { after = nil }
                    let delay = retryDelay(attempt: operation.attempts, retryAfter: after)
                    try store.reschedule(operation, nextAttemptAt: Clock.now() + delay, error: error.description)
                    report.retrying += 1
                    report.unreachable = error.description
                }
            }
            if !progressed { break }
        }
        return report
    }

    /// Scan, push, pull until the hub has nothing new: one manual sync.
    public func syncOnce() async throws -> SyncReport {
        var report = SyncReport()
        report.queued = try scan().queued
        try retryUnappliedNow()
        for _ in 0..<100 {
            let pushed = try await push()
            var pulled = try await pull()
            if pulled.unapplied == 0 { pulled.add(try await retryUnapplied()) }
            report.add(pushed)
            report.add(pulled)
            let due = try store.dueOperations(now: Clock.now(), limit: 1)
            if pulled.pulled == 0 && pulled.merged == 0 && due.isEmpty { break }
        }
        return report
    }

    // MARK: Reconciling

    /// Both sides changed `key`: merge base, local and remote under the policy, write
    /// the merge into the file, and queue it for the hub unless the hub already has it.
    func reconcile(_ key: RecordKey, local: JSONObject?, remote: RemoteRecord?, operation: OutboxOperation?, report: inout SyncReport) async throws {
        guard let remote else {
            // The hub does not know the record at all (our base is from elsewhere): create it.
            if let local { try store.enqueue(key, .put, baseRev: nil, fields: local, now: Clock.now()) }
            return
        }
        let base = try store.base(key)
        let baseFields = base?.liveFields
        let remoteFields = remote.liveFields
        // `newest` compares the local file's mtime with the time the hub took its version.
        let remoteTime = settings.policy == .newest ? try? await hub.revisionTime(key, rev: remote.rev) : nil
        let localTime = settings.policy == .newest ? operation?.changedAt ?? locations[key].flatMap(modifiedTime) : nil
        let result = ThreeWayMerge.merge(
            base: baseFields, local: local, remote: remoteFields, policy: settings.policy, localChangedAt: localTime, remoteChangedAt: remoteTime)
        let now = Clock.now()
        let stored = result.openConflicts.map {
            StoredConflict(key: key, path: $0.path, base: $0.base, local: $0.local, remote: $0.remote, remoteRev: remote.rev, createdAt: now)
        }
        try store.setConflicts(key, stored)
        for conflict in result.conflicts {
            try store.recordEvent(type: "conflict", record: key.description, summary: conflict.description, at: now)
            report.conflicts += 1
        }
        if result.isHeld {
            if let operation { try store.discard(operation) }
            return
        }
        let merged = result.merged
        if merged != local {
            do {
                try writeLocal(key, merged)
            } catch let error as RecordWriteError {
                // The merge could not reach the file: the operation waits out a backoff
                // (it would only meet the same 412 again) and the hub's version is kept
                // as unapplied, retried until the write succeeds.
                if let operation {
                    try store.reschedule(operation, nextAttemptAt: now + retryDelay(attempt: operation.attempts), error: error.description)
                }
                throw UnappliedError(error.description)
            }
        }
        if merged == remoteFields {
            if let operation { try store.discard(operation) }
            try store.saveBase(remote)
        } else if let merged {
            try store.saveBase(remote)
            try store.enqueue(key, .put, baseRev: remote.rev, fields: merged, now: now)
        } else {
            try store.saveBase(remote)
            try store.enqueue(key, .delete, baseRev: remote.rev, fields: nil, now: now)
        }
        try store.recordEvent(
            type: "merged", record: key.description,
            summary: EventSummary.describe(old: remoteFields, new: merged), at: now)
        report.merged += 1
    }

    // MARK: Local files

    private func modifiedTime(_ relativePath: String) -> Double? {
        var info = stat()
        guard stat(settings.root + "/" + relativePath, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// The record's fields as the root holds them now, or nil if it is not there.
    func readLocal(_ key: RecordKey) throws -> JSONObject? {
        guard let path = locations[key], let format = RecordFileFormat(path: path) else { return nil }
        guard let bytes = try? FileReader.readRegularFile(settings.root + "/" + path) else { return nil }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: format, maxRecordBytes: settings.maxRecordBytes)
        return parsed.records.first { $0.record.key == key }?.record.fields
    }

    /// Writes (or removes, for nil) the record in the root and records the file's new
    /// state in the index. Throws when it could not (nothing changed on disk then).
    func writeLocal(_ key: RecordKey, _ fields: JSONObject?) throws {
        let path = locations[key]
        if let fields {
            let entry = try writer.write(Record(key: key, fields: fields), in: path, expectedHash: path.flatMap { index[$0]?.hash })
            index[entry.path] = entry
            locations[key] = entry.path
            try store.saveFile(entry)
        } else if let path {
            if let entry = try writer.remove(key, from: path, expectedHash: index[path]?.hash) {
                index[path] = entry
                try store.saveFile(entry)
            } else {
                index[path] = nil
                try store.removeFile(path)
            }
            locations[key] = nil
        }
    }

    private static func send(_ operation: OutboxOperation, to hub: HubClient) async -> Result<HubWriteResult, HubError> {
        do {
            switch operation.kind {
            case .put:
                return .success(
                    try await hub.put(
                        operation.key, fields: operation.fields ?? JSONObject(), baseRev: operation.baseRev, idempotencyKey: operation.idempotencyKey))
            case .delete:
                guard let baseRev = operation.baseRev else {
                    return .success(.applied(RemoteRecord(key: operation.key, rev: "", deleted: true, fields: JSONObject())))
                }
                return .success(try await hub.delete(operation.key, baseRev: baseRev, idempotencyKey: operation.idempotencyKey))
            }
        } catch {
            return .failure(error)
        }
    }
}

extension SyncReport {
    public mutating func add(_ other: SyncReport) {
        queued += other.queued
        pushed += other.pushed
        pulled += other.pulled
        merged += other.merged
        conflicts += other.conflicts
        rejected += other.rejected
        retrying += other.retrying
        problems += other.problems
        unapplied += other.unapplied
        unreachable = other.unreachable ?? unreachable
    }
}
