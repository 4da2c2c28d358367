import AccordCore
import AccordFiles
import AccordStore

#if canImport(Glibc)
    import Glibc
#endif

/// What a look at a few named files found (the watcher's fast path).
package struct FileScan: Sendable {
    /// Valid records of the files that changed.
    package var records: [ScannedRecord] = []
    /// New index entries of the files read, and the paths that are gone.
    package var saved: [FileIndexEntry] = []
    package var removed: [String] = []
    /// The problems of every file looked at, by its path (empty: the file is clean now).
    package var problems: [String: [RecordProblem]] = [:]
    /// Records of broken or invalid files: never deleted, never pushed.
    package var protected: Set<RecordKey> = []
}

/// Reads only the files the watcher named. It gives up (nil) whenever a folder or a
/// symlink is involved: only a full scan can place those, and a wrong guess here
/// could turn a moved record into a delete.
extension RootScanner {
    package func scanFiles(_ paths: [String], previous: RootIndex) -> FileScan? {
        var result = FileScan()
        for path in paths where !ignore.isIgnored(path) {
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0 else {
                guard errno == ENOENT || errno == ENOTDIR else { return nil }
                // A folder that went (moved out of the root): only a full scan can tell
                // where its records are now.
                let prefix = path + "/"
                if previous.paths.contains(where: { $0.hasPrefix(prefix) }) { return nil }
                if previous.contains(path) { result.removed.append(path) }
                result.problems[path] = []
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFDIR, S_IFLNK:
                return nil
            default:
                guard RecordFileFormat(path: path) == nil else { return nil }
                continue
            }
            guard let format = RecordFileFormat(path: path) else { continue }
            let modifiedNanos = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            let changedNanos = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            if previous.isUnchanged(path, size: Int(info.st_size), modifiedNanos: modifiedNanos, inode: UInt64(info.st_ino), changedNanos: changedNanos) {
                continue  // as we last saw it (or as we wrote it ourselves)
            }
            var problems: [RecordProblem] = []
            let bytes: [UInt8]
            do {
                bytes = try FileReader.readRegularFile(root + "/" + path, maxBytes: RecordFileParser.readLimit(format, maxRecordBytes: maxRecordBytes))
            } catch {
                let reason = error.tooLargeSize.map { RecordFileParser.tooLargeReason(format, size: $0, maxRecordBytes: maxRecordBytes) } ?? error.reason
                result.problems[path] = [RecordProblem(path: path, line: 1, column: 1, reason: reason)]
                result.protected.formUnion(previous.records(at: path))
                continue
            }
            let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: format, maxRecordBytes: maxRecordBytes)
            problems += parsed.problems
            for located in parsed.records {
                let violations = schemas.validate(located.record)
                if violations.isEmpty {
                    result.records.append(
                        ScannedRecord(key: located.record.key, fields: located.record.fields, path: path, modified: Double(modifiedNanos) / 1e9))
                } else {
                    result.protected.insert(located.record.key)
                    problems += violations.map { RecordProblem($0, of: located, in: bytes) }
                }
            }
            if problems.isEmpty {
                result.saved.append(
                    FileIndexEntry(
                        path: path, size: Int(info.st_size), modifiedNanos: modifiedNanos, inode: UInt64(info.st_ino), changedNanos: changedNanos,
                        digest: ContentDigest(of: bytes),
                        records: parsed.records.map(\.record.key)))
            } else {
                // A file with a problem keeps its last good entry and is read again every
                // scan, so the problem stays reported until it is fixed; what it held
                // last time is never taken for deleted.
                result.protected.formUnion(previous.records(at: path))
            }
            result.problems[path] = problems
        }
        return result
    }
}
