import AccordCore
import AccordFiles
import AccordStore

/// What a scan of the root found.
public struct ScanResult: Sendable {
    /// Fields of the valid records in files that changed since the last scan.
    public var scanned: [RecordKey: JSONObject] = [:]
    /// Every key present anywhere in the root (changed or not).
    public var present: Set<RecordKey> = []
    /// Keys whose file is broken or whose record is invalid: never treated as deleted.
    public var protected: Set<RecordKey> = []
    /// Which file holds each present key (root-relative).
    public var locations: [RecordKey: String] = [:]
    /// When the file holding each scanned record was last modified (seconds since
    /// 1970): the local side's change time for the `newest` policy.
    public var modified: [RecordKey: Double] = [:]
    /// Invalid input, for status and the log.
    public var problems: [RecordProblem] = []
    /// The file index as it should be saved once the changes are queued.
    public var index: [String: FileIndexEntry] = [:]
    public var filesRead = 0
}

/// Scans a root against the file index: files whose size, mtime and inode are
/// unchanged are not read again; the rest are read, parsed and validated.
public struct RootScanner: Sendable {
    public var root: String
    public var schemas: SchemaSet
    public var ignore: IgnoreRules
    public var maxRecordBytes: Int

    public init(root: String, schemas: SchemaSet, ignore: IgnoreRules, maxRecordBytes: Int) {
        self.root = root
        self.schemas = schemas
        self.ignore = ignore
        self.maxRecordBytes = maxRecordBytes
    }

    public func scan(previous: [String: FileIndexEntry]) -> ScanResult {
        var result = ScanResult()
        let walked = RecordTreeWalker(ignore: ignore).walk(root: root)
        result.problems = walked.problems
        var located: [LocatedRecord] = []
        var modifiedByPath: [String: Double] = [:]
        var brokenFiles: Set<String> = []
        for file in walked.files {
            if let entry = previous[file.relativePath], entry.size == file.size, entry.modifiedNanos == file.modifiedNanos,
                entry.inode == file.inode
            {
                result.index[file.relativePath] = entry
                for key in entry.records {
                    result.present.insert(key)
                    result.locations[key] = file.relativePath
                }
                continue
            }
            let path = root + "/" + file.relativePath
            guard let format = RecordFileFormat(path: file.relativePath) else { continue }
            let bytes: [UInt8]
            do {
                bytes = try FileReader.readRegularFile(path, maxBytes: format == .json ? maxRecordBytes : Int.max)
            } catch {
                result.problems.append(RecordProblem(path: path, line: 1, column: 1, reason: error.reason))
                brokenFiles.insert(file.relativePath)
                continue
            }
            result.filesRead += 1
            modifiedByPath[file.relativePath] = Double(file.modifiedNanos) / 1e9
            let parsed = RecordFileParser.parse(path: file.relativePath, bytes: bytes, format: format, maxRecordBytes: maxRecordBytes)
            if !parsed.problems.isEmpty {
                brokenFiles.insert(file.relativePath)
                result.problems.append(contentsOf: parsed.problems)
            }
            located.append(contentsOf: parsed.records)
            result.index[file.relativePath] = FileIndexEntry(
                path: file.relativePath, size: file.size, modifiedNanos: file.modifiedNanos, inode: file.inode, hash: SHA256.hex(bytes),
                records: parsed.records.map(\.record.key))
        }
        // A broken file may still hold records we cannot see: keep what it held last time.
        for path in brokenFiles {
            result.protected.formUnion(previous[path]?.records ?? [])
            // Keep the last good entry: the file is read again next time, and nothing
            // will overwrite it against a hash it no longer has.
            if let old = previous[path] { result.index[path] = old }
        }
        let (unique, duplicates) = DuplicateRecords.split(located)
        result.problems.append(contentsOf: duplicates)
        let uniqueKeys = Set(unique.map(\.record.key))
        for record in located where !uniqueKeys.contains(record.record.key) {
            result.protected.insert(record.record.key)
            result.present.insert(record.record.key)
        }
        for record in unique {
            let key = record.record.key
            result.present.insert(key)
            result.locations[key] = record.path
            let violations = schemas.validate(record.record)
            if violations.isEmpty {
                result.scanned[key] = record.record.fields
                result.modified[key] = modifiedByPath[record.path]
            } else {
                result.protected.insert(key)
                for violation in violations {
                    result.problems.append(RecordProblem(path: record.path, line: record.line, column: 1, reason: violation.description))
                }
            }
        }
        return result
    }
}
