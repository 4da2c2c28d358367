import AccordCore
import GRDB

/// The outbox: operations waiting to be pushed, each with its next attempt time, kept
/// in the state file so that no queued change is lost across a crash.
extension StateStore {

    /// Queues the change of one record, replacing any operation still waiting for it.
    /// A replaced operation gets a new idempotency key: it is a different request.
    @discardableResult
    package func enqueue(_ key: RecordKey, _ kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, now: Double) throws -> OutboxOperation {
        try pool.write { db in try Self.enqueue(db, key, kind, baseRev: baseRev, fields: fields, now: now) }
    }

    static func enqueue(
        _ db: Database, _ key: RecordKey, _ kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, now: Double
    ) throws
        -> OutboxOperation
    {
        try insertOperation(db, key, kind, baseRev: baseRev, fields: fields, now: now)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM outbox WHERE kind = ? AND id = ?"), arguments: [key.kind, key.id]) else {
            throw StoreError("the outbox row for \(key) vanished inside its transaction")
        }
        return try Self.operation(row)
    }

    /// Queues (or replaces) the record's operation, with a new idempotency key.
    static func insertOperation(_ db: Database, _ key: RecordKey, _ kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, now: Double) throws {
        let idempotencyKey = Self.newKey()
        let fieldsText = fields.map { JSONWriter.line(.object($0)) }
        do {
            try db.cachedStatement(
                sql: """
                    INSERT INTO outbox (kind, id, operation, base_rev, fields, idempotency_key, attempts, next_attempt_at, last_error, changed_at)
                    VALUES (?, ?, ?, ?, ?, ?, 0, 0, NULL, ?)
                    ON CONFLICT (kind, id) DO UPDATE SET operation = excluded.operation, base_rev = excluded.base_rev,
                        fields = excluded.fields, idempotency_key = excluded.idempotency_key, attempts = 0,
                        next_attempt_at = 0, last_error = NULL, changed_at = excluded.changed_at
                    """
            ).execute(arguments: [key.kind, key.id, kind.rawValue, baseRev, fieldsText, idempotencyKey, now])
        }
    }

    /// Operations whose retry time has come, oldest first.
    package func dueOperations(now: Double, limit: Int) throws -> [OutboxOperation] {
        try pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY seq LIMIT ?"), arguments: [now, limit]
            ).map(Self.operation)
        }
    }

    package func pendingOperation(_ key: RecordKey) throws -> OutboxOperation? {
        try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM outbox WHERE kind = ? AND id = ?"), arguments: [key.kind, key.id]).map(Self.operation)
        }
    }

    package func allOperations() throws -> [OutboxOperation] {
        try pool.read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM outbox ORDER BY seq")).map(Self.operation) }
    }

    package func pendingCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM outbox")) ?? 0 }
    }

    /// The earliest time an operation becomes due, if any waits.
    /// Brings forward every operation waiting out a retry delay (not the rejected ones,
    /// which wait for the next local change).
    /// With `includingParked`, also the operations the hub refused for good (a manual
    /// sync or a restart tries them once more: the hub's schema or limits may have
    /// changed).
    package func retryAllNow(now: Double, includingParked: Bool = false) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at > ? AND next_attempt_at <= ?").execute(arguments: [
                now, now, includingParked ? Double.infinity : Double.greatestFiniteMagnitude.nextDown,
            ])
        }
    }

    package func nextAttemptTime() throws -> Double? {
        try pool.read { db in try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(next_attempt_at) FROM outbox")) }
    }

    /// The hub acknowledged operation `seq`: drop it and record the new base, atomically.
    /// If the record was queued again meanwhile (a newer operation), only the base moves.
    package func complete(_ operation: OutboxOperation, newBase: BaseSnapshot) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ? AND idempotency_key = ?").execute(arguments: [
                operation.seq, operation.idempotencyKey,
            ])
            try Self.saveBase(db, newBase)
        }
    }

    /// Drops an operation without a new base (it was merged into another, or rejected).
    package func discard(_ operation: OutboxOperation) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ? AND idempotency_key = ?").execute(arguments: [
                operation.seq, operation.idempotencyKey,
            ])
        }
    }

    /// A failed attempt: when to try again and why it failed.
    package func reschedule(_ operation: OutboxOperation, nextAttemptAt: Double, error: String) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ? AND idempotency_key = ?")
                .execute(arguments: [nextAttemptAt, error, operation.seq, operation.idempotencyKey])
        }
    }
}
