import AccordCore
import AccordStore

extension SyncEngine {
    /// One page of the changes feed, as the hub sent it after `since`, with the feed's
    /// identity and the write that took `since`.
    package typealias Page = (changes: [RemoteChange], lastSeq: Int64, feedID: String?, atSince: FeedAnchor?)

    /// Brings in the hub's changes after the cursor, page after page, until a page
    /// that is not full (waiting up to `waitSeconds` for the first).
    ///
    /// A page carries each record's fields (`fields=1`), so it costs one round trip,
    /// not one per record; it is applied as a whole (`applyPage`), and while it is
    /// written the next page is already on its way. No single change stops the feed:
    /// one that cannot be applied (its write failed, the root holds the record twice
    /// or invalid, the hub's answer for it is unreadable) is kept as unapplied, durably,
    /// and retried with backoff (`retryUnapplied`). A failure that may pass (the
    /// network, a 5xx) stops where it is: the cursor stays after the last page applied.
    package func pull(waitSeconds: Int = 0) async throws -> SyncReport {
        var report = SyncReport()
        // While deletions are held the root may be an empty mount point: writing the
        // hub's records into it would hide the real disk. Nothing is pulled until then.
        guard holdReason == nil else { return report }
        try commitHeld()
        // Where every record lives comes from the scans and the watcher, never from a
        // scan per incoming change: only a replica that never scanned scans first.
        if !scannedOnce { try scan() }
        let limit = settings.pullPageSize
        var since = try store.cursor()
        var page = try await hub.changes(since: since, limit: limit, waitSeconds: waitSeconds, fields: true)
        while true {
            let full = page.changes.count >= limit
            let hub = self.hub
            let after = page.lastSeq
            let next = full ? Task { try await hub.changes(since: after, limit: limit, waitSeconds: 0, fields: true) } : nil
            report.add(try await apply(page, since: since))
            since = page.lastSeq
            guard let next else { break }
            page = try await next.value
        }
        return report
    }

    /// Applies a page of changes read after `since`, if the cursor is still there (a
    /// page the feed already holds is applied without asking the hub again). A page
    /// the feed read when `basesMoved` was `readAt` is not applied if a record whose
    /// base moved since has another version in it (`MovedBases`).
    @discardableResult
    package func apply(_ page: Page, since: Int64, basesMoved readAt: Int? = nil) async throws -> SyncReport {
        var report = SyncReport()
        try commitHeld()
        guard holdReason == nil, try store.cursor() == since, readAt.map(movedBases.isUsable) ?? true else { return report }
        try await checkFeed(page, cursor: since)
        if !scannedOnce { try scan() }
        if page.changes.isEmpty {
            if page.lastSeq > since { try store.setCursor(page.lastSeq) }
            return report
        }
        let keys = page.changes.map(\.key)
        let bases = try store.bases(keys)
        // A change of a record whose base moved since the page was read is this root's
        // own push coming back (its rev is the base's), or may be older or newer than
        // it: then the page is read again from the hub, whose feed has each record's
        // latest version only.
        if let readAt, page.changes.contains(where: { movedBases.isStale($0.key, readAt: readAt) && bases[$0.key]?.rev != $0.rev }) {
            return report
        }
        let pending = try store.pendingOperations(keys)
        var plans: [RecordPlan] = []
        for change in page.changes {
            if bases[change.key]?.rev == change.rev {  // our own write coming back, or applied already
                if unappliedKeys.contains(change.key) { plans.append(RecordPlan(key: change.key, changes: [.clearUnapplied(change.key)])) }
                continue
            }
            // A hub that sends no fields (an older one) is asked per record.
            guard let remote = change.remote else {
                report.add(try await fetchAndBringIn(change.key, announcedRev: change.rev))
                continue
            }
            plans.append(try await plan(change.key, base: bases[change.key], remote: remote, local: try localVersion(change.key), pending: pending[change.key]))
        }
        // The page's last change is the new anchor (a change the hub has at that seq).
        let anchor = page.changes.last.map { FeedAnchor(seq: $0.seq, key: $0.key, rev: $0.rev) }
        report.add(try carryOut(plans, cursor: page.lastSeq, anchor: anchor))
        if let readAt { movedBases.applied(readAt: readAt) }
        return report
    }

    /// Tries again the unapplied changes whose time has come.
    package func retryUnapplied() async throws -> SyncReport {
        var report = SyncReport()
        guard holdReason == nil, !unappliedKeys.isEmpty else { return report }
        let due = try store.dueUnapplied(now: clock.now(), limit: settings.pullPageSize)
        if !due.isEmpty, index.isEmpty { try scan() }
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
        try carryOut(try await plan(key, base: try store.base(key), remote: remote, local: local, pending: pending)).report
    }

    /// What a hub version means for a record (`IncomingPlanner`), with the inputs only
    /// the engine has: the hub's revision time for `newest`, an earlier failed attempt,
    /// and, when the sides conflict, a later hub revision the root already holds.
    func plan(_ key: RecordKey, base: BaseSnapshot?, remote: RemoteRecord?, local: LocalVersion, pending: OutboxOperation?) async throws -> RecordPlan {
        let remoteTime: Double? =
            if settings.policy == .newest, let remote { try? await hub.revisionTime(key, rev: remote.rev) } else { nil }
        let unapplied = unappliedKeys.contains(key) ? try store.unapplied(key) : nil
        let jitter = jitter.next()
        let now = clock.now()
        func plan(base: BaseSnapshot?) -> RecordPlan {
            IncomingPlanner.plan(
                IncomingInput(
                    key: key, base: base, local: local, pending: pending, remote: remote, policy: settings.policy, remoteChangedAt: remoteTime,
                    unapplied: unapplied, retry: settings.retry, jitter: jitter, now: now))
        }
        let first = plan(base: base)
        // Only a plan that conflicts or sends something back to the hub is worth the
        // look: one that takes the hub's version cannot be made wrong by an old base.
        let pushesBack = first.changes.contains { if case .enqueue = $0 { true } else { false } }
        guard first.report.conflicts > 0 || pushesBack, let remote, let later = await heldRevision(key, local: local, base: base, remote: remote) else {
            return first
        }
        return plan(base: later)
    }

    /// A hub revision between the base and `remote` that the root holds exactly, if
    /// any: the root then made no change of its own since it, and it is the true base.
    ///
    /// This is how a pulled version whose state commit failed (a full disk under the
    /// state database, a kill) is known again: the file holds it, the base is older,
    /// and without this the next change from the hub would meet it as a local edit:
    /// false conflicts, or the stale version merged and pushed back (over a deletion,
    /// over a field set back to its old value). Costs a revisions request or two, only
    /// for a record that would conflict or be pushed back. A failure to ask is not a
    /// reason to stop the feed: the plan is then made as before.
    private func heldRevision(_ key: RecordKey, local: LocalVersion, base: BaseSnapshot?, remote: RemoteRecord) async -> BaseSnapshot? {
        let held: JSONObject?
        switch local {
        case .present(let fields, _): held = fields
        case .absent: held = nil
        case .held: return nil
        }
        var before: Int64?
        do {
            for _ in 0..<2 {
                guard let page = try await hub.revisions(key, before: before, limit: 50) else { return nil }
                for revision in page.revisions where revision.rev != remote.rev {
                    if revision.rev == base?.rev { return nil }  // nothing newer than the base matches
                    if revision.fields == held && (held == nil) == revision.deleted {
                        return BaseSnapshot(key: key, rev: revision.rev, deleted: revision.deleted, fields: revision.fields ?? JSONObject())
                    }
                }
                guard let next = page.nextBefore else { return nil }
                before = next
            }
        } catch {
            return nil
        }
        return nil
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
