import Logging
import PostgresNIO

/// The hub's schema on PostgreSQL, as numbered migrations (CONTRACT 8.5). Every
/// dataset shares the tables, keyed by its name; `accord_datasets.last_seq` is the
/// dataset's seq counter, whose row lock orders its writers (see `PostgresHubStorage`).
enum PostgresMigrations {
    /// Serialises hubs that migrate at once (`pg_advisory_xact_lock`).
    static let lockKey: Int64 = 0x6163_636f_7264  // "accord"

    static let all: [(version: Int, statements: [String])] = [
        (
            1,
            [
                "CREATE TABLE accord_datasets (name text PRIMARY KEY, last_seq bigint NOT NULL DEFAULT 0)",
                """
                CREATE TABLE accord_revisions (
                    dataset text NOT NULL, seq bigint NOT NULL, kind text NOT NULL, id text NOT NULL, rev text NOT NULL,
                    deleted boolean NOT NULL, fields text NOT NULL, created_at double precision NOT NULL, author text,
                    PRIMARY KEY (dataset, seq))
                """,
                "CREATE INDEX accord_revisions_by_record ON accord_revisions (dataset, kind, id, seq)",
                """
                CREATE TABLE accord_records (
                    dataset text NOT NULL, kind text NOT NULL, id text NOT NULL, rev text NOT NULL, seq bigint NOT NULL,
                    deleted boolean NOT NULL, fields text NOT NULL,
                    PRIMARY KEY (dataset, kind, id))
                """,
                "CREATE UNIQUE INDEX accord_records_by_seq ON accord_records (dataset, seq)",
                """
                CREATE TABLE accord_idempotency (
                    dataset text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, status bigint NOT NULL, etag text,
                    body text NOT NULL, created_at double precision NOT NULL,
                    PRIMARY KEY (dataset, key))
                """,
                "CREATE INDEX accord_idempotency_by_age ON accord_idempotency (created_at)",
            ]
        ),
        (2, [lockGroupFunction]),
        // Each dataset's feed identity (`HubStorage.feedID`): random for a dataset
        // without history (a volatile default gives each row its own), derived from
        // the first revision of one that has some, so that a backup taken before this
        // migration and restored after it gets the same ID again (`FeedIdentity`).
        (
            3,
            [
                "ALTER TABLE accord_datasets ADD COLUMN feed_id text NOT NULL DEFAULT gen_random_uuid()::text",
                """
                UPDATE accord_datasets d SET feed_id = md5(r.kind || '/' || r.id || ' ' || r.rev || ' ' || r.created_at::text)::uuid::text
                FROM (SELECT DISTINCT ON (dataset) dataset, kind, id, rev, created_at FROM accord_revisions ORDER BY dataset, seq) r
                WHERE r.dataset = d.name
                """,
            ]
        ),
    ]

    /// A write group's lock and state in one call (`PostgresStatements.LockGroup`):
    /// the dataset's counter row `FOR UPDATE`, then, in a statement of its own, its
    /// last seq (`c`), the group's current records (`r`: kind, id, rev, seq, deleted,
    /// fields) and the kept answers of its idempotency keys (`k`: key, fingerprint,
    /// etag, status, false, body), told apart by the first column.
    ///
    /// VOLATILE, so under READ COMMITTED the second statement takes a snapshot after
    /// the lock is granted and sees what the writer before committed. Through
    /// PostgreSQL 17 a SQL function's statements are planned at each call, with the
    /// tables' current statistics: a plan cached for a connection's life while a
    /// dataset was small would scan the whole table once it has grown. (PostgreSQL 18
    /// caches them; measure there before relying on it.)
    static let lockGroupFunction = """
        CREATE FUNCTION accord_lock_group(p_dataset text, p_kinds text[], p_ids text[], p_keys text[])
        RETURNS TABLE (what text, a text, b text, c text, n bigint, d boolean, body text)
        LANGUAGE sql VOLATILE AS $$
            SELECT last_seq FROM accord_datasets WHERE name = p_dataset FOR UPDATE;
            SELECT 'c', '', '', NULL, last_seq, false, '' FROM accord_datasets WHERE name = p_dataset
            UNION ALL
            SELECT 'r', kind, id, rev, seq, deleted, fields FROM accord_records
            WHERE dataset = p_dataset AND (kind, id) IN (SELECT * FROM unnest(p_kinds, p_ids))
            UNION ALL
            SELECT 'k', key, fingerprint, etag, status, false, body FROM accord_idempotency
            WHERE dataset = p_dataset AND key = ANY(p_keys);
        $$
        """

    static var latest: Int { all.last?.version ?? 0 }

    /// Brings the schema to `latest` in one transaction; refuses a newer one.
    /// Returns the versions before and after, and what was made again (`repair`).
    @discardableResult
    static func migrate(
        _ client: PostgresClient, database: String, logger: Logger
    ) async throws -> (
        before: Int, after: Int, recreated: [String]
    ) {
        try await client.withReadCommittedTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS accord_schema (version bigint PRIMARY KEY, applied_at double precision NOT NULL)", logger: logger)
            var current = 0
            for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM accord_schema", logger: logger).decode(Int.self) {
                current = version
            }
            guard current <= latest else { throw NewerDatabaseError(path: database) }
            for migration in all where migration.version > current {
                for statement in migration.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query(
                    "INSERT INTO accord_schema (version, applied_at) VALUES (\(migration.version), \(Timestamp.now()))", logger: logger)
            }
            return (current, latest, try await repair(connection, logger: logger))
        }
    }

    /// Makes again what a migration made but its version number cannot vouch for: a
    /// function can be dropped by hand, or left out of a partial restore, and every
    /// write would then fail with 503 while `migrate` said there was nothing to do.
    /// Returns the names of what was missing.
    static func repair(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var present = false
        let check = "SELECT to_regprocedure('accord_lock_group(text,text[],text[],text[])') IS NOT NULL"
        for try await exists in try await connection.query(PostgresQuery(unsafeSQL: check), logger: logger).decode(Bool.self) {
            present = exists
        }
        if present { return [] }
        try await connection.query(PostgresQuery(unsafeSQL: lockGroupFunction), logger: logger)
        return ["accord_lock_group()"]
    }
}
