import AccordCore
import GRDB

/// One durable change of a step, as the engine's applier hands it over.
package enum StoreWrite: Sendable, Equatable {
    case saveBase(BaseSnapshot)
    case enqueue(key: RecordKey, kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, changedAt: Double)
    case dropOperation(OutboxOperation)
    case reschedule(OutboxOperation, at: Double, error: String)
    case setConflicts(RecordKey, [StoredConflict])
    case event(type: String, record: String, summary: String, at: Double)
    case markUnapplied(RecordKey, rev: String, attempts: Int, nextAttemptAt: Double, error: String, now: Double)
    case clearUnapplied(RecordKey)
    case saveFile(FileIndexEntry)
    case removeFile(String)
    /// The cursor, with the last change applied before it when there is one.
    case setCursor(Int64, anchor: FeedAnchor?)
}

extension StateStore {
    /// Whether a failed commit may succeed later as it is: the disk full, failing,
    /// read-only or busy. Any other error would fail the same way at every try (a
    /// commit kept to be made again would stop every step for good).
    package static func mayPass(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_READONLY, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN].contains(error.resultCode)
    }

    /// Commits `writes` in one transaction (one fsync): a step's state moves as a whole
    /// or not at all, whatever moment a `kill -9` picks.
    package func commit(_ writes: [StoreWrite]) throws {
        guard !writes.isEmpty else { return }
        let bound = maxEvents
        try pool.write { db in
            for write in writes {
                switch write {
                case .saveBase(let base): try Self.saveBase(db, base)
                case .enqueue(let key, let kind, let baseRev, let fields, let changedAt):
                    _ = try Self.enqueue(db, key, kind, baseRev: baseRev, fields: fields, now: changedAt)
                case .dropOperation(let operation):
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ? AND idempotency_key = ?")
                        .execute(arguments: [operation.seq, operation.idempotencyKey])
                case .reschedule(let operation, let at, let error):
                    try db.cachedStatement(
                        sql: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE seq = ? AND idempotency_key = ?"
                    ).execute(arguments: [at, error, operation.seq, operation.idempotencyKey])
                case .setConflicts(let key, let conflicts): try Self.setConflicts(db, key, conflicts)
                case .event(let type, let record, let summary, let at):
                    try Self.insertEvent(db, type: type, record: record, summary: summary, at: at, bound: bound)
                case .markUnapplied(let key, let rev, let attempts, let nextAttemptAt, let error, let now):
                    try Self.markUnapplied(db, key, rev: rev, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error, now: now)
                case .clearUnapplied(let key):
                    try db.cachedStatement(sql: "DELETE FROM unapplied WHERE kind = ? AND id = ?").execute(arguments: [key.kind, key.id])
                case .saveFile(let entry): try Self.saveFile(db, entry)
                case .removeFile(let path): try db.cachedStatement(sql: "DELETE FROM files WHERE path = ?").execute(arguments: [path])
                case .setCursor(let seq, let anchor):
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO settings (name, value) VALUES ('cursor', ?)").execute(arguments: [String(seq)])
                    if let anchor {
                        try db.cachedStatement(sql: "INSERT OR REPLACE INTO settings (name, value) VALUES ('feed_anchor', ?)").execute(arguments: [
                            anchor.stored
                        ])
                    }
                }
            }
        }
    }
}
