import AccordCore
import GRDB

/// `HubStorage` on one SQLite file through GRDB: WAL mode, `synchronous = FULL`, one
/// transaction per write, so an acknowledged write is on disk before the response.
public final class SQLiteHubStorage: HubStorage {
    private let pool: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets NORMAL on the writer when it opens the pool; FULL makes every commit
        // reach the disk before the hub answers, not just the process's page cache.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try HubMigrations.migrator.migrate(pool)
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL), for tests.
    public func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func record(_ key: RecordKey) async throws -> StoredRecord? {
        try await pool.read { db in try Self.current(db, key) }
    }

    public func write(_ request: WriteRequest, respond: @Sendable (WriteOutcome) -> StoredResponse) async throws -> WriteOutcome {
        try await pool.write { db in
            if let idempotency = request.idempotency,
                let row = try Row.fetchOne(
                    db, sql: "SELECT fingerprint, status, etag, body FROM idempotency WHERE key = ?", arguments: [idempotency.key])
            {
                let fingerprint: String = row["fingerprint"]
                guard fingerprint == idempotency.fingerprint else { return .idempotencyMismatch }
                return .replay(StoredResponse(status: row["status"], etag: row["etag"], body: row["body"]))
            }
            let outcome = try Self.apply(db, request)
            if let idempotency = request.idempotency {
                let response = respond(outcome)
                try db.execute(
                    sql: "INSERT INTO idempotency (key, fingerprint, status, etag, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [idempotency.key, idempotency.fingerprint, response.status, response.etag, response.body, Timestamp.now()])
            }
            return outcome
        }
    }

    /// The precondition check and the write, inside the caller's transaction.
    private static func apply(_ db: Database, _ request: WriteRequest) throws -> WriteOutcome {
        let current = try current(db, request.key)
        let live = current.flatMap { $0.deleted ? nil : $0 }
        switch request.precondition {
        case .ifNoneMatch:
            if let live { return .preconditionFailed(live) }
        case .ifMatchAny:
            guard live != nil else {
                if current == nil, request.change == .delete { return .notFound }
                return .preconditionFailed(current)
            }
        case .ifMatch(let revs):
            guard let current else { return request.change == .delete ? .notFound : .preconditionFailed(nil) }
            guard revs.contains(current.rev) else { return .preconditionFailed(current) }
        }
        let fieldsJSON: String
        let deleted: Bool
        switch request.change {
        case .put(let json):
            // Writing what is already there makes no new revision.
            if let live, live.fieldsJSON == json { return .updated(live) }
            fieldsJSON = json
            deleted = false
        case .delete:
            // Deleting a tombstone (its rev matched) changes nothing.
            if let current, current.deleted { return .deleted(current) }
            fieldsJSON = "{}"
            deleted = true
        }
        let rev = RevisionID.next(after: current?.rev, deleted: deleted, fieldsJSON: fieldsJSON)
        try db.execute(
            sql: "INSERT INTO revisions (kind, id, rev, deleted, fields, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [request.key.kind, request.key.id, rev, deleted, fieldsJSON, Timestamp.now()])
        let seq = db.lastInsertedRowID
        try db.execute(
            sql: """
                INSERT INTO records (kind, id, rev, seq, deleted, fields) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
                    deleted = excluded.deleted, fields = excluded.fields
                """,
            arguments: [request.key.kind, request.key.id, rev, seq, deleted, fieldsJSON])
        let stored = StoredRecord(key: request.key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fieldsJSON)
        if deleted { return .deleted(stored) }
        return live == nil ? .created(stored) : .updated(stored)
    }

    private static func current(_ db: Database, _ key: RecordKey) throws -> StoredRecord? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT rev, seq, deleted, fields FROM records WHERE kind = ? AND id = ?", arguments: [key.kind, key.id])
        else { return nil }
        return StoredRecord(key: key, rev: row["rev"], seq: row["seq"], deleted: row["deleted"], fieldsJSON: row["fields"])
    }

    public func changes(since: Int64, limit: Int) async throws -> [ChangeEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, kind, id, rev, deleted FROM records WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [since, limit]
            ).map { row in
                ChangeEntry(seq: row["seq"], key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], deleted: row["deleted"])
            }
        }
    }

    public func lastSeq() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM revisions") ?? 0 }
    }

    public func revisions(_ key: RecordKey) async throws -> [RevisionEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT rev, seq, deleted, fields, created_at FROM revisions WHERE kind = ? AND id = ? ORDER BY seq DESC",
                arguments: [key.kind, key.id]
            ).map { row in
                RevisionEntry(rev: row["rev"], seq: row["seq"], deleted: row["deleted"], fieldsJSON: row["fields"], createdAt: row["created_at"])
            }
        }
    }

    public func purgeIdempotencyKeys(olderThan age: Double) async throws {
        let cutoff = Timestamp.now() - age
        try await pool.write { db in try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [cutoff]) }
    }
}
