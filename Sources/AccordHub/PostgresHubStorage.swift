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

    private static func commit(_ batch: [PendingWrite], client: PostgresClient, dataset: String, logger: Logger) async throws -> [WriteOutcome] {
        try await client.withTransaction(logger: logger) { connection in
            var lastSeq: Int64 = 0
            for try await seq in try await connection.query(
                "SELECT last_seq FROM accord_datasets WHERE name = \(dataset) FOR UPDATE", logger: logger
            ).decode(Int64.self) {
                lastSeq = seq
            }
            let first = lastSeq
            var outcomes: [WriteOutcome] = []
            for write in batch {
                outcomes.append(try await Self.apply(connection, dataset: dataset, write.request, lastSeq: &lastSeq, respond: write.respond, logger: logger))
            }
            if lastSeq != first {
                try await connection.query("UPDATE accord_datasets SET last_seq = \(lastSeq) WHERE name = \(dataset)", logger: logger)
                // Delivered at COMMIT, to every hub listening.
                try await connection.query("SELECT pg_notify(\(Self.channel), \(dataset + " " + String(lastSeq)))", logger: logger)
            }
            return outcomes
        }
    }

    /// One write: the idempotency check, the plan, the new revision, the stored answer.
    private static func apply(
        _ connection: PostgresConnection, dataset: String, _ request: WriteRequest, lastSeq: inout Int64,
        respond: (WriteOutcome) -> StoredResponse, logger: Logger
    ) async throws -> WriteOutcome {
        if let idempotency = request.idempotency {
            var replay: WriteOutcome?
            for try await (fingerprint, status, etag, body) in try await connection.query(
                "SELECT fingerprint, status, etag, body FROM accord_idempotency WHERE dataset = \(dataset) AND key = \(idempotency.key)", logger: logger
            ).decode((String, Int, String?, String).self) {
                replay = fingerprint == idempotency.fingerprint ? .replay(StoredResponse(status: status, etag: etag, body: body)) : .idempotencyMismatch
            }
            if let replay { return replay }
        }
        var current: StoredRecord?
        for try await (rev, seq, deleted, fields) in try await connection.query(
            "SELECT rev, seq, deleted, fields FROM accord_records WHERE dataset = \(dataset) AND kind = \(request.key.kind) AND id = \(request.key.id)",
            logger: logger
        ).decode((String, Int64, Bool, String).self) {
            current = StoredRecord(key: request.key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fields)
        }
        let outcome: WriteOutcome
        switch WritePlan.decide(request, current: current) {
        case .answer(let answer):
            outcome = answer
        case .store(let rev, let deleted, let fieldsJSON, let created):
            lastSeq += 1
            let (kind, id, seq) = (request.key.kind, request.key.id, lastSeq)
            try await connection.query(
                """
                INSERT INTO accord_revisions (dataset, seq, kind, id, rev, deleted, fields, created_at, author)
                VALUES (\(dataset), \(seq), \(kind), \(id), \(rev), \(deleted), \(fieldsJSON), \(Timestamp.now()), \(request.author))
                """, logger: logger)
            try await connection.query(
                """
                INSERT INTO accord_records (dataset, kind, id, rev, seq, deleted, fields)
                VALUES (\(dataset), \(kind), \(id), \(rev), \(seq), \(deleted), \(fieldsJSON))
                ON CONFLICT (dataset, kind, id) DO UPDATE SET rev = excluded.rev, seq = excluded.seq,
                    deleted = excluded.deleted, fields = excluded.fields
                """, logger: logger)
            outcome = WritePlan.outcome(StoredRecord(key: request.key, rev: rev, seq: seq, deleted: deleted, fieldsJSON: fieldsJSON), created: created)
        }
        if let idempotency = request.idempotency {
            let response = respond(outcome)
            try await connection.query(
                """
                INSERT INTO accord_idempotency (dataset, key, fingerprint, status, etag, body, created_at)
                VALUES (\(dataset), \(idempotency.key), \(idempotency.fingerprint), \(response.status), \(response.etag), \(response.body), \(Timestamp.now()))
                """, logger: logger)
        }
        return outcome
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
