import AccordCore
import AccordFiles
import AccordStore

#if canImport(Glibc)
    import Glibc
#endif

/// The sync module's API: `scan` the root into the outbox, `push` the outbox to the
/// hub, `pull` the hub's changes into the files; `syncOnce` does all three.
///
/// Its shape is plan, then apply: each step gathers values (the scan, the bases, the
/// outbox, the hub's answers), asks a pure planner what they mean (`Differ`,
/// `DeletionPlanner`, `PushPlanner`, `IncomingPlanner`) and hands the plan to
/// `PlanApplier`, which writes the file first and then commits the state in one
/// transaction. State lives in `StateStore`, so any step can be killed and started
/// again. Time and jitter are injected (`SyncClock`, `JitterSource`).
///
/// One owner: the daemon's `SyncLoop` is the only holder of an engine, and runs one
/// step at a time.
package actor SyncEngine {
    package private(set) var settings: SyncSettings
    let store: StateStore
    package private(set) var hub: HubClient
    let clock: any SyncClock
    let jitter: any JitterSource
    var applier: PlanApplier
    /// What the last look saw of each file, and where each record lives: a mirror of
    /// the root, kept with every write.
    var index = RootIndex()
    /// Keys the last look at the root found broken, invalid or duplicated: never
    /// overwritten or deleted by a pull until fixed.
    var protectedKeys: Set<RecordKey> = []
    /// Keys with an unapplied hub change (mirrors the store, so the common case of
    /// none costs no query).
    var unappliedKeys: Set<RecordKey> = []
    /// Invalid input by file, for status: replaced per file by each look at it.
    var problemsByPath: [String: [RecordProblem]] = [:]
    /// Deletions the mass-delete guard holds back, and why.
    package internal(set) var heldDeletions: [RecordKey] = []
    package internal(set) var holdReason: String?
    var deletionsAllowed = false
    var settle: DeleteSettle
    /// When deletions seen by the last scan may go (a rescan is due then), if any wait.
    package internal(set) var deletionsSettleAt: Double?
    /// The hub's feed is one this root cannot follow at the last look (`feedProblem`,
    /// `anchorProblem`): nothing is pushed to it either, since its 412s would bring in
    /// versions older than this root's bases.
    package internal(set) var hubBehind: HubError?
    /// The hub's feed has been looked at, anchor and all, since this engine started,
    /// was given another hub or lost it (`hubLost`). Until then it may be behind
    /// (restored while the daemon was down or the hub away), so the first push looks
    /// first (`lookAtFeed`) and the first page is checked against the anchor.
    var feedLooked = false
    /// How many times the hub was lost (`hubLost`): a look at the feed that a loss
    /// overtook does not count.
    var hubLosses = 0
    /// The hub client's moves to another hub at the last look at the feed.
    var movesAtLook = 0
    /// The hub failed every send of a round: no push before then, whatever the backlog
    /// (each operation's own backoff would hit a down hub in proportion to it).
    var pushHoldUntil: Double?
    /// Push rounds in a row in which every send failed.
    var failedRounds = 0
    /// A full scan has placed every record of the root (pulls rely on it).
    var scannedOnce = false
    /// State changes of files written whose commit failed, committed before anything
    /// else (`commitHeld`).
    var heldCommit: HeldCommit?
    /// The records whose bases a push, merge, revert or resolve moved, and when: a
    /// feed page read before does not bring their replaced versions back (`apply`).
    var movedBases = MovedBases()
    /// Moves of bases so far, noted by the feed before each long-poll.
    package var basesMoved: Int { movedBases.count }

    static let holdSetting = "hold_reason"
    static let heldKeysSetting = "held_deletions"
    static let pausedSetting = "paused"
    static let lastSyncSetting = "last_sync"

    package init(
        settings: SyncSettings, store: StateStore, hub: HubClient, clock: any SyncClock = WallClock(), jitter: any JitterSource = SystemJitter()
    )
        throws
    {
        self.settings = settings
        self.store = store
        self.hub = hub
        self.clock = clock
        self.jitter = jitter
        applier = PlanApplier(writer: Self.writer(settings), store: store)
        settle = DeleteSettle(window: settings.deleteSettleSeconds)
        var loaded = RootIndex()
        try store.forEachFile { loaded.set($0) }
        index = loaded
        unappliedKeys = try store.unappliedKeys()
        if let hold = try store.setting(Self.holdSetting) {
            holdReason = hold
            heldDeletions = try store.setting(Self.heldKeysSetting)?.split(separator: "\n").compactMap { RecordKey(String($0)) } ?? []
        }
    }

    static func writer(_ settings: SyncSettings) -> RecordFileWriter {
        RecordFileWriter(root: settings.root, modes: settings.modes, maxRecordBytes: settings.maxRecordBytes)
    }

    /// A config reload: policy, ignore globs and the rest take effect from the next step.
    package func reconfigure(_ settings: SyncSettings, hub: HubClient? = nil) {
        self.settings = settings
        settle.window = settings.deleteSettleSeconds
        applier = PlanApplier(writer: Self.writer(settings), store: store)
        if let hub {
            self.hub = hub
            feedLooked = false
        }
    }

    /// The hub could not be reached or answered that it cannot serve (a 503 while it
    /// shuts down or lost its database): it may come back restored from a backup, so its
    /// feed is looked at again, anchor and all, before anything more is pushed or
    /// pulled.
    package func hubLost() {
        feedLooked = false
        hubLosses += 1
    }

    /// The retry policy's delay before attempt `attempt + 1`, with jitter.
    package func retryDelay(attempt: Int, retryAfter: Double? = nil) -> Double {
        settings.retry.delay(attempt: attempt, random: jitter.next(), retryAfter: retryAfter)
    }

    /// Scan, push, pull until the hub has nothing new: one manual sync.
    /// An operation the hub asked to retry within this many seconds (a 409 while its
    /// first try is still being processed, a short Retry-After) is waited for.
    static let shortRetrySeconds = 3.0

    package func syncOnce() async throws -> SyncReport {
        var report = SyncReport()
        report.queued = try scan().queued
        try retryUnappliedNow()
        for _ in 0..<100 {
            let pushed = try await push()
            var pulled = try await pull()
            if pulled.unapplied == 0 { pulled.add(try await retryUnapplied()) }
            report.add(pushed)
            report.add(pulled)
            let due = try store.dueOperations(now: clock.now(), limit: 1)
            if pulled.pulled == 0 && pulled.merged == 0 && due.isEmpty {
                // A one-shot sync waits out a retry that is seconds away rather than
                // stop with the change still pending.
                guard pushed.pushed > 0 || pushed.retrying > 0, let next = try nextAttemptTime(), next - clock.now() <= Self.shortRetrySeconds else { break }
                try await Task.sleep(for: .milliseconds(Int(max(0, next - clock.now()) * 1000) + 10))
                try retryNow()
            }
        }
        return report
    }

    /// Operations still waiting for the hub.
    package func pendingCount() throws -> Int { try store.pendingCount() }

    // MARK: Carrying out plans

    /// Carries out a record's plan and mirrors what it did to the root in memory.
    @discardableResult
    func carryOut(_ plan: RecordPlan) throws -> AppliedPlan {
        try commitHeld()
        movedBases.moved([plan.key])
        let home = index.location(of: plan.key)
        let applied = try holdingFailedCommit { try applier.apply(plan, home: home, expectedHash: home.flatMap { index.digest(at: $0) }, now: clock.now()) }
        mirror(plan, applied)
        return applied
    }

    /// Commits the state of files written whose commit failed before (`HeldCommit`),
    /// if there is any; throws if it fails again. Every step that reads the root or
    /// the state to decide something, or writes either, calls it first, and the
    /// daemon tries it once more when it stops.
    package func commitHeld() throws {
        guard let held = heldCommit else { return }
        try store.commit(held.writes)
        heldCommit = nil
        for (plan, outcome) in zip(held.plans, held.outcomes) { mirror(plan, outcome) }
    }

    /// Runs `body`; a commit it makes that fails after writing files is held for
    /// later (`HeldCommit`), and its cause thrown.
    private func holdingFailedCommit<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failed as CommitAfterWritesFailed {
            heldCommit = failed.held
            throw failed.underlying
        }
    }

    /// Carries out a page's plans together: every file staged, one flush, every file
    /// placed, one fsync per folder, then one commit for all of it and the cursor
    /// (`PlanApplier.applyPage`). Plans that write the same file (lines of one
    /// `.jsonl`) go in successive passes, each reading what the last one wrote.
    func carryOut(_ plans: [RecordPlan], cursor: Int64, anchor: FeedAnchor? = nil) throws -> SyncReport {
        try commitHeld()
        var report = SyncReport()
        var remaining = plans
        repeat {
            var pass: [RecordPlan] = []
            var later: [RecordPlan] = []
            var targets: Set<String> = []
            for plan in remaining {
                let target = index.location(of: plan.key) ?? "\(plan.key.kind)/\(plan.key.id).json"
                if plan.file != .none, !targets.insert(target).inserted { later.append(plan) } else { pass.append(plan) }
            }
            let items = pass.map { plan in
                let home = index.location(of: plan.key)
                return (plan: plan, home: home, expectedHash: home.flatMap { index.digest(at: $0) })
            }
            let applied = try holdingFailedCommit { try applier.applyPage(items, cursor: later.isEmpty ? cursor : nil, anchor: anchor, now: clock.now()) }
            for (plan, outcome) in zip(pass, applied) {
                mirror(plan, outcome)
                report.add(outcome.report)
            }
            remaining = later
        } while !remaining.isEmpty
        return report
    }

    /// Mirrors in memory what carrying out a plan did to the root.
    private func mirror(_ plan: RecordPlan, _ applied: AppliedPlan) {
        if let entry = applied.savedFile { index.set(entry) }
        if let removed = applied.removedFile { index.remove(removed) }
        for change in plan.changes where applied.failure == nil {
            if case .clearUnapplied(let key) = change { unappliedKeys.remove(key) }
        }
        if applied.failure != nil || plan.changes.contains(where: { if case .markUnapplied = $0 { true } else { false } }) {
            unappliedKeys.insert(plan.key)
        }
    }

    /// The record's fields as the root holds them now, or nil if it is not there.
    func readLocal(_ key: RecordKey) throws -> JSONObject? {
        guard let path = index.location(of: key), let format = RecordFileFormat(path: path) else { return nil }
        guard let bytes = try? FileReader.readRegularFile(settings.root + "/" + path) else { return nil }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: format, maxRecordBytes: settings.maxRecordBytes)
        return parsed.records.first { $0.record.key == key }?.record.fields
    }

    /// What the root holds of `key`, as the planner takes it.
    func localVersion(_ key: RecordKey) throws -> LocalVersion {
        if protectedKeys.contains(key) {
            return .held("\(key) is invalid, defined twice or excluded by ignore in the root, so the hub's version is held back; fix that and it will follow")
        }
        guard let fields = try readLocal(key) else {
            // A record with no home would land at <kind>/<id>.json: not where the user
            // said nothing is synced.
            let home = "\(key.kind)/\(key.id).json"
            if index.location(of: key) == nil, settings.ignore.isIgnored(home) {
                return .held("\(key) would be written to \(home), which the ignore globs exclude; change ignore to receive it")
            }
            return .absent
        }
        return .present(fields, changedAt: index.location(of: key).flatMap(modifiedTime))
    }

    private func modifiedTime(_ relativePath: String) -> Double? {
        var info = stat()
        guard stat(settings.root + "/" + relativePath, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    static func isReadableFolder(_ path: String) -> Bool {
        guard let handle = opendir(path) else { return false }
        closedir(handle)
        return true
    }
}

extension SyncReport {
    package mutating func add(_ other: SyncReport) {
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
