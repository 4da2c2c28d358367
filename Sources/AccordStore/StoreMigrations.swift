import GRDB

/// The daemon's state schema, as numbered migrations. A released migration is never
/// edited: a change is a new number.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001-files-bases-outbox-cursor-conflicts-events") { db in
            try db.execute(
                sql: """
                    -- What the last scan saw of each record file, to skip unchanged files.
                    CREATE TABLE files (
                        path TEXT PRIMARY KEY,
                        size INTEGER NOT NULL,
                        modified_ns INTEGER NOT NULL,
                        inode INTEGER NOT NULL,
                        hash TEXT NOT NULL,
                        -- "kind/id" of each record the file holds, one per line.
                        records TEXT NOT NULL
                    ) WITHOUT ROWID;

                    -- The last version of each record agreed with the hub.
                    CREATE TABLE bases (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        rev TEXT NOT NULL,
                        deleted INTEGER NOT NULL,
                        fields TEXT NOT NULL,
                        PRIMARY KEY (kind, id)
                    ) WITHOUT ROWID;

                    -- Operations waiting to reach the hub, at most one per record.
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        operation TEXT NOT NULL CHECK (operation IN ('put', 'delete')),
                        base_rev TEXT,
                        fields TEXT,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL DEFAULT 0,
                        last_error TEXT,
                        changed_at REAL NOT NULL,
                        UNIQUE (kind, id)
                    );

                    -- Key/value settings of the replica: the pull cursor, the replica id.
                    CREATE TABLE settings (
                        name TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) WITHOUT ROWID;

                    -- Open conflicts, one per record field, waiting for accordctl resolve.
                    CREATE TABLE conflicts (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        path TEXT NOT NULL,
                        base TEXT,
                        local TEXT,
                        remote TEXT,
                        remote_rev TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (kind, id, path)
                    ) WITHOUT ROWID;

                    -- Recent sync events for accordctl log; trimmed to a bound.
                    CREATE TABLE events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        at REAL NOT NULL,
                        type TEXT NOT NULL,
                        record TEXT NOT NULL,
                        summary TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("0002-unapplied") { db in
            try db.execute(
                sql: """
                    -- Hub changes the feed delivered that could not be applied to the root (a
                    -- failed write, a record the root holds twice, an unreadable answer).
                    -- The cursor moves past them; they are retried from here until applied.
                    CREATE TABLE unapplied (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        rev TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        last_error TEXT NOT NULL,
                        since REAL NOT NULL,
                        PRIMARY KEY (kind, id)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("0003-conflict-paths-as-arrays") { db in
            // A conflict's field path was stored dotted ("value.amount"), which a field
            // literally named "a.b" cannot survive. Paths become JSON arrays of keys;
            // an old dotted path is read the only way it can be.
            for row in try Row.fetchAll(db, sql: "SELECT kind, id, path FROM conflicts") {
                let dotted: String = row["path"]
                try db.execute(
                    sql: "UPDATE conflicts SET path = ? WHERE kind = ? AND id = ? AND path = ?",
                    arguments: [ConflictPath.encode(dotted.split(separator: ".").map(String.init)), row["kind"], row["id"], dotted])
            }
        }
        migrator.registerMigration("0004-file-change-time") { db in
            // The inode's ctime beside size, mtime and inode: an edit that restores the
            // mtime is still seen. Old entries read 0, so each file is read once more.
            try db.execute(sql: "ALTER TABLE files ADD COLUMN changed_ns INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }
}
