import AccordCore

/// The last version of a record both sides agreed on.
public typealias BaseSnapshot = VersionedRecord

/// What the last scan saw of one file.
public struct FileIndexEntry: Sendable, Equatable {
    public var path: String
    public var size: Int
    public var modifiedNanos: Int64
    public var inode: UInt64
    public var hash: String
    public var records: [RecordKey]

    public init(path: String, size: Int, modifiedNanos: Int64, inode: UInt64, hash: String, records: [RecordKey]) {
        self.path = path
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.inode = inode
        self.hash = hash
        self.records = records
    }
}

/// An operation waiting in the outbox. Its idempotency key is fixed when it is queued
/// and reused by every retry, so the hub applies it at most once.
public struct OutboxOperation: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case put
        case delete
    }

    public var seq: Int64
    public var key: RecordKey
    public var kind: Kind
    /// The rev the change was made against (If-Match); nil to create (If-None-Match: *).
    public var baseRev: String?
    public var fields: JSONObject?
    public var idempotencyKey: String
    public var attempts: Int
    /// Seconds since 1970 before which it is not retried.
    public var nextAttemptAt: Double
    public var lastError: String?
    public var changedAt: Double

    public init(
        seq: Int64, key: RecordKey, kind: Kind, baseRev: String?, fields: JSONObject?, idempotencyKey: String, attempts: Int, nextAttemptAt: Double,
        lastError: String?, changedAt: Double
    ) {
        self.seq = seq
        self.key = key
        self.kind = kind
        self.baseRev = baseRev
        self.fields = fields
        self.idempotencyKey = idempotencyKey
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.changedAt = changedAt
    }
}

/// A field both sides changed, kept until `accordctl resolve`.
public struct StoredConflict: Sendable, Equatable {
    public var key: RecordKey
    public var path: [String]
    public var base: JSONValue?
    public var local: JSONValue?
    public var remote: JSONValue?
    public var remoteRev: String
    public var createdAt: Double

    public init(key: RecordKey, path: [String], base: JSONValue?, local: JSONValue?, remote: JSONValue?, remoteRev: String, createdAt: Double) {
        self.key = key
        self.path = path
        self.base = base
        self.local = local
        self.remote = remote
        self.remoteRev = remoteRev
        self.createdAt = createdAt
    }
}

/// One line of the event log: pushed, pulled, merged, conflict, rejected.
public struct SyncEvent: Sendable, Equatable {
    public var seq: Int64
    public var at: Double
    public var type: String
    public var record: String
    public var summary: String
}
