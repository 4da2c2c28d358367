import AccordCore

/// The hub's current version of one record: live, or a tombstone.
package struct StoredRecord: Sendable, Equatable {
    package var key: RecordKey
    package var rev: String
    /// The change sequence number of this version.
    package var seq: Int64
    package var deleted: Bool
    /// The record's fields as compact JSON text (empty object for a tombstone).
    package var fieldsJSON: String

    package init(key: RecordKey, rev: String, seq: Int64, deleted: Bool, fieldsJSON: String) {
        self.key = key
        self.rev = rev
        self.seq = seq
        self.deleted = deleted
        self.fieldsJSON = fieldsJSON
    }
}

/// One entry of the changes feed: the latest version of a record.
package struct ChangeEntry: Sendable, Equatable {
    package var seq: Int64
    package var key: RecordKey
    package var rev: String
    package var deleted: Bool
    /// The fields as compact JSON, when asked for (`fields=1`) and not deleted.
    package var fieldsJSON: String?

    package init(seq: Int64, key: RecordKey, rev: String, deleted: Bool, fieldsJSON: String? = nil) {
        self.seq = seq
        self.key = key
        self.rev = rev
        self.deleted = deleted
        self.fieldsJSON = fieldsJSON
    }
}

/// One revision in a record's history.
package struct RevisionEntry: Sendable, Equatable {
    package var rev: String
    package var seq: Int64
    package var deleted: Bool
    package var fieldsJSON: String
    /// Seconds since 1970.
    package var createdAt: Double
    /// The name of the token that wrote it; nil on an open hub and for revisions
    /// written before the hub kept authors.
    package var author: String?
}

/// What a write asks for: the precondition and the new state.
package struct WriteRequest: Sendable {
    package enum Precondition: Sendable, Equatable {
        /// `If-Match`: the current rev (live or tombstone) must be one of these; `*` is any live version.
        case ifMatch([String])
        case ifMatchAny
        /// `If-None-Match: *`: no live version may exist.
        case ifNoneMatch
    }

    package enum Change: Sendable, Equatable {
        case put(fieldsJSON: String)
        case delete
    }

    package var key: RecordKey
    package var precondition: Precondition
    package var change: Change
    /// With the fingerprint of the whole request, for replays.
    package var idempotency: (key: String, fingerprint: String)?
    /// The writing token's name, kept with the revision (CONTRACT 8.2).
    package var author: String?

    package init(
        key: RecordKey, precondition: Precondition, change: Change, idempotency: (key: String, fingerprint: String)? = nil, author: String? = nil
    ) {
        self.key = key
        self.precondition = precondition
        self.change = change
        self.idempotency = idempotency
        self.author = author
    }
}

/// The response a write produced, as stored for idempotent replays.
package struct StoredResponse: Sendable, Equatable {
    package var status: Int
    package var etag: String?
    package var body: String

    package init(status: Int, etag: String?, body: String) {
        self.status = status
        self.etag = etag
        self.body = body
    }
}

package enum WriteOutcome: Sendable, Equatable {
    case created(StoredRecord)
    case updated(StoredRecord)
    case deleted(StoredRecord)
    /// The precondition failed; the current version, if any.
    case preconditionFailed(StoredRecord?)
    case notFound
    /// The idempotency key was used before with this request: the first response.
    case replay(StoredResponse)
    /// The idempotency key was used before with a different request.
    case idempotencyMismatch
}

extension WriteOutcome {
    /// The version a write produced, when it produced one.
    var written: StoredRecord? {
        switch self {
        case .created(let record), .updated(let record), .deleted(let record): record
        default: nil
        }
    }
}

/// Where the hub keeps records, their history and the changes feed. Every method is
/// atomic; a write that returns has been made durable (it survives `kill -9`).
/// `SQLiteHubStorage` keeps a dataset in one file for one hub; `PostgresHubStorage`
/// keeps it in a PostgreSQL database that several hubs serve at once.
package protocol HubStorage: Sendable {
    func record(_ key: RecordKey) async throws -> StoredRecord?

    /// Applies `request` in one transaction: checks the idempotency key, then the
    /// precondition, then writes a new revision and advances the changes feed.
    /// `respond` turns the outcome into the response kept for replays of the key.
    func write(_ request: WriteRequest, respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> WriteOutcome

    /// Applies `requests` as one batch (CONTRACT 8.3): each on its own, exactly as a
    /// single `write` would, all in one transaction, acknowledged after its commit.
    func writeBatch(_ requests: [WriteRequest], respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> [WriteOutcome]

    /// Latest versions with `seq > since`, in seq order, at most `limit`; with
    /// `fields`, each live one carries its fields.
    func changes(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry]

    /// The highest seq written so far (0 when empty).
    func lastSeq() async throws -> Int64

    /// The identity of this dataset's feed (`FeedIdentity`).
    func feedID() async throws -> String

    /// The record and rev of the write that took `seq`, nil when none did.
    func revision(atSeq seq: Int64) async throws -> (key: RecordKey, rev: String)?

    /// A record's revisions with `seq < before` (all when nil), newest first, at most
    /// `limit`; empty when there are none.
    func revisions(_ key: RecordKey, before: Int64?, limit: Int) async throws -> [RevisionEntry]

    /// Forgets idempotency keys older than `age` seconds.
    func purgeIdempotencyKeys(olderThan age: Double) async throws
}
