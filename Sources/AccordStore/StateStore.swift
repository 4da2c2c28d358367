import AccordCore
import GRDB
import Synchronization

/// The daemon's durable state in one SQLite file: file index, base snapshots, outbox,
/// pull cursor, open conflicts and a bounded event log. WAL with `synchronous = FULL`,
/// and every multi-step change in one transaction, so `kill -9` at any moment leaves it
/// consistent and loses no queued operation.
package final class StateStore: Sendable {
    let pool: DatabasePool
    package let maxEvents: Int

    package init(path: String, maxEvents: Int = 10_000) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // GRDB's default is userInitiated, whose libdispatch threads ask for nice -2,
        // which an unprivileged service may not take (see CommandRunner).
        configuration.qos = .default
        // One daemon reads little at a time: two readers with a page cache of 1 MiB
        // each, not SQLite's 2 MiB for each of GRDB's five.
        configuration.maximumReaderCount = 2
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -1024") }
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try StoreMigrations.migrator.migrate(pool)
        self.maxEvents = maxEvents
    }

    // MARK: File index

    /// Hands every saved file entry to `body`, one at a time (no copy of the whole
    /// index is built here). An entry whose hash cannot be read is skipped: the next
    /// scan reads that file again as new.
    package func forEachFile(_ body: (FileIndexEntry) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size, modified_ns, inode, changed_ns, hash, records FROM files")
            while let row = try rows.next() {
                guard let digest = ContentDigest(hex: row["hash"]) else { continue }
                let records: String = row["records"]
                try body(
                    FileIndexEntry(
                        path: row["path"], size: row["size"], modifiedNanos: row["modified_ns"], inode: UInt64(bitPattern: row["inode"]),
                        changedNanos: row["changed_ns"], digest: digest, records: records.split(separator: "\n").compactMap { RecordKey(String($0)) }))
            }
        }
    }

    /// The saved file index by path (tests and tools; the daemon streams it).
    package func fileIndex() throws -> [String: FileIndexEntry] {
        var entries: [String: FileIndexEntry] = [:]
        try forEachFile { entries[$0.path] = $0 }
        return entries
    }

    package func saveFile(_ entry: FileIndexEntry) throws {
        try pool.write { db in try Self.saveFile(db, entry) }
    }

    static func saveFile(_ db: Database, _ entry: FileIndexEntry) throws {
        do {
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO files (path, size, modified_ns, inode, changed_ns, hash, records) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ).execute(arguments: [
                entry.path, entry.size, entry.modifiedNanos, Int64(bitPattern: entry.inode), entry.changedNanos, entry.digest.hex,
                entry.records.map(\.description).joined(separator: "\n"),
            ])
        }
    }

    package func removeFile(_ path: String) throws {
        try pool.write { db in try db.cachedStatement(sql: "DELETE FROM files WHERE path = ?").execute(arguments: [path]) }
    }

    // MARK: Bases

    package func base(_ key: RecordKey) throws -> BaseSnapshot? {
        try pool.read { db in try Self.base(db, key) }
    }

    package func allBases() throws -> [RecordKey: BaseSnapshot] {
        try pool.read { db in
            var bases: [RecordKey: BaseSnapshot] = [:]
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, id, rev, deleted, fields FROM bases")) {
                let snapshot = try Self.snapshot(row)
                bases[snapshot.key] = snapshot
            }
            return bases
        }
    }

    package func saveBase(_ snapshot: BaseSnapshot) throws {
        try pool.write { db in try Self.saveBase(db, snapshot) }
    }

    /// Live bases (not tombstones) by key, without their fields: enough to find deletions.
    package func liveBaseKeys() throws -> Set<RecordKey> {
        try pool.read { db in
            var keys = Set<RecordKey>()
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, id FROM bases WHERE deleted = 0")) {
                keys.insert(RecordKey(kind: row["kind"], id: row["id"]))
            }
            return keys
        }
    }

    /// The bases of `keys` (those that have one), in one read.
    package func bases(_ keys: some Sequence<RecordKey>) throws -> [RecordKey: BaseSnapshot] {
        try pool.read { db in
            var result: [RecordKey: BaseSnapshot] = [:]
            // A new replica has none: one query instead of one per key.
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM bases)")) == true else { return result }
            for key in keys { if let base = try Self.base(db, key) { result[key] = base } }
            return result
        }
    }

    /// The operations waiting for `keys`, in one read.
    package func pendingOperations(_ keys: some Sequence<RecordKey>) throws -> [RecordKey: OutboxOperation] {
        try pool.read { db in
            var result: [RecordKey: OutboxOperation] = [:]
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM outbox)")) == true else { return result }
            let statement = try db.cachedStatement(sql: "SELECT * FROM outbox WHERE kind = ? AND id = ?")
            for key in keys {
                if let row = try Row.fetchOne(statement, arguments: [key.kind, key.id]) { result[key] = try Self.operation(row) }
            }
            return result
        }
    }

    /// One scan's results in one transaction (one fsync): queued changes first, then
    /// the file index, so a crash between the two only re-finds the same changes.
    package func applyScan(
        enqueue changes: [(key: RecordKey, kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, changedAt: Double)],
        saveFiles: [FileIndexEntry], removeFiles: [String]
    ) throws {
        try pool.write { db in
            for change in changes {
                try Self.insertOperation(db, change.key, change.kind, baseRev: change.baseRev, fields: change.fields, now: change.changedAt)
            }
            for entry in saveFiles { try Self.saveFile(db, entry) }
            for path in removeFiles { try db.cachedStatement(sql: "DELETE FROM files WHERE path = ?").execute(arguments: [path]) }
        }
    }

    /// Acknowledged operations in one transaction: each dropped, its base moved, its
    /// event recorded.
    package func completeAll(_ items: [(operation: OutboxOperation, base: BaseSnapshot, event: (type: String, summary: String))], at: Double) throws {
        guard !items.isEmpty else { return }
        try pool.write { db in
            for item in items {
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ? AND idempotency_key = ?")
                    .execute(arguments: [item.operation.seq, item.operation.idempotencyKey])
                try Self.saveBase(db, item.base)
                try Self.insertEvent(db, type: item.event.type, record: item.operation.key.description, summary: item.event.summary, at: at, bound: maxEvents)
            }
        }
    }

    // MARK: Settings

    /// Whether this replica ever agreed a record with a hub or queued one for it.
    package func hasSynced() throws -> Bool {
        try pool.read { db in
            try Bool.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT EXISTS (SELECT 1 FROM bases) OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM settings WHERE name = 'cursor' AND value != '0')"
                )
            )
                ?? false
        }
    }

    package func cursor() throws -> Int64 {
        try pool.read { db in try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE name = 'cursor'")).flatMap { Int64($0) } ?? 0 }
    }

    package func setCursor(_ seq: Int64) throws {
        try pool.write { db in
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO settings (name, value) VALUES ('cursor', ?)").execute(arguments: [String(seq)])
        }
    }

    /// The identity of the hub's feed this root follows (nil until first seen).
    package func feedID() throws -> String? { try setting("feed_id") }

    /// The last change applied from the feed (`FeedAnchor`), nil before the first.
    package func feedAnchor() throws -> FeedAnchor? { try setting("feed_anchor").flatMap(FeedAnchor.init(stored:)) }

    package func setFeedID(_ id: String) throws { try setSetting("feed_id", id) }

    // MARK: Conflicts

    /// Replaces the open conflicts of a record (an empty list clears them).
    package func setConflicts(_ key: RecordKey, _ conflicts: [StoredConflict]) throws {
        try pool.write { db in try Self.setConflicts(db, key, conflicts) }
    }

    static func setConflicts(_ db: Database, _ key: RecordKey, _ conflicts: [StoredConflict]) throws {
        try db.cachedStatement(sql: "DELETE FROM conflicts WHERE kind = ? AND id = ?").execute(arguments: [key.kind, key.id])
        for conflict in conflicts {
            try db.cachedStatement(sql: "INSERT INTO conflicts (kind, id, path, base, local, remote, remote_rev, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [
                    key.kind, key.id, ConflictPath.encode(conflict.path), conflict.base.map(JSONWriter.line), conflict.local.map(JSONWriter.line),
                    conflict.remote.map(JSONWriter.line), conflict.remoteRev, conflict.createdAt,
                ])
        }
    }

    package func openConflicts() throws -> [StoredConflict] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM conflicts ORDER BY kind, id, path")).map(Self.conflict)
        }
    }

    // MARK: Events

    package func recordEvent(type: String, record: String, summary: String, at: Double) throws {
        let bound = maxEvents
        try pool.write { db in try Self.insertEvent(db, type: type, record: record, summary: summary, at: at, bound: bound) }
    }

    static func insertEvent(_ db: Database, type: String, record: String, summary: String, at: Double, bound: Int) throws {
        try db.cachedStatement(sql: "INSERT INTO events (at, type, record, summary) VALUES (?, ?, ?, ?)")
            .execute(arguments: [at, type, record, summary])
        let seq = db.lastInsertedRowID
        if seq % 100 == 0 {
            try db.cachedStatement(sql: "DELETE FROM events WHERE seq <= ?").execute(arguments: [seq - Int64(bound)])
        }
    }

    /// The newest `limit` events, newest first.
    package func events(limit: Int) throws -> [SyncEvent] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM events ORDER BY seq DESC LIMIT ?"), arguments: [limit]).map { row in
                SyncEvent(seq: row["seq"], at: row["at"], type: row["type"], record: row["record"], summary: row["summary"])
            }
        }
    }

    // MARK: Rows

    static func base(_ db: Database, _ key: RecordKey) throws -> BaseSnapshot? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT kind, id, rev, deleted, fields FROM bases WHERE kind = ? AND id = ?"), arguments: [key.kind, key.id]
        ).map(snapshot)
    }

    static func saveBase(_ db: Database, _ snapshot: BaseSnapshot) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO bases (kind, id, rev, deleted, fields) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [snapshot.key.kind, snapshot.key.id, snapshot.rev, snapshot.deleted, JSONWriter.line(.object(snapshot.fields))])
    }

    static func snapshot(_ row: Row) throws -> BaseSnapshot {
        BaseSnapshot(
            key: RecordKey(kind: row["kind"], id: row["id"]), rev: row["rev"], deleted: row["deleted"],
            fields: try objectColumn(row["fields"]) ?? JSONObject())
    }

    static func operation(_ row: Row) throws -> OutboxOperation {
        let kindText: String = row["operation"]
        return OutboxOperation(
            seq: row["seq"], key: RecordKey(kind: row["kind"], id: row["id"]), kind: OutboxOperation.Kind(rawValue: kindText) ?? .put,
            baseRev: row["base_rev"], fields: try objectColumn(row["fields"]), idempotencyKey: row["idempotency_key"],
            attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], lastError: row["last_error"], changedAt: row["changed_at"])
    }

    static func conflict(_ row: Row) throws -> StoredConflict {
        let path: String = row["path"]
        return StoredConflict(
            key: RecordKey(kind: row["kind"], id: row["id"]), path: try ConflictPath.decode(path),
            base: try valueColumn(row["base"]), local: try valueColumn(row["local"]), remote: try valueColumn(row["remote"]),
            remoteRev: row["remote_rev"], createdAt: row["created_at"])
    }

    static func valueColumn(_ text: String?) throws -> JSONValue? {
        guard let text else { return nil }
        do {
            return try JSONParser.parse(text)
        } catch {
            throw StoreError("corrupt JSON in the state database: \(error)")
        }
    }

    static func objectColumn(_ text: String?) throws -> JSONObject? {
        try valueColumn(text).map { value in
            guard case .object(let object) = value else { throw StoreError("corrupt record fields in the state database") }
            return object
        }
    }

    /// 128 random bits in hex: unique across replicas without coordination.
    /// Keys come from a generator seeded once from the system's random numbers: a
    /// scan queuing 100,000 changes would otherwise make 200,000 getrandom calls.
    static func newKey() -> String {
        let (high, low) = keyGenerator.withLock { generator in (generator.next(), generator.next()) }
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 32)
        for (offset, value) in [(0, high), (16, low)] {
            for nibble in 0..<16 { text[offset + nibble] = digits[Int((value >> UInt64(60 - nibble * 4)) & 0xF)] }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let keyGenerator = Mutex(KeyGenerator())
}
