import AccordCore

/// What the sync engine needs to know about one replica.
public struct SyncSettings: Sendable {
    public var root: String
    public var schemas: SchemaSet
    public var ignore: IgnoreRules
    public var maxRecordBytes: Int
    public var policy: ConflictPolicy
    public var retry: RetryPolicy
    /// Operations in flight at once.
    public var pushConcurrency: Int
    /// Changes fetched per page of the feed.
    public var pullPageSize: Int
    /// Records compared and queued at a time during a scan: bounds its memory.
    public var scanBatchSize = 2000
    /// The mass-delete guard's threshold (CONTRACT section 5).
    public var maxDeletePercent = 50
    /// How long the set of vanished records must stay the same before its deletions
    /// go (0 for one-shot syncs; the daemon waits, so a slow `rm -rf` is judged whole).
    public var deleteSettleSeconds = 0.0
    /// Modes of the files and folders written into the root.
    public var modes = FileModes()

    public init(
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
public struct SyncReport: Sendable, Equatable {
    public var queued = 0
    public var pushed = 0
    public var pulled = 0
    public var merged = 0
    public var conflicts = 0
    public var rejected = 0
    public var retrying = 0
    public var problems = 0
    /// Hub changes that could not be applied this round (kept for a retry).
    public var unapplied = 0
    /// Set when an exchange with the hub failed for a reason that may pass (the
    /// network, a 5xx): the hub counts as unreachable while nothing else succeeds.
    public var unreachable: String?

    public init() {}
}
