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
    package var description: String {
        "dataset \(dataset) already has records or idempotency keys in PostgreSQL; copy into a new, empty database"
    }
}

extension PostgresHub {
    /// Copies a SQLite hub's dataset into this database as `dataset`, in one
    /// transaction: every revision with its seq, author and time, every current
    /// version and tombstone, every idempotency key. Seqs stay as they were, so
    /// daemons carry on from their cursors, and keys replay as before.
    package func importDataset(_ dataset: String, from source: SQLiteHubExport) async throws -> ImportCounts {
        let logger = self.logger
        _ = try await storage(key: dataset)  // its counter row
        do {
            return try await copy(dataset, from: source)
        } catch let error as PostgresTransactionError {
            // Said plainly when it is ours; the driver's wrapping otherwise.
            if let refusal = error.closureError as? DatasetNotEmptyError { throw refusal }
            throw error
        }
    }

    private func copy(_ dataset: String, from source: SQLiteHubExport) async throws -> ImportCounts {
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
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
            var after: Int64 = 0
            while true {
                let page = try source.revisions(after: after, limit: 1000)
                guard let last = page.last else { break }
                for revision in page {
                    try await connection.query(
                        """
                        INSERT INTO accord_revisions (dataset, seq, kind, id, rev, deleted, fields, created_at, author)
                        VALUES (\(dataset), \(revision.seq), \(revision.key.kind), \(revision.key.id), \(revision.rev), \(revision.deleted),
                            \(revision.fieldsJSON), \(revision.createdAt), \(revision.author))
                        """, logger: logger)
                }
                counts.revisions += page.count
                counts.lastSeq = last.seq
                after = last.seq
            }
            after = 0
            while true {
                let page = try source.records(after: after, limit: 1000)
                guard let last = page.last else { break }
                for record in page {
                    try await connection.query(
                        """
                        INSERT INTO accord_records (dataset, kind, id, rev, seq, deleted, fields)
                        VALUES (\(dataset), \(record.key.kind), \(record.key.id), \(record.rev), \(record.seq), \(record.deleted), \(record.fieldsJSON))
                        """, logger: logger)
                }
                counts.records += page.count
                after = last.seq
            }
            for key in try source.idempotencyKeys() {
                try await connection.query(
                    """
                    INSERT INTO accord_idempotency (dataset, key, fingerprint, status, etag, body, created_at)
                    VALUES (\(dataset), \(key.key), \(key.fingerprint), \(key.status), \(key.etag), \(key.body), \(key.createdAt))
                    """, logger: logger)
                counts.idempotencyKeys += 1
            }
            try await connection.query("UPDATE accord_datasets SET last_seq = \(counts.lastSeq) WHERE name = \(dataset)", logger: logger)
            return counts
        }
    }
}
