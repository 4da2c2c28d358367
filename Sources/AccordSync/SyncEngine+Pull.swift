import AccordCore
import AccordStore

/// A hub change that cannot be applied to the root now; the reason, for status.
struct UnappliedError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

extension SyncEngine {
    /// Applies one page of the hub's changes (waiting up to `waitSeconds` for one).
    ///
    /// No single change stops the feed: one that cannot be applied (its write failed,
    /// the root holds the record twice or invalid, the hub's answer for it is
    /// unreadable) is kept as unapplied, durably, and retried with backoff
    /// (`retryUnapplied`); the changes after it still flow. The cursor moves once the
    /// page's writes are on disk or kept. A failure that may pass (the network, a
    /// 5xx) stops the page where it is: the cursor stays and the page is read again.
    public func pull(waitSeconds: Int = 0) async throws -> SyncReport {
        var report = SyncReport()
        // While deletions are held the root may be an empty mount point: writing the
        // hub's records into it would hide the real disk. Nothing is pulled until then.
        guard holdReason == nil else { return report }
        let cursor = try store.cursor()
        let page = try await hub.changes(since: cursor, limit: settings.pullPageSize, waitSeconds: waitSeconds)
        if page.changes.contains(where: { (try? store.base($0.key))??.rev != $0.rev }) {
            try scan()  // know where every record lives before writing into the root
        }
        for change in page.changes {
            try await apply(change.key, announcedRev: change.rev, report: &report)
        }
        if page.lastSeq != cursor { try store.setCursor(page.lastSeq) }
        return report
    }

    /// Tries again the unapplied changes whose time has come.
    public func retryUnapplied() async throws -> SyncReport {
        var report = SyncReport()
        guard holdReason == nil, !unappliedKeys.isEmpty else { return report }
        let due = try store.dueUnapplied(now: Clock.now(), limit: settings.pullPageSize)
        if !due.isEmpty, locations.isEmpty { try scan() }
        for entry in due {
            try await apply(entry.key, announcedRev: entry.rev, report: &report)
        }
        return report
    }

    /// When the earliest unapplied change may be tried again (nil: none waits).
    public func nextUnappliedTime() throws -> Double? {
        unappliedKeys.isEmpty ? nil : try store.nextUnappliedTime()
    }

    /// Makes every unapplied change due now (a manual sync).
    public func retryUnappliedNow() throws {
        if !unappliedKeys.isEmpty { try store.retryUnappliedNow(now: Clock.now()) }
    }

    /// Brings the hub's current version of `key` into the root, merging it with a
    /// local change if there is one. Throws only what may pass (a retryable
    /// `HubError`); anything else is kept as unapplied.
    private func apply(_ key: RecordKey, announcedRev: String, report: inout SyncReport) async throws {
        let base = try store.base(key)
        if base?.rev == announcedRev {  // our own write coming back, or applied already
            try clearUnapplied(key)
            return
        }
        do {
            guard let remote = try await hub.record(key), remote.rev != base?.rev else {
                try clearUnapplied(key)
                return
            }
            if protectedKeys.contains(key) {
                throw UnappliedError(
                    "\(key) is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow")
            }
            if let fields = remote.liveFields, JSONValue.object(fields).depth > Record.maxDepth {
                throw UnappliedError(
                    "the hub's version of \(key) nests \(JSONValue.object(fields).depth) levels, over \(Record.maxDepth); fix it on the hub")
            }
            let pending = try store.pendingOperation(key)
            let local = try readLocal(key)
            let baseFields = base?.liveFields
            if pending == nil, local == baseFields {
                do {
                    try writeLocal(key, remote.liveFields)
                } catch let error as RecordWriteError {
                    throw UnappliedError(error.description)
                }
                try store.saveBase(remote)
                try store.recordEvent(
                    type: "pulled", record: key.description, summary: EventSummary.describe(old: baseFields, new: remote.liveFields), at: Clock.now())
                report.pulled += 1
            } else {
                try await reconcile(key, local: local, remote: remote, operation: pending, report: &report)
            }
            try clearUnapplied(key)
        } catch let error as HubError {
            if case .retryable = error { throw error }
            try noteUnapplied(key, rev: announcedRev, error: error.description, report: &report)
        } catch let error as UnappliedError {
            try noteUnapplied(key, rev: announcedRev, error: error.description, report: &report)
        }
    }

    /// Keeps a change that could not be applied, with its next try after the retry
    /// policy's delay; logs an event the first time and whenever the reason changes.
    func noteUnapplied(_ key: RecordKey, rev: String, error: String, report: inout SyncReport) throws {
        let now = Clock.now()
        let existing = unappliedKeys.contains(key) ? try store.unapplied(key) : nil
        let attempts = existing.map { $0.attempts + 1 } ?? 0
        try store.markUnapplied(key, rev: rev, attempts: attempts, nextAttemptAt: now + retryDelay(attempt: attempts), error: error, now: now)
        if existing?.lastError != error {
            try store.recordEvent(type: "deferred", record: key.description, summary: error, at: now)
        }
        unappliedKeys.insert(key)
        report.unapplied += 1
    }

    private func clearUnapplied(_ key: RecordKey) throws {
        guard unappliedKeys.contains(key) else { return }
        try store.clearUnapplied(key)
        unappliedKeys.remove(key)
    }

    /// The mass-delete guard's hold, kept in the state so a restart keeps it.
    func saveHold() throws {
        let stored = try store.setting(Self.holdSetting)
        guard stored != holdReason else { return }
        try store.setSetting(Self.holdSetting, holdReason)
        try store.setSetting(Self.heldKeysSetting, holdReason == nil ? nil : heldDeletions.map(\.description).joined(separator: "\n"))
    }

    /// Whether the replica is paused, kept in the state so a restart stays paused.
    public func pausedInState() throws -> Bool {
        try store.setting(Self.pausedSetting) == "1"
    }

    public func savePaused(_ paused: Bool) throws {
        try store.setSetting(Self.pausedSetting, paused ? "1" : nil)
    }

    static var pausedSetting: String { "paused" }

    /// The unapplied changes for status (at most `limit`) and how many there are.
    public func unappliedChanges(limit: Int) throws -> (list: [UnappliedChange], count: Int) {
        unappliedKeys.isEmpty ? ([], 0) : try store.unappliedChanges(limit: limit)
    }
}
