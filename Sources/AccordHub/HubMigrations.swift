import GRDB

/// The hub's SQLite schema, as numbered migrations. A migration, once released, is
/// never edited: a change is a new number.
enum HubMigrations {
    /// The first migration: every hub database has it, and nothing else does.
    static let first = "0001-records-revisions-idempotency"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(first) { db in
            try db.execute(
                sql: """
                    -- Every revision ever written; its rowid is the change sequence number.
                    CREATE TABLE revisions (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        rev TEXT NOT NULL,
                        deleted INTEGER NOT NULL,
                        fields TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX revisions_by_record ON revisions (kind, id, seq);

                    -- The current version of each record (a tombstone when deleted).
                    CREATE TABLE records (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        rev TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        deleted INTEGER NOT NULL,
                        fields TEXT NOT NULL,
                        PRIMARY KEY (kind, id)
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX records_by_seq ON records (seq);

                    -- Responses kept for Idempotency-Key replays (at least 24 h).
                    CREATE TABLE idempotency (
                        key TEXT PRIMARY KEY,
                        fingerprint TEXT NOT NULL,
                        status INTEGER NOT NULL,
                        etag TEXT,
                        body TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX idempotency_by_age ON idempotency (created_at);
                    """)
        }
        // Who wrote each revision (the token's name; NULL on an open hub and for the
        // revisions of databases written before this migration).
        migrator.registerMigration("0002-revision-authors") { db in
            try db.execute(sql: "ALTER TABLE revisions ADD COLUMN author TEXT")
        }
        // The feed's identity (`HubStorage.feedID`): made once, kept by backups and by
        // `accordhub copy`, new for a database made afresh; derived from the history
        // a database already has (`FeedIdentity.derived`).
        migrator.registerMigration("0003-feed-identity") { db in
            try db.execute(sql: "CREATE TABLE feed_identity (id TEXT NOT NULL)")
            let first = try Row.fetchOne(db, sql: "SELECT kind, id, rev, created_at FROM revisions ORDER BY seq LIMIT 1")
            let identity =
                first.map { FeedIdentity.derived(kind: $0["kind"], id: $0["id"], rev: $0["rev"], createdAt: $0["created_at"]) } ?? FeedIdentity.make()
            try db.execute(sql: "INSERT INTO feed_identity (id) VALUES (?)", arguments: [identity])
        }
        return migrator
    }
}
