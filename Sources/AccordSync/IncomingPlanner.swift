import AccordCore
import AccordStore

/// What the root holds of a record when a hub version reaches it.
package enum LocalVersion: Sendable, Equatable {
    case absent
    /// The record's fields, and its file's mtime (for `newest`), if known.
    case present(JSONObject, changedAt: Double?)
    /// Not to be touched, and why: a record invalid or defined twice in the root, or
    /// one whose file the ignore globs exclude. Never overwritten, never deleted.
    case held(String)

    var fields: JSONObject? {
        if case .present(let fields, _) = self { return fields }
        return nil
    }
}

/// Everything the planner needs to decide what one hub version means for a record:
/// values only, gathered by the engine beforehand.
package struct IncomingInput: Sendable {
    package var key: RecordKey
    /// The last version both sides agreed on.
    package var base: BaseSnapshot?
    /// The root's version; for a 412 on a push, the pushed operation's content.
    package var local: LocalVersion
    /// The operation waiting in the outbox for the record, if any.
    package var pending: OutboxOperation?
    /// The hub's version (a tombstone when deleted); nil when the hub never had it.
    package var remote: RemoteRecord?
    package var policy: ConflictPolicy
    /// When the hub stored `remote` (for `newest`), if known.
    package var remoteChangedAt: Double?
    /// An earlier failed attempt at this record, if one is kept.
    package var unapplied: UnappliedChange?
    package var retry: RetryPolicy
    /// A number in [0, 1) for the backoff's jitter.
    package var jitter: Double
    package var now: Double

    package init(
        key: RecordKey, base: BaseSnapshot?, local: LocalVersion, pending: OutboxOperation?, remote: RemoteRecord?, policy: ConflictPolicy,
        remoteChangedAt: Double? = nil, unapplied: UnappliedChange? = nil, retry: RetryPolicy = RetryPolicy(), jitter: Double = 1, now: Double
    ) {
        self.key = key
        self.base = base
        self.local = local
        self.pending = pending
        self.remote = remote
        self.policy = policy
        self.remoteChangedAt = remoteChangedAt
        self.unapplied = unapplied
        self.retry = retry
        self.jitter = jitter
        self.now = now
    }
}

/// Decides (pure) what a hub version of a record means for the replica: pull it into
/// the file, merge it three ways with a local change, hold it back, or nothing. The
/// model is mutagen's reconcile: the decision is a value (`RecordPlan`), made from
/// values, so every situation is a row of a table test; `PlanApplier` carries it out.
package enum IncomingPlanner {
    package static func plan(_ input: IncomingInput) -> RecordPlan {
        let key = input.key
        var plan = RecordPlan(key: key)
        guard let remote = input.remote else {
            // The hub does not know the record at all (a hub restored from a backup):
            // what the root holds is created there again.
            if let local = input.local.fields { plan.changes.append(.enqueue(key: key, kind: .put, baseRev: nil, fields: local, changedAt: input.now)) }
            return clearing(plan, input)
        }
        if remote.rev == input.base?.rev { return clearing(plan, input) }  // already agreed (our own write coming back)
        if case .held(let reason) = input.local { return held(plan, input, rev: remote.rev, reason) }
        if let fields = remote.liveFields, JSONValue.object(fields).depth > Record.maxDepth {
            return held(
                plan, input, rev: remote.rev,
                "the hub's version of \(key) nests \(JSONValue.object(fields).depth) levels, over \(Record.maxDepth); fix it on the hub")
        }
        let baseFields = input.base?.liveFields
        let local = input.local.fields
        plan.onFileFailure = failure(input, rev: remote.rev, operation: input.pending)
        if input.pending == nil, local == baseFields {
            // Only the hub changed it: take the hub's version.
            switch (local, remote.liveFields) {
            case (_, let fields?): plan.file = .write(fields)
            case (.some, nil): plan.file = .remove
            case (nil, nil): break
            }
            plan.changes.append(.saveBase(remote))
            plan.changes.append(.event(type: "pulled", record: key.description, summary: EventSummary.describe(old: baseFields, new: remote.liveFields)))
            plan.report.pulled = 1
            return clearing(plan, input)
        }
        return clearing(merging(plan, input, remote: remote), input)
    }

    /// Both sides changed the record since the base: merge base, local and remote under
    /// the policy; the merge goes into the file and to the hub unless the hub has it.
    private static func merging(_ plan: RecordPlan, _ input: IncomingInput, remote: RemoteRecord) -> RecordPlan {
        var plan = plan
        let key = input.key
        let local = input.local.fields
        let localTime: Double? =
            if case .present(_, let changedAt) = input.local { input.pending?.changedAt ?? changedAt } else { input.pending?.changedAt }
        let result = ThreeWayMerge.merge(
            base: input.base?.liveFields, local: local, remote: remote.liveFields, policy: input.policy, localChangedAt: localTime,
            remoteChangedAt: input.remoteChangedAt)
        let stored = result.openConflicts.map {
            StoredConflict(key: key, path: $0.path, base: $0.base, local: $0.local, remote: $0.remote, remoteRev: remote.rev, createdAt: input.now)
        }
        plan.changes.append(.setConflicts(key, stored))
        for conflict in result.conflicts {
            plan.changes.append(.event(type: "conflict", record: key.description, summary: conflict.description))
        }
        plan.report.conflicts = result.conflicts.count
        if result.isHeld {
            // `manual`: neither pushed nor overwritten until an operator resolves it.
            if let pending = input.pending { plan.changes.append(.dropOperation(pending)) }
            plan.onFileFailure = nil
            return plan
        }
        let merged = result.merged
        if merged != local { plan.file = merged.map { .write($0) } ?? .remove }
        plan.changes.append(.saveBase(remote))
        if merged == remote.liveFields {
            if let pending = input.pending { plan.changes.append(.dropOperation(pending)) }
        } else {
            plan.changes.append(
                .enqueue(key: key, kind: merged == nil ? .delete : .put, baseRev: remote.rev, fields: merged, changedAt: input.now))
        }
        plan.changes.append(.event(type: "merged", record: key.description, summary: EventSummary.describe(old: remote.liveFields, new: merged)))
        plan.report.merged = 1
        if plan.file == .none { plan.onFileFailure = nil }
        return plan
    }

    /// The hub's version cannot be applied now: keep it as unapplied, retried later.
    private static func held(_ plan: RecordPlan, _ input: IncomingInput, rev: String, _ reason: String) -> RecordPlan {
        var plan = plan
        plan.changes = failure(input, rev: rev, operation: nil).changes(key: input.key, error: reason)
        plan.report.unapplied = 1
        return plan
    }

    private static func failure(_ input: IncomingInput, rev: String, operation: OutboxOperation?) -> FileFailure {
        let attempts = input.unapplied.map { $0.attempts + 1 } ?? 0
        return FileFailure(
            rev: rev, attempts: attempts, nextAttemptAt: input.now + input.retry.delay(attempt: attempts, random: input.jitter),
            previousError: input.unapplied?.lastError, operation: operation)
    }

    /// A plan that applies (or needs nothing) settles any earlier failed attempt.
    private static func clearing(_ plan: RecordPlan, _ input: IncomingInput) -> RecordPlan {
        var plan = plan
        if input.unapplied != nil { plan.changes.append(.clearUnapplied(input.key)) }
        if plan.file == .none { plan.onFileFailure = nil }
        return plan
    }
}
