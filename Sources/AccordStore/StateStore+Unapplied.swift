import AccordCore
import GRDB

/// A hub change that could not be applied to the root yet, and when to try again.
package struct UnappliedChange: Sendable, Equatable {
    package var key: RecordKey
    /// The rev the feed announced (the hub may hold a newer one by the next try).
    package var rev: String
    package var attempts: Int
    package var nextAttemptAt: Double
    package var lastError: String
    /// When it first failed.
    package var since: Double

    package init(key: RecordKey, rev: String, attempts: Int, nextAttemptAt: Double, lastError: String, since: Double) {
        self.key = key
        self.rev = rev
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.since = since
    }
}

/// The unapplied changes: kept durably so the cursor can move past a change that
/// cannot be applied now (the feed never stops on one record) without losing it.
extension StateStore {
    /// Records a failed attempt at `key` (the first, or attempt number `attempts`).
    package func markUnapplied(_ key: RecordKey, rev: String, attempts: Int, nextAttemptAt: Double, error: String, now: Double) throws {
        try pool.write { db in try Self.markUnapplied(db, key, rev: rev, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error, now: now) }
    }

    static func markUnapplied(_ db: Database, _ key: RecordKey, rev: String, attempts: Int, nextAttemptAt: Double, error: String, now: Double) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO unapplied (kind, id, rev, attempts, next_attempt_at, last_error, since) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, attempts = excluded.attempts,
                    next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error
                """
        ).execute(arguments: [key.kind, key.id, rev, attempts, nextAttemptAt, error, now])
    }

    /// The keys of every unapplied change.
    package func unappliedKeys() throws -> Set<RecordKey> {
        try pool.read { db in
            Set(try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, id FROM unapplied")).map { RecordKey(kind: $0["kind"], id: $0["id"]) })
        }
    }

    /// The change to `key` is applied (or superseded by one that was).
    package func clearUnapplied(_ key: RecordKey) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM unapplied WHERE kind = ? AND id = ?").execute(arguments: [key.kind, key.id])
        }
    }

    package func unapplied(_ key: RecordKey) throws -> UnappliedChange? {
        try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM unapplied WHERE kind = ? AND id = ?"), arguments: [key.kind, key.id]).map(
                Self.unappliedChange)
        }
    }

    /// Those whose retry time has come, oldest first.
    package func dueUnapplied(now: Double, limit: Int) throws -> [UnappliedChange] {
        try pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM unapplied WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"), arguments: [now, limit]
            )
            .map(Self.unappliedChange)
        }
    }

    /// Every one, for status (bounded by `limit`), and how many there are.
    package func unappliedChanges(limit: Int) throws -> (list: [UnappliedChange], count: Int) {
        try pool.read { db in
            let list = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM unapplied ORDER BY kind, id LIMIT ?"), arguments: [limit]).map(
                Self.unappliedChange)
            return (list, try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM unapplied")) ?? 0)
        }
    }

    package func nextUnappliedTime() throws -> Double? {
        try pool.read { db in try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(next_attempt_at) FROM unapplied")) }
    }

    /// Makes every unapplied change due now (a manual sync, the hub back).
    package func retryUnappliedNow(now: Double) throws {
        try pool.write { db in try db.cachedStatement(sql: "UPDATE unapplied SET next_attempt_at = ? WHERE next_attempt_at > ?").execute(arguments: [now, now])
        }
    }

    private static func unappliedChange(_ row: Row) -> UnappliedChange {
        UnappliedChange(
            key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
            lastError: row["last_error"], since: row["since"])
    }

    // MARK: Settings

    /// A named setting of the replica (`paused`, the guard's hold), nil when unset.
    package func setting(_ name: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE name = ?"), arguments: [name]) }
    }

    /// Sets (or, with nil, removes) a named setting, durably.
    package func setSetting(_ name: String, _ value: String?) throws {
        try pool.write { db in
            if let value {
                try db.cachedStatement(sql: "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)").execute(arguments: [name, value])
            } else {
                try db.cachedStatement(sql: "DELETE FROM settings WHERE name = ?").execute(arguments: [name])
            }
        }
    }
}
