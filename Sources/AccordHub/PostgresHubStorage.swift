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
        var found: StoredRecord?
        for try await (rev, seq, deleted, fields) in try await client.execute(PostgresStatements.ReadRecord(dataset: dataset, key: key), logger: logger) {
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

    /// One group in one transaction of four round trips whatever its size: BEGIN,
    /// the row lock with the state the group needs (`PostgresStatements.LockGroup`),
    /// the plan's rows (`WriteBatchPlan`), COMMIT. The lock is held across the last
    /// two.
    private static func commit(_ batch: [PendingWrite], client: PostgresClient, dataset: String, logger: Logger) async throws -> [WriteOutcome] {
        do {
            return try await commitOnce(batch, client: client, dataset: dataset, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == Self.undefinedFunction {
            // `accord_lock_group` dropped by hand or left out of a restore: every write
            // would fail until a restart or `migrate`. It is made again, once, here.
            let made = try await client.withConnection { try await PostgresMigrations.repair($0, logger: logger) }
            // At error level: the logger given to storage shows no less (the driver's
            // own chatter is below it), and a damaged schema is the operator's business.
            logger.error("made again what the database lacked: \(made.joined(separator: ", ")); check how it went missing")
            return try await commitOnce(batch, client: client, dataset: dataset, logger: logger)
        }
    }

    /// SQLSTATE undefined_function.
    static let undefinedFunction = "42883"

    private static func commitOnce(_ batch: [PendingWrite], client: PostgresClient, dataset: String, logger: Logger) async throws -> [WriteOutcome] {
        try await client.withReadCommittedTransaction(logger: logger) { connection in
            let state = try await lockGroup(
                keys: Array(Set(batch.map(\.request.key))), idempotencyKeys: batch.compactMap(\.request.idempotency?.key),
                connection: connection, dataset: dataset, logger: logger)
            let plan = WriteBatchPlan(
                batch.map { ($0.request, $0.respond) }, current: state.current, keptResponses: state.kept, lastSeq: state.lastSeq,
                now: Timestamp.now())
            try await Self.store(plan, connection: connection, dataset: dataset, logger: logger)
            return plan.outcomes
        }
    }

    /// Takes the dataset's counter row for this transaction and returns its last seq.
    /// The transaction must be READ COMMITTED (`withReadCommittedTransaction`): the
    /// statements after the lock then see what the writer before it committed.
    static func lockCounter(_ connection: PostgresConnection, dataset: String, logger: Logger) async throws -> Int64 {
        var lastSeq: Int64?
        for try await seq in try await connection.execute(PostgresStatements.LockCounter(dataset: dataset), logger: logger) { lastSeq = seq }
        guard let lastSeq else { throw MissingCounterError(dataset: dataset) }
        return lastSeq
    }

    /// Takes the dataset's counter row for this transaction and reads, after the lock,
    /// its last seq, the current versions of a group's records and the kept answers
    /// of its idempotency keys. READ COMMITTED, as for `lockCounter`.
    private static func lockGroup(
        keys: [RecordKey], idempotencyKeys: [String], connection: PostgresConnection, dataset: String, logger: Logger
    ) async throws -> (lastSeq: Int64, current: [RecordKey: StoredRecord], kept: [String: WriteBatchPlan.KeptResponse]) {
        var lastSeq: Int64?
        var current: [RecordKey: StoredRecord] = [:]
        var kept: [String: WriteBatchPlan.KeptResponse] = [:]
        let statement = PostgresStatements.LockGroup(dataset: dataset, keys: keys, idempotencyKeys: idempotencyKeys)
        for try await (what, first, second, third, number, deleted, text) in try await connection.execute(statement, logger: logger) {
            switch what {
            case "c":
                lastSeq = number
            case "r":
                guard let rev = third else { continue }
                let key = RecordKey(kind: first, id: second)
                current[key] = StoredRecord(key: key, rev: rev, seq: number, deleted: deleted, fieldsJSON: text)
            case "k":
                kept[first] = WriteBatchPlan.KeptResponse(fingerprint: second, response: StoredResponse(status: Int(number), etag: third, body: text))
            default:
                continue
            }
        }
        guard let lastSeq else { throw MissingCounterError(dataset: dataset) }
        return (lastSeq, current, kept)
    }

    /// The plan's rows, in one statement (`PostgresStatements.StoreGroup`).
    private static func store(_ plan: WriteBatchPlan, connection: PostgresConnection, dataset: String, logger: Logger) async throws {
        // Nothing new (412s without idempotency keys): nothing to store.
        guard !plan.revisions.isEmpty || !plan.kept.isEmpty else { return }
        let statement = PostgresStatements.StoreGroup(dataset: dataset, plan: plan, now: Timestamp.now(), channel: channel)
        for try await _ in try await connection.execute(statement, logger: logger) {}
    }

    package func changes(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry] {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readChanges(since: since, limit: limit, fields: fields) }
    }

    private func readChanges(since: Int64, limit: Int, fields: Bool) async throws -> [ChangeEntry] {
        let statement = PostgresStatements.ReadChanges(dataset: dataset, since: since, fields: fields, limit: Int64(limit))
        var page: [ChangeEntry] = []
        for try await (seq, kind, id, rev, deleted, fieldsJSON) in try await client.execute(statement, logger: logger) {
            page.append(ChangeEntry(seq: seq, key: RecordKey(kind: kind, id: id), rev: rev, deleted: deleted, fieldsJSON: fieldsJSON))
        }
        return page
    }

    package func lastSeq() async throws -> Int64 {
        try await Deadline.run(seconds: Self.deadlineSeconds) { try await self.readLastSeq() }
    }

    /// Read each time, as everything here: the database behind the hub may be
    /// replaced while it runs.
    package func feedID() async throws -> String {
        try await Deadline.run(seconds: Self.deadlineSeconds) {
            var id: String?
            for try await row in try await self.client.execute(PostgresStatements.ReadFeedID(dataset: self.dataset), logger: self.logger) { id = row }
            guard let id else { throw MissingCounterError(dataset: self.dataset) }
            return id
        }
    }

    package func revision(atSeq seq: Int64) async throws -> (key: RecordKey, rev: String)? {
        try await Deadline.run(seconds: Self.deadlineSeconds) {
            var found: (key: RecordKey, rev: String)?
            let statement = PostgresStatements.ReadRevisionAtSeq(dataset: self.dataset, seq: seq)
            for try await (kind, id, rev) in try await self.client.execute(statement, logger: self.logger) {
                found = (RecordKey(kind: kind, id: id), rev)
            }
            return found
        }
    }

    private func readLastSeq() async throws -> Int64 {
        var last: Int64 = 0
        for try await seq in try await client.execute(PostgresStatements.ReadLastSeq(dataset: dataset), logger: logger) { last = seq }
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
