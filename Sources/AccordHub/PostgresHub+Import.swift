import PostgresNIO

/// What `accordhub copy` carried into one dataset.
package struct ImportCounts: Sendable, Equatable {
    package var revisions = 0
    package var records = 0
    package var idempotencyKeys = 0
    package var lastSeq: Int64 = 0
}

/// Refused: the dataset in PostgreSQL already has records, which a copy would mix.
package struct DatasetNotEmptyError: Error, CustomStringConvertible {
    package var dataset: String
    package init(dataset: String) { self.dataset = dataset }
    package var description: String {
        "dataset \(dataset) already has records or idempotency keys in PostgreSQL; copy into a new, empty database"
    }
}

extension PostgresHub {
    /// Copies a SQLite hub's dataset into this database as `dataset`, in one
    /// transaction: every revision with its seq, author and time, every current
    /// version and tombstone, every idempotency key. Seqs stay as they were, so
    /// daemons carry on from their cursors, and keys replay as before; the feed keeps
    /// its identity for the same reason.
    package func importDataset(_ dataset: String, from source: SQLiteHubExport) async throws -> ImportCounts {
        _ = try await storage(key: dataset)  // its counter row
        let logger = self.logger
        return try await client.withReadCommittedTransaction(logger: logger) { connection in
            var counts = ImportCounts()
            let existing = try await PostgresHubStorage.lockCounter(connection, dataset: dataset, logger: logger)
            var rows: Int64 = 0
            for try await count in try await connection.query(
                """
                SELECT (SELECT count(*) FROM accord_records WHERE dataset = \(dataset))
                    + (SELECT count(*) FROM accord_idempotency WHERE dataset = \(dataset))
                """, logger: logger
            ).decode(Int64.self) {
                rows = count
            }
            guard existing == 0, rows == 0 else { throw DatasetNotEmptyError(dataset: dataset) }
            // A page of a thousand rows per statement. Arrays cannot carry NULL: an
            // empty author or etag stands for none, as in the hub's own writes.
            var after: Int64 = 0
            while true {
                let page = try source.revisions(after: after, limit: 1000)
                guard let last = page.last else { break }
                try await connection.query(
                    """
                    INSERT INTO accord_revisions (dataset, seq, kind, id, rev, deleted, fields, created_at, author)
                    SELECT \(dataset), s, k, i, r, d, f, c, NULLIF(a, '') FROM unnest(
                        \(page.map(\.seq))::bigint[], \(page.map(\.key.kind))::text[], \(page.map(\.key.id))::text[], \(page.map(\.rev))::text[],
                        \(page.map(\.deleted))::boolean[], \(page.map(\.fieldsJSON))::text[], \(page.map(\.createdAt))::float8[],
                        \(page.map { $0.author ?? "" })::text[]) AS t(s, k, i, r, d, f, c, a)
                    """, logger: logger)
                counts.revisions += page.count
                counts.lastSeq = last.seq
                after = last.seq
            }
            after = 0
            while true {
                let page = try source.records(after: after, limit: 1000)
                guard let last = page.last else { break }
                try await connection.query(
                    """
                    INSERT INTO accord_records (dataset, kind, id, rev, seq, deleted, fields)
                    SELECT \(dataset), k, i, r, s, d, f FROM unnest(
                        \(page.map(\.key.kind))::text[], \(page.map(\.key.id))::text[], \(page.map(\.rev))::text[], \(page.map(\.seq))::bigint[],
                        \(page.map(\.deleted))::boolean[], \(page.map(\.fieldsJSON))::text[]) AS t(k, i, r, s, d, f)
                    """, logger: logger)
                counts.records += page.count
                after = last.seq
            }
            let keys = try source.idempotencyKeys()
            for start in stride(from: 0, to: keys.count, by: 1000) {
                let page = keys[start..<min(start + 1000, keys.count)]
                try await connection.query(
                    """
                    INSERT INTO accord_idempotency (dataset, key, fingerprint, status, etag, body, created_at)
                    SELECT \(dataset), k, f, s, NULLIF(e, ''), b, c FROM unnest(
                        \(page.map(\.key))::text[], \(page.map(\.fingerprint))::text[], \(page.map { Int64($0.status) })::bigint[],
                        \(page.map { $0.etag ?? "" })::text[], \(page.map(\.body))::text[], \(page.map(\.createdAt))::float8[]) AS t(k, f, s, e, b, c)
                    """, logger: logger)
                counts.idempotencyKeys += page.count
            }
            let feedID = try source.feedID()
            try await connection.query(
                "UPDATE accord_datasets SET last_seq = \(counts.lastSeq), feed_id = \(feedID) WHERE name = \(dataset)", logger: logger)
            return counts
        }
    }
}
