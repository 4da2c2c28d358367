import AccordCore
import AccordStore

extension SyncEngine {
    /// Applies one page of the hub's changes (waiting up to `waitSeconds` for one).
    ///
    /// No single change stops the feed: one that cannot be applied (its write failed,
    /// the root holds the record twice or invalid, the hub's answer for it is
    /// unreadable) is kept as unapplied, durably, and retried with backoff
    /// (`retryUnapplied`); the changes after it still flow. The cursor moves once the
    /// page's writes are on disk or kept. A failure that may pass (the network, a
    /// 5xx) stops the page where it is: the cursor stays and the page is read again.
    package func pull(waitSeconds: Int = 0) async throws -> SyncReport {
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
            report.add(try await fetchAndBringIn(change.key, announcedRev: change.rev))
        }
        if page.lastSeq != cursor { try store.setCursor(page.lastSeq) }
        return report
    }

    /// Tries again the unapplied changes whose time has come.
    package func retryUnapplied() async throws -> SyncReport {
        var report = SyncReport()
        guard holdReason == nil, !unappliedKeys.isEmpty else { return report }
        let due = try store.dueUnapplied(now: clock.now(), limit: settings.pullPageSize)
        if !due.isEmpty, locations.isEmpty { try scan() }
        for entry in due {
            report.add(try await fetchAndBringIn(entry.key, announcedRev: entry.rev))
        }
        return report
    }

    /// Fetches the hub's current version of `key` and brings it in. Throws only what
    /// may pass (a retryable `HubError`); anything else is kept as unapplied.
    private func fetchAndBringIn(_ key: RecordKey, announcedRev: String) async throws -> SyncReport {
        let base = try store.base(key)
        if base?.rev == announcedRev {  // our own write coming back, or applied already
            if unappliedKeys.contains(key) { try carryOut(RecordPlan(key: key, changes: [.clearUnapplied(key)])) }
            return SyncReport()
        }
        let remote: RemoteRecord?
        do {
            remote = try await hub.record(key)
        } catch {
            if case .retryable = error { throw error }
            return try keepUnapplied(key, rev: announcedRev, error: error.description)
        }
        return try await bringIn(key, remote: remote, local: try localVersion(key), pending: try store.pendingOperation(key))
    }

    /// Plans and carries out what a hub version means for a record.
    func bringIn(_ key: RecordKey, remote: RemoteRecord?, local: LocalVersion, pending: OutboxOperation?) async throws -> SyncReport {
        let remoteTime: Double? =
            if settings.policy == .newest, let remote { try? await hub.revisionTime(key, rev: remote.rev) } else { nil }
        let plan = IncomingPlanner.plan(
            IncomingInput(
                key: key, base: try store.base(key), local: local, pending: pending, remote: remote, policy: settings.policy,
                remoteChangedAt: remoteTime, unapplied: unappliedKeys.contains(key) ? try store.unapplied(key) : nil, retry: settings.retry,
                jitter: jitter.next(), now: clock.now()))
        return try carryOut(plan).report
    }

    /// Keeps a change that could not even be fetched or read, with its next try.
    private func keepUnapplied(_ key: RecordKey, rev: String, error: String) throws -> SyncReport {
        let previous = unappliedKeys.contains(key) ? try store.unapplied(key) : nil
        let attempts = previous.map { $0.attempts + 1 } ?? 0
        let failure = FileFailure(
            rev: rev, attempts: attempts, nextAttemptAt: clock.now() + retryDelay(attempt: attempts), previousError: previous?.lastError, operation: nil)
        return try carryOut(RecordPlan(key: key, changes: failure.changes(key: key, error: error))).report.with(unapplied: 1)
    }

    /// When the earliest unapplied change may be tried again (nil: none waits).
    package func nextUnappliedTime() throws -> Double? {
        unappliedKeys.isEmpty ? nil : try store.nextUnappliedTime()
    }

    /// Makes every unapplied change due now (a manual sync).
    package func retryUnappliedNow() throws {
        if !unappliedKeys.isEmpty { try store.retryUnappliedNow(now: clock.now()) }
    }

    /// The position in the hub's changes feed up to which everything is applied.
    package func cursor() throws -> Int64 { try store.cursor() }
}

extension RecordPlan {
    init(key: RecordKey, changes: [StateChange]) {
        self.init(key: key)
        self.changes = changes
    }
}

extension SyncReport {
    func with(unapplied count: Int) -> SyncReport {
        var copy = self
        copy.unapplied = count
        return copy
    }
}
