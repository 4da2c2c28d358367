import AccordCore

/// The last version of a record both sides agreed on.
package typealias BaseSnapshot = VersionedRecord

/// What the last scan saw of one file.
package struct FileIndexEntry: Sendable, Equatable {
    package var path: String
    package var size: Int
    package var modifiedNanos: Int64
    package var inode: UInt64
    /// The inode's change time (ctime): an edit that keeps the size and puts the mtime
    /// back (`cp -p`, `rsync -t`, `touch -r`) still moves it.
    package var changedNanos: Int64
    /// SHA-256 of the file's bytes as last seen.
    package var digest: ContentDigest
    package var records: [RecordKey]

    package init(path: String, size: Int, modifiedNanos: Int64, inode: UInt64, changedNanos: Int64 = 0, digest: ContentDigest, records: [RecordKey]) {
        self.path = path
        self.size = size
        self.modifiedNanos = modifiedNanos
        self.inode = inode
        self.changedNanos = changedNanos
        self.digest = digest
        self.records = records
    }
}

/// An operation waiting in the outbox. Its idempotency key is fixed when it is queued
/// and reused by every retry, so the hub applies it at most once.
package struct OutboxOperation: Sendable, Equatable {
    package enum Kind: String, Sendable {
        case put
        case delete
    }

    package var seq: Int64
    package var key: RecordKey
    package var kind: Kind
    /// The rev the change was made against (If-Match); nil to create (If-None-Match: *).
    package var baseRev: String?
    package var fields: JSONObject?
    package var idempotencyKey: String
    package var attempts: Int
    /// Seconds since 1970 before which it is not retried.
    package var nextAttemptAt: Double
    package var lastError: String?
    package var changedAt: Double

    package init(
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
package struct StoredConflict: Sendable, Equatable {
    package var key: RecordKey
    package var path: [String]
    package var base: JSONValue?
    package var local: JSONValue?
    package var remote: JSONValue?
    package var remoteRev: String
    package var createdAt: Double

    package init(key: RecordKey, path: [String], base: JSONValue?, local: JSONValue?, remote: JSONValue?, remoteRev: String, createdAt: Double) {
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
package struct SyncEvent: Sendable, Equatable {
    package var seq: Int64
    package var at: Double
    package var type: String
    package var record: String
    package var summary: String
}

package struct StoreError: Error, Sendable, CustomStringConvertible {
    package var description: String

    init(_ description: String) {
        self.description = description
    }
}
