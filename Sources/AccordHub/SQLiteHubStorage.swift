import AccordCore
import GRDB

/// `HubStorage` on one SQLite file through GRDB: WAL mode, `synchronous = FULL`, one
/// transaction per write, so an acknowledged write is on disk before the response.
package final class SQLiteHubStorage: HubStorage {
    private let pool: DatabasePool
    private let writer: GroupCommit<PendingWrite, WriteOutcome>
    private let cache = RecordCache()
    private let feed: FeedIndex
    private let lock: DatabaseLock
    private let identity: String

    struct PendingWrite: Sendable {
        var request: WriteRequest
        var respond: @Sendable (WriteOutcome) -> StoredResponse
    }

    package init(path: String) throws {
        lock = try DatabaseLock(database: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // GRDB's default is userInitiated, whose libdispatch threads ask for nice -2,
        // which an unprivileged service may not take (see CommandRunner).
        configuration.qos = .default
        pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets NORMAL on the writer when it opens the pool; FULL makes every commit
        // reach the disk before the hub answers, not just the process's page cache.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        // A database a newer hub has migrated is refused, not served with a schema this
        // hub does not know (CONTRACT 8.5); GRDB would skip the unknown migrations.
        if try pool.read({ db in try HubMigrations.migrator.hasBeenSuperseded(db) }) {
            throw NewerDatabaseError(path: path)
        }
        try HubMigrations.migrator.migrate(pool)
        let opened = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM revisions") ?? 0 }
        // Never served empty: a client would take that for a hub without IDs.
        guard let identity = try pool.read({ db in try String.fetchOne(db, sql: "SELECT id FROM feed_identity") }), !identity.isEmpty else {
            throw DamagedDatabaseError(path: path)
        }
        self.identity = identity
        let feed = FeedIndex(floor: opened)
        self.feed = feed
        let (pool, cache) = (self.pool, self.cache)
        writer = GroupCommit { batch in
            let outcomes = try pool.write { db in try batch.map { try Self.apply(db, $0.request, respond: $0.respond) } }
            let written = outcomes.compactMap(\.written)
            cache.committed(written)
            feed.committed(written)
            return outcomes
        }
    }

    /// GRDB's blocking read, chosen explicitly (in async code the async overload wins).
    private func readNow<T>(_ block: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(block)  // one statement needs no explicit transaction
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL), for tests.
    package func synchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Reads run synchronously on the caller's thread: one indexed row costs less than
    /// the two thread hops of GRDB's async API.
    package func record(_ key: RecordKey) async throws -> StoredRecord? {
        let (cached, generation) = cache.lookup(key)
        if let cached { return cached }
        guard let stored = try readNow({ db in try Self.current(db, key) }) else { return nil }
        cache.fill(stored, readAt: generation)
        return stored
    }

    /// Concurrent writes share a transaction and its fsync (group commit); each is
    /// acknowledged only after that commit.
    package func write(_ request: WriteRequest, respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> WriteOutcome {
        try await writer.submit(PendingWrite(request: request, respond: respond))
    }

    package func writeBatch(_ requests: [WriteRequest], respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> [WriteOutcome] {
        try await writer.submit(requests.map { PendingWrite(request: $0, respond: respond) })
    }

    /// One write inside the batch's transaction: the idempotency check, the write, and
    /// the response kept for replays.
    private static func apply(_ db: Database, _ request: WriteRequest, respond: (WriteOutcome) -> StoredResponse) throws -> WriteOutcome {
        if let idempotency = request.idempotency,
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT fingerprint, status, etag, body FROM idempotency WHERE key = ?"), arguments: [idempotency.key])
        {
            let fingerprint: String = row["fingerprint"]
            guard fingerprint == idempotency.fingerprint else { return .idempotencyMismatch }
            return .replay(StoredResponse(status: row["status"], etag: row["etag"], body: row["body"]))
        }
        let outcome = try applyChange(db, request)
        if let idempotency = request.idempotency {
            let response = respond(outcome)
            try db.cachedStatement(sql: "INSERT INTO idempotency (key, fingerprint, status, etag, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [idempotency.key, idempotency.fingerprint, response.status, response.etag, response.body, Timestamp.now()])
        }
        return outcome
    }

    /// The write as `WritePlan` decides it, inside the caller's transaction.
    private static func applyChange(_ db: Database, _ request: WriteRequest) throws -> WriteOutcome {
        switch WritePlan.decide(request, current: try current(db, request.key)) {
        case .answer(let outcome):
            return outcome
        case .store(let rev, let deleted, let fieldsJSON, let created):
            try db.cachedStatement(sql: "INSERT INTO revisions (kind, id, rev, deleted, fields, created_at, author) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [request.key.kind, request.key.id, rev, deleted, fieldsJSON, Timestamp.now(), request.author])
            let seq = db.lastInsertedRowID
            try db.cachedStatement(
                sql: """
                    INSERT INTO records (kind, id, rev, seq, deleted, fields) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
                        deleted = excluded.deleted, fields = excluded.fields
                    """
            ).execute(arguments: [request.key.kind, request.key.id, rev, seq, deleted, fieldsJSON])
            return WritePlan.outcome(StoredRecord(key: request.key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fieldsJSON), created: created)
        }
    }

    private static func current(_ db: Database, _ key: RecordKey) throws -> StoredRecord? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT rev, seq, deleted, fields FROM records WHERE kind = ? AND id = ?"), arguments: [key.kind, key.id])
        else { return nil }
        return StoredRecord(key: key, rev: row["rev"], seq: row["seq"], deleted: row["deleted"], fieldsJSON: row["fields"])
    }

    package func changes(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry] {
        if let page = recentChanges(since: since, limit: limit, fields: fields) { return page }
        return try changesFromDatabase(since: since, limit: limit, fields: fields)
    }

    /// A page from memory when `since` is recent enough (and, with fields, every live
    /// record's version is in the record cache); nil otherwise.
    private func recentChanges(since: Int64, limit: Int, fields: Bool) -> [ChangeEntry]? {
        guard let entries = feed.page(since: since, limit: limit) else { return nil }
        var page: [ChangeEntry] = []
        page.reserveCapacity(entries.count)
        for entry in entries {
            var change = ChangeEntry(seq: entry.seq, key: entry.key, rev: entry.rev, deleted: entry.deleted)
            if fields, !entry.deleted {
                guard let cached = cache.lookup(entry.key).record, cached.rev == entry.rev else { return nil }
                change.fieldsJSON = cached.fieldsJSON
            }
            page.append(change)
        }
        return page
    }

    /// The same page read from the database; the only way for pages older than the
    /// hub's start.
    package func changesFromDatabase(since: Int64, limit: Int, fields: Bool) throws -> [ChangeEntry] {
        let sql =
            fields
            ? "SELECT seq, kind, id, rev, deleted, fields FROM records WHERE seq > ? ORDER BY seq LIMIT ?"
            : "SELECT seq, kind, id, rev, deleted FROM records WHERE seq > ? ORDER BY seq LIMIT ?"
        return try readNow { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [since, limit]).map { row in
                let deleted: Bool = row["deleted"]
                return ChangeEntry(
                    seq: row["seq"], key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], deleted: deleted,
                    fieldsJSON: fields && !deleted ? row["fields"] : nil)
            }
        }
    }

    /// Read once: the hub holds the file open and locked, so it cannot change.
    package func feedID() async throws -> String { identity }

    package func revision(atSeq seq: Int64) async throws -> (key: RecordKey, rev: String)? {
        try readNow { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT kind, id, rev FROM revisions WHERE seq = ?"), arguments: [seq]).map {
                (RecordKey(kind: $0["kind"], id: $0["id"]), $0["rev"])
            }
        }
    }

    package func lastSeq() async throws -> Int64 {
        try readNow { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) FROM revisions")) ?? 0 }
    }

    package func revisions(_ key: RecordKey, before: Int64?, limit: Int) async throws -> [RevisionEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rev, seq, deleted, fields, created_at, author FROM revisions
                    WHERE kind = ? AND id = ? AND seq < ? ORDER BY seq DESC LIMIT ?
                    """,
                arguments: [key.kind, key.id, before ?? Int64.max, limit]
            ).map { row in
                RevisionEntry(
                    rev: row["rev"], seq: row["seq"], deleted: row["deleted"], fieldsJSON: row["fields"], createdAt: row["created_at"], author: row["author"])
            }
        }
    }

    package func purgeIdempotencyKeys(olderThan age: Double) async throws {
        let cutoff = Timestamp.now() - age
        try await pool.write { db in try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [cutoff]) }
    }
}
