import AccordCore
import Logging
import PostgresNIO

/// `HubStorage` on PostgreSQL (CONTRACT 8.5): one dataset's rows in the shared tables,
/// for any number of hubs on one database. Nothing is cached in the process, since
/// another hub may write at any moment.
///
/// The changes feed must never skip a change. A seq is taken from the dataset's row in
/// `accord_datasets` under `SELECT … FOR UPDATE`, and that row lock is held to COMMIT:
/// every writer of a dataset, through any hub, takes its seqs and commits strictly
/// after the one before it has committed, so the committed seqs are always a prefix
/// and a reader can move its cursor past any seq it has seen. The same lock orders
/// preconditions and idempotency keys across hubs. The cost is one writer per dataset
/// at a time, which each request's batch of writes shares.
package final class PostgresHubStorage: HubStorage {
    private let client: PostgresClient
    /// The dataset's key in the tables.
    let dataset: String
    private let logger: Logger
    /// Concurrent writes through this hub share a transaction (and the row lock and
    /// WAL flush that come with it).
    private let writer: AsyncGroupCommit<PendingWrite, WriteOutcome>

    struct PendingWrite: Sendable {
        var request: WriteRequest
        var respond: @Sendable (WriteOutcome) -> StoredResponse
    }
    /// The NOTIFY channel that tells other hubs' long-polls a dataset moved on.
    static let channel = "accord_changes"
    /// How long a request may wait for the database before the hub answers 503 (a
    /// lost server would otherwise hold it for a minute and more).
    static let deadlineSeconds = 10.0

    /// Opens `dataset`, creating its counter row the first time.
    package init(client: PostgresClient, dataset: String, logger: Logger) async throws {
        self.client = client
        self.dataset = dataset
        self.logger = logger
        writer = AsyncGroupCommit { batch in
            try await Deadline.run(seconds: Self.deadlineSeconds) { try await Self.commit(batch, client: client, dataset: dataset, logger: logger) }
        }
        try await client.query("INSERT INTO accord_datasets (name, last_seq) VALUES (\(dataset), 0) ON CONFLICT (name) DO NOTHING", logger: logger)
    }

    package func record(_ key: RecordKey) async throws -> StoredRecord? {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readRecord(key) }
    }

    private func readRecord(_ key: RecordKey) async throws -> StoredRecord? {
        let rows = try await client.query(
            "SELECT rev, seq, deleted, fields FROM accord_records WHERE dataset = \(dataset) AND kind = \(key.kind) AND id = \(key.id)", logger: logger)
        var found: StoredRecord?
        for try await (rev, seq, deleted, fields) in rows.decode((String, Int64, Bool, String).self) {
            found = StoredRecord(key: key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fields)
        }
        return found
    }

    package func write(_ request: WriteRequest, respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> WriteOutcome {
        guard let outcome = try await writeBatch([request], respond: respond).first else { throw GroupCommitError.missingOutcome }
        return outcome
    }

    /// The writes in order, in one transaction (with whatever else this hub has
    /// waiting) under the dataset's row lock.
    package func writeBatch(_ requests: [WriteRequest], respond: @escaping @Sendable (WriteOutcome) -> StoredResponse) async throws -> [WriteOutcome] {
        guard !requests.isEmpty else { return [] }
        // Past the deadline the answer is 503 and the client retries with the same
        // idempotency keys: a transaction that did commit then replays.
        return try await writer.submit(requests.map { PendingWrite(request: $0, respond: respond) })
    }

    /// One group in one transaction, in a fixed number of round trips: the row lock,
    /// the state the group needs, the plan (`WriteBatchPlan`), then its rows.
    private static func commit(_ batch: [PendingWrite], client: PostgresClient, dataset: String, logger: Logger) async throws -> [WriteOutcome] {
        try await client.withTransaction(logger: logger) { connection in
            let lastSeq = try await lockCounter(connection, dataset: dataset, logger: logger)
            let keys = Array(Set(batch.map(\.request.key)))
            var current: [RecordKey: StoredRecord] = [:]
            for try await (kind, id, rev, seq, deleted, fields) in try await connection.query(
                """
                SELECT kind, id, rev, seq, deleted, fields FROM accord_records
                WHERE dataset = \(dataset) AND (kind, id) IN (SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.id))::text[]))
                """, logger: logger
            ).decode((String, String, String, Int64, Bool, String).self) {
                let key = RecordKey(kind: kind, id: id)
                current[key] = StoredRecord(key: key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fields)
            }
            var kept: [String: WriteBatchPlan.KeptResponse] = [:]
            let idempotencyKeys = batch.compactMap(\.request.idempotency?.key)
            if !idempotencyKeys.isEmpty {
                for try await (key, fingerprint, status, etag, body) in try await connection.query(
                    "SELECT key, fingerprint, status, etag, body FROM accord_idempotency WHERE dataset = \(dataset) AND key = ANY(\(idempotencyKeys)::text[])",
                    logger: logger
                ).decode((String, String, Int, String?, String).self) {
                    kept[key] = WriteBatchPlan.KeptResponse(fingerprint: fingerprint, response: StoredResponse(status: status, etag: etag, body: body))
                }
            }
            let plan = WriteBatchPlan(
                batch.map { ($0.request, $0.respond) }, current: current, keptResponses: kept, lastSeq: lastSeq, now: Timestamp.now())
            try await Self.store(plan, connection: connection, dataset: dataset, logger: logger)
            return plan.outcomes
        }
    }

    /// Takes the dataset's counter row for this transaction and returns its last seq.
    /// READ COMMITTED whatever the database's default: each hub's statements after
    /// the lock must see what the writer before it committed.
    static func lockCounter(_ connection: PostgresConnection, dataset: String, logger: Logger) async throws -> Int64 {
        try await connection.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", logger: logger)
        var lastSeq: Int64?
        for try await seq in try await connection.query(
            "SELECT last_seq FROM accord_datasets WHERE name = \(dataset) FOR UPDATE", logger: logger
        ).decode(Int64.self) {
            lastSeq = seq
        }
        guard let lastSeq else { throw MissingCounterError(dataset: dataset) }
        return lastSeq
    }

    /// The plan's rows, three statements at most, then the counter and the NOTIFY.
    private static func store(_ plan: WriteBatchPlan, connection: PostgresConnection, dataset: String, logger: Logger) async throws {
        if !plan.revisions.isEmpty {
            let rows = plan.revisions
            // Arrays cannot carry NULL here: an empty author stands for none (a token's
            // name is never empty).
            try await connection.query(
                """
                INSERT INTO accord_revisions (dataset, seq, kind, id, rev, deleted, fields, created_at, author)
                SELECT \(dataset), s, k, i, r, d, f, c, NULLIF(a, '') FROM unnest(
                    \(rows.map(\.record.seq))::bigint[], \(rows.map(\.record.key.kind))::text[], \(rows.map(\.record.key.id))::text[],
                    \(rows.map(\.record.rev))::text[], \(rows.map(\.record.deleted))::boolean[], \(rows.map(\.record.fieldsJSON))::text[],
                    \(rows.map(\.createdAt))::float8[], \(rows.map { $0.author ?? "" })::text[]) AS t(s, k, i, r, d, f, c, a)
                """, logger: logger)
            let records = Array(plan.records.values)
            try await connection.query(
                """
                INSERT INTO accord_records (dataset, kind, id, rev, seq, deleted, fields)
                SELECT \(dataset), k, i, r, s, d, f FROM unnest(
                    \(records.map(\.key.kind))::text[], \(records.map(\.key.id))::text[], \(records.map(\.rev))::text[], \(records.map(\.seq))::bigint[],
                    \(records.map(\.deleted))::boolean[], \(records.map(\.fieldsJSON))::text[]) AS t(k, i, r, s, d, f)
                ON CONFLICT (dataset, kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
                    deleted = excluded.deleted, fields = excluded.fields
                """, logger: logger)
            try await connection.query("UPDATE accord_datasets SET last_seq = \(plan.lastSeq) WHERE name = \(dataset)", logger: logger)
            // Delivered at COMMIT, to every hub listening.
            try await connection.query("SELECT pg_notify(\(Self.channel), \(dataset + " " + String(plan.lastSeq)))", logger: logger)
        }
        if !plan.kept.isEmpty {
            let kept = plan.kept
            // An etag is never empty either.
            try await connection.query(
                """
                INSERT INTO accord_idempotency (dataset, key, fingerprint, status, etag, body, created_at)
                SELECT \(dataset), k, f, s, NULLIF(e, ''), b, \(Timestamp.now()) FROM unnest(
                    \(kept.map(\.key))::text[], \(kept.map(\.kept.fingerprint))::text[], \(kept.map { Int64($0.kept.response.status) })::bigint[],
                    \(kept.map { $0.kept.response.etag ?? "" })::text[], \(kept.map(\.kept.response.body))::text[]) AS t(k, f, s, e, b)
                """, logger: logger)
        }
    }

    package func changes(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry] {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readChanges(since: since, limit: limit, fields: fields) }
    }

    private func readChanges(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry] {
        let rows = try await client.query(
            """
            SELECT seq, kind, id, rev, deleted, CASE WHEN \(fields) AND NOT deleted THEN fields END FROM accord_records
            WHERE dataset = \(dataset) AND seq > \(since) ORDER BY seq LIMIT \(limit)
            """, logger: logger)
        var page: [ChangeEntry] = []
        for try await (seq, kind, id, rev, deleted, fieldsJSON) in rows.decode((Int64, String, String, String, Bool, String?).self) {
            page.append(ChangeEntry(seq: seq, key: RecordKey(kind: kind, id: id), rev: rev, deleted: deleted, fieldsJSON: fieldsJSON))
        }
        return page
    }

    package func lastSeq() async throws -> Int64 {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readLastSeq() }
    }

    private func readLastSeq() async throws -> Int64 {
        var last: Int64 = 0
        for try await seq in try await client.query("SELECT last_seq FROM accord_datasets WHERE name = \(dataset)", logger: logger).decode(Int64.self) {
            last = seq
        }
        return last
    }

    package func revisions(_ key: RecordKey, before: Int64?, limit: Int) async throws -> [RevisionEntry] {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readRevisions(key, before: before, limit: limit) }
    }

    private func readRevisions(_ key: RecordKey, before: Int64?, limit: Int) async throws -> [RevisionEntry] {
        let rows = try await client.query(
            """
            SELECT rev, seq, deleted, fields, created_at, author FROM accord_revisions
            WHERE dataset = \(dataset) AND kind = \(key.kind) AND id = \(key.id) AND seq < \(before ?? Int64.max)
            ORDER BY seq DESC LIMIT \(limit)
            """, logger: logger)
        var page: [RevisionEntry] = []
        for try await (rev, seq, deleted, fields, createdAt, author) in rows.decode((String, Int64, Bool, String, Double, String?).self) {
            page.append(RevisionEntry(rev: rev, seq: seq, deleted: deleted, fieldsJSON: fields, createdAt: createdAt, author: author))
        }
        return page
    }

    package func purgeIdempotencyKeys(olderThan age: Double) async throws {
        try await client.query(
            "DELETE FROM accord_idempotency WHERE dataset = \(dataset) AND created_at < \(Timestamp.now() - age)", logger: logger)
    }
}
