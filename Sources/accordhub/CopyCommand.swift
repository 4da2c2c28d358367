import AccordCLI
import AccordCore
import AccordHub
import ArgumentParser
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `accordhub copy --from SQLITE --to URL`: moves a SQLite hub to PostgreSQL (CONTRACT
/// 8.5). Every dataset (`default` in the file, the others in `<db>.datasets/`) goes
/// whole: revisions with their seqs, authors and times, tombstones, idempotency
/// keys. Daemons then carry on from their cursors without pushing anything again.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a SQLite hub (every dataset) into an empty PostgreSQL database.",
        discussion: "Stop the SQLite hub first (the copy takes its lock). The target is migrated first; a dataset that already has records there is refused."
    )

    @Option(help: "The SQLite hub's db file.")
    var from: String

    @Option(help: "The PostgreSQL URL: postgres://USER@HOST:PORT/DB.")
    var to: String

    func run() async throws {
        guard let url = try PostgresHubOpener.url(to) else {
            throw CommandStatus.usage("accordhub: copy --to needs a postgres:// URL, not \(to)")
        }
        guard access(from, R_OK) == 0 else {
            throw CommandStatus.usage("accordhub: copy --from \(from): \(String(cString: strerror(errno))); give the SQLite hub's db file")
        }
        var info = stat()
        guard stat(from, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw CommandStatus.usage("accordhub: copy --from \(from): not a regular file; give the SQLite hub's db file")
        }
        // The copy takes the hub's lock beside the file, and SQLite may write its -wal
        // and -shm there: a read-only folder (a mounted backup) would fail part-way.
        let datasets = DatasetFiles.folder(db: from)
        for needed in [PathFolder.of(from)] + (access(datasets, F_OK) == 0 ? [datasets] : []) where access(needed, W_OK) != 0 {
            throw CommandStatus.usage(
                "accordhub: copy --from \(from): \(needed) is not writable (the copy takes the hub's lock beside each db file); "
                    + "copy the db file and its .datasets folder, with any -wal files, to a writable folder and copy from there")
        }
        // Every source is opened (and so checked) before PostgreSQL is touched: a file
        // that is not a hub's, is damaged or is newer is refused with nothing migrated.
        var sources: [(dataset: String, path: String, export: SQLiteHubExport)] = []
        for (dataset, path) in [(DatasetName.defaultName, from)] + Self.namedDatasets(db: from) {
            do {
                sources.append((dataset, path, try SQLiteHubExport(path: path)))
            } catch {
                throw Self.failure(error, dataset: dataset, path: path)
            }
        }
        var logger = Logger(label: "accordhub")
        logger.logLevel = .error
        let postgres = try PostgresHubOpener.connect(url, logger: logger)
        defer { postgres.shutdown() }
        try await PostgresHubOpener.migrate(postgres)
        for (dataset, path, source) in sources {
            let counts: ImportCounts
            do {
                // A copy stopped part-way is run again: datasets that arrived whole are
                // skipped (each is copied in one transaction, so it is whole or absent).
                // The same last seq is not enough: the feed ID, and the record and rev
                // at that seq, must match too, or the target holds other data (a hub
                // started on it too early).
                let target = try await postgres.storage(key: dataset)
                let copied = try await target.lastSeq()
                if copied > 0, copied == (try source.lastSeq()) {
                    let ours = try source.records(after: copied - 1, limit: 1).first
                    let theirs = try await target.changes(since: copied - 1, limit: 1, fields: false).first
                    guard let ours, let theirs, ours.key == theirs.key, ours.rev == theirs.rev, try source.feedID() == (try await target.feedID())
                    else {
                        throw DatasetNotEmptyError(dataset: dataset)
                    }
                    CommandRunner.printOutput("\(dataset): already copied (last seq \(copied)), skipped")
                    continue
                }
                counts = try await postgres.importDataset(dataset, from: source)
            } catch {
                throw Self.failure(error, dataset: dataset, path: path)
            }
            CommandRunner.printOutput(
                "\(dataset): \(counts.revisions) revisions, \(counts.records) records, \(counts.idempotencyKeys) idempotency keys, last seq \(counts.lastSeq)")
        }
    }

    /// A failed dataset's one line: errors that say in words what is wrong with the
    /// source or the target as they are, any other with the dataset and file.
    static func failure(_ error: any Error, dataset: String, path: String) -> CommandStatus {
        if error is DatasetNotEmptyError || error is NotAHubDatabaseError || error is DamagedDatabaseError || error is NewerDatabaseError
            || error is DatabaseLockError
        {
            return CommandStatus.failed("accordhub: copy: \(error)")
        }
        return CommandStatus.failed("accordhub: copy of dataset \(dataset) from \(path) failed, nothing of it was copied: \(StorageFailure.reason(error))")
    }

    /// The named datasets' files beside the db, `<db>.datasets/NAME.db`, by name.
    static func namedDatasets(db: String) -> [(String, String)] {
        let folder = DatasetFiles.folder(db: db)
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var found: [(String, String)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasSuffix(".db") else { continue }
            let dataset = String(name.dropLast(3))
            if DatasetName.isValid(dataset), dataset != DatasetName.defaultName { found.append((dataset, folder + "/" + name)) }
        }
        return found.sorted { $0.0 < $1.0 }
    }
}
