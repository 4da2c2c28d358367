import AccordCore
import GRDB

/// Reads a SQLite hub's dataset whole, in seq order, for `accordhub copy`: every
/// revision with its author and time, each record's current version (tombstones
/// too) and the idempotency keys. Takes the hub's lock, so the copy cannot run beside
/// a hub still writing to the file.
package final class SQLiteHubExport {
    private let queue: DatabaseQueue
    private let lock: DatabaseLock

    package init(path: String) throws {
        // Looked at read-only first: a file that is not a hub's gets neither a lock
        // file beside it nor the hub's tables.
        var look = Configuration()
        look.readonly = true
        let isHub: Bool
        do {
            isHub = try DatabaseQueue(path: path, configuration: look).read { db in
                try db.tableExists("grdb_migrations")
                    && (try Bool.fetchOne(db, sql: "SELECT COUNT(*) > 0 FROM grdb_migrations WHERE identifier = ?", arguments: [HubMigrations.first])
                        ?? false)
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw NotAHubDatabaseError(path: path, finding: "not a SQLite file")
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            throw DamagedDatabaseError(path: path)
        }
        guard isHub else { throw NotAHubDatabaseError(path: path) }
        lock = try DatabaseLock(database: path)
        var configuration = Configuration()
        configuration.qos = .default
        queue = try DatabaseQueue(path: path, configuration: configuration)
        if try queue.read({ db in try HubMigrations.migrator.hasBeenSuperseded(db) }) { throw NewerDatabaseError(path: path) }
        // A file from an older hub gets the columns this one reads (as a hub's start would).
        try HubMigrations.migrator.migrate(queue)
    }

    package struct Revision: Sendable {
        package var seq: Int64
        package var key: RecordKey
        package var rev: String
        package var deleted: Bool
        package var fieldsJSON: String
        package var createdAt: Double
        package var author: String?
    }

    package struct Idempotency: Sendable {
        package var key: String
        package var fingerprint: String
        package var status: Int
        package var etag: String?
        package var body: String
        package var createdAt: Double
    }

    /// The feed's identity (`FeedIdentity`), which the copy keeps: to the daemons it
    /// is the same feed, at the same seqs.
    package func feedID() throws -> String {
        guard let id = try queue.read({ db in try String.fetchOne(db, sql: "SELECT id FROM feed_identity") }), !id.isEmpty else {
            throw DamagedDatabaseError(path: queue.path)
        }
        return id
    }

    /// The highest seq (0 when empty).
    package func lastSeq() throws -> Int64 {
        try queue.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM revisions") ?? 0 }
    }

    /// Up to `limit` revisions with a seq above `after`, in seq order.
    package func revisions(after: Int64, limit: Int) throws -> [Revision] {
        try queue.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, kind, id, rev, deleted, fields, created_at, author FROM revisions WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [after, limit]
            ).map { row in
                Revision(
                    seq: row["seq"], key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], deleted: row["deleted"], fieldsJSON: row["fields"],
                    createdAt: row["created_at"], author: row["author"])
            }
        }
    }

    /// Up to `limit` current versions with a seq above `after`, in seq order.
    package func records(after: Int64, limit: Int) throws -> [StoredRecord] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, id, rev, seq, deleted, fields FROM records WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit])
                .map { row in
                    StoredRecord(
                        key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], seq: row["seq"], deleted: row["deleted"], fieldsJSON: row["fields"])
                }
        }
    }

    package func idempotencyKeys() throws -> [Idempotency] {
        try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, fingerprint, status, etag, body, created_at FROM idempotency ORDER BY key").map { row in
                Idempotency(
                    key: row["key"], fingerprint: row["fingerprint"], status: row["status"], etag: row["etag"], body: row["body"],
                    createdAt: row["created_at"])
            }
        }
    }
}
