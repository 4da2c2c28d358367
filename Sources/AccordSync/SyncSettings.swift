import AccordCore

/// What the sync engine needs to know about one replica.
package struct SyncSettings: Sendable {
    package var root: String
    package var schemas: SchemaSet
    package var ignore: IgnoreRules
    package var maxRecordBytes: Int
    package var policy: ConflictPolicy
    package var retry: RetryPolicy
    /// Operations in flight at once.
    package var pushConcurrency: Int
    /// Changes fetched per page of the feed.
    package var pullPageSize: Int
    /// Records compared and queued at a time during a scan: bounds its memory.
    package var scanBatchSize = 2000
    /// The mass-delete guard's threshold (CONTRACT section 5).
    package var maxDeletePercent = 50
    /// How long the set of vanished records must stay the same before its deletions
    /// go (0 for one-shot syncs; the daemon waits, so a slow `rm -rf` is judged whole).
    package var deleteSettleSeconds = 0.0
    /// Modes of the files and folders written into the root.
    package var modes = FileModes()

    package init(
        root: String, schemas: SchemaSet, ignore: IgnoreRules = IgnoreRules(), maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes,
        policy: ConflictPolicy = .merge, retry: RetryPolicy = RetryPolicy(), pushConcurrency: Int = 8, pullPageSize: Int = 500
    ) {
        self.root = root
        self.schemas = schemas
        self.ignore = ignore
        self.maxRecordBytes = maxRecordBytes
        self.policy = policy
        self.retry = retry
        self.pushConcurrency = pushConcurrency
        self.pullPageSize = pullPageSize
    }
}

/// What one round of sync did, for status lines and tests.
package struct SyncReport: Sendable, Equatable {
    package var queued = 0
    package var pushed = 0
    package var pulled = 0
    package var merged = 0
    package var conflicts = 0
    package var rejected = 0
    package var retrying = 0
    package var problems = 0
    /// Hub changes that could not be applied this round (kept for a retry).
    package var unapplied = 0
    /// Set when an exchange with the hub failed for a reason that may pass (the
    /// network, a 5xx): the hub counts as unreachable while nothing else succeeds.
    package var unreachable: String?

    package init() {}
}
