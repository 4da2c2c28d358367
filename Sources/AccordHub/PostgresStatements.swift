import AccordCore
import PostgresNIO

/// The hub's frequent SQL on PostgreSQL as prepared statements: each connection of the
/// pool parses and plans one once, then only binds and runs it. That halves the
/// server's work for a record read (pgbench on a 2-core machine: 15,600 point reads/s
/// unprepared, 31,600 prepared) and shortens every write transaction, which holds its
/// dataset's row lock.
enum PostgresStatements {
    /// A binding list from values in order.
    static func bindings(_ values: any PostgresThrowingDynamicTypeEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value) }
        return bindings
    }

    /// The current version of one record.
    struct ReadRecord: PostgresPreparedStatement {
        static let sql = "SELECT rev, seq, deleted, fields FROM accord_records WHERE dataset = $1 AND kind = $2 AND id = $3"
        typealias Row = (String, Int64, Bool, String)
        var dataset: String
        var key: RecordKey
        func makeBindings() throws -> PostgresBindings { try PostgresStatements.bindings(dataset, key.kind, key.id) }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A page of the changes feed: each record's latest change after a seq, with its
    /// fields when asked and the record is not deleted.
    struct ReadChanges: PostgresPreparedStatement {
        static let sql = """
            SELECT seq, kind, id, rev, deleted, CASE WHEN $3 AND NOT deleted THEN fields END FROM accord_records
            WHERE dataset = $1 AND seq > $2 ORDER BY seq LIMIT $4
            """
        typealias Row = (Int64, String, String, String, Bool, String?)
        var dataset: String
        var since: Int64
        var fields: Bool
        var limit: Int64
        func makeBindings() throws -> PostgresBindings { try PostgresStatements.bindings(dataset, since, fields, limit) }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A statement on a dataset's counter row: the dataset is its one binding, the
    /// last seq its row.
    protocol CounterStatement: PostgresPreparedStatement where Row == Int64 {
        var dataset: String { get }
    }

    /// A dataset's last seq, without a lock.
    struct ReadLastSeq: CounterStatement {
        static let sql = "SELECT last_seq FROM accord_datasets WHERE name = $1"
        var dataset: String
    }

    /// The record and rev of the write that took a seq.
    struct ReadRevisionAtSeq: PostgresPreparedStatement {
        static let sql = "SELECT kind, id, rev FROM accord_revisions WHERE dataset = $1 AND seq = $2"
        typealias Row = (String, String, String)
        var dataset: String
        var seq: Int64
        func makeBindings() throws -> PostgresBindings { try PostgresStatements.bindings(dataset, seq) }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A dataset's feed identity (`FeedIdentity`).
    struct ReadFeedID: PostgresPreparedStatement {
        static let sql = "SELECT feed_id FROM accord_datasets WHERE name = $1"
        typealias Row = String
        var dataset: String
        func makeBindings() throws -> PostgresBindings { try PostgresStatements.bindings(dataset) }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A dataset's last seq, its counter row locked to the end of the transaction.
    struct LockCounter: CounterStatement {
        static let sql = "SELECT last_seq FROM accord_datasets WHERE name = $1 FOR UPDATE"
        var dataset: String
    }

    /// A write group's lock and state in one round trip: the rows of
    /// `accord_lock_group` (`PostgresMigrations.lockGroupFunction`).
    struct LockGroup: PostgresPreparedStatement {
        static let sql = "SELECT what, a, b, c, n, d, body FROM accord_lock_group($1, $2::text[], $3::text[], $4::text[])"
        typealias Row = (String, String, String, String?, Int64, Bool, String)
        var dataset: String
        var keys: [RecordKey]
        var idempotencyKeys: [String]
        func makeBindings() throws -> PostgresBindings {
            try PostgresStatements.bindings(dataset, keys.map(\.kind), keys.map(\.id), idempotencyKeys)
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A group's rows in one statement: its revisions, the records' current versions,
    /// the kept answers of its idempotency keys and, if the dataset moved on, the
    /// counter and the NOTIFY "dataset seq" (delivered at COMMIT to every hub
    /// listening). An empty array inserts nothing. Arrays cannot carry NULL here: an
    /// empty author or etag stands for none (a token's name and an etag are never
    /// empty).
    struct StoreGroup: PostgresPreparedStatement {
        static let sql = """
            WITH revisions AS (
                INSERT INTO accord_revisions (dataset, seq, kind, id, rev, deleted, fields, created_at, author)
                SELECT $1, s, k, i, r, d, f, c, NULLIF(a, '')
                FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::float8[], $9::text[])
                    AS t(s, k, i, r, d, f, c, a)
            ), records AS (
                INSERT INTO accord_records (dataset, kind, id, rev, seq, deleted, fields)
                SELECT $1, k, i, r, s, d, f
                FROM unnest($10::text[], $11::text[], $12::text[], $13::bigint[], $14::boolean[], $15::text[]) AS t(k, i, r, s, d, f)
                ON CONFLICT (dataset, kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
                    deleted = excluded.deleted, fields = excluded.fields
            ), kept AS (
                INSERT INTO accord_idempotency (dataset, key, fingerprint, status, etag, body, created_at)
                SELECT $1, k, f, s, NULLIF(e, ''), b, $21::float8
                FROM unnest($16::text[], $17::text[], $18::bigint[], $19::text[], $20::text[]) AS t(k, f, s, e, b)
            ), counter AS (
                UPDATE accord_datasets SET last_seq = $22 WHERE name = $1 AND $23
            )
            SELECT pg_notify($24, $25) WHERE $23
            """
        typealias Row = Void
        var dataset: String
        var plan: WriteBatchPlan
        var now: Double
        var channel: String

        func makeBindings() throws -> PostgresBindings {
            let revisions = plan.revisions
            let records = Array(plan.records.values)
            let kept = plan.kept
            return try PostgresStatements.bindings(
                dataset,
                revisions.map(\.record.seq), revisions.map(\.record.key.kind), revisions.map(\.record.key.id), revisions.map(\.record.rev),
                revisions.map(\.record.deleted), revisions.map(\.record.fieldsJSON), revisions.map(\.createdAt), revisions.map { $0.author ?? "" },
                records.map(\.key.kind), records.map(\.key.id), records.map(\.rev), records.map(\.seq), records.map(\.deleted), records.map(\.fieldsJSON),
                kept.map(\.key), kept.map(\.kept.fingerprint), kept.map { Int64($0.kept.response.status) }, kept.map { $0.kept.response.etag ?? "" },
                kept.map(\.kept.response.body), now,
                plan.lastSeq, !revisions.isEmpty, channel, dataset + " " + String(plan.lastSeq))
        }
        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }
}

extension PostgresStatements.CounterStatement {
    func makeBindings() throws -> PostgresBindings { try PostgresStatements.bindings(dataset) }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}
