import AccordCore
import AccordFiles
import AccordStore
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A valid record read from a changed file.
package struct ScannedRecord: Sendable {
    package var key: RecordKey
    package var fields: JSONObject
    /// Root-relative path of its file.
    package var path: String
    /// The file's mtime, seconds since 1970: the local change time for `newest`.
    package var modified: Double
}

/// What a scan of the root found, apart from the records it handed out in batches.
package struct ScanResult: Sendable {
    /// Every key present anywhere in the root (changed or not).
    package var present: Set<RecordKey> = []
    /// Keys whose file is broken or whose record is invalid or duplicated: never
    /// treated as deleted, never pushed.
    package var protected: Set<RecordKey> = []
    /// Keys found to be duplicated after their first copy was already handed out:
    /// whatever that batch queued for them must be withdrawn.
    package var lateDuplicates: Set<RecordKey> = []
    /// Invalid input, for status and the log.
    package var problems: [RecordProblem] = []
    /// The file index as it should be saved once the changes are queued, with the
    /// place of every present key.
    package var index = RootIndex()
    package var filesRead = 0
    /// Filled only by `scan(previous:)`, the collecting form.
    package var scanned: [RecordKey: JSONObject] = [:]
    package var modified: [RecordKey: Double] = [:]
}

/// Scans a root against the file index: files whose size, mtime and inode are
/// unchanged are not read again; the rest are read, parsed and validated, and their
/// valid records are handed out in batches, so memory stays bounded by the batch,
/// not by the root.
package struct RootScanner: Sendable {
    package var root: String
    package var schemas: SchemaSet
    package var ignore: IgnoreRules
    package var maxRecordBytes: Int

    package init(root: String, schemas: SchemaSet, ignore: IgnoreRules, maxRecordBytes: Int) {
        self.root = root
        self.schemas = schemas
        self.ignore = ignore
        self.maxRecordBytes = maxRecordBytes
    }

    /// Collects every scanned record in the result (for tests and small roots).
    package func scan(previous: RootIndex) -> ScanResult {
        var collected: [ScannedRecord] = []
        var result = scan(previous: previous, batchSize: Int.max) { collected.append(contentsOf: $0) }
        for record in collected where !result.lateDuplicates.contains(record.key) {
            result.scanned[record.key] = record.fields
            result.modified[record.key] = record.modified
        }
        return result
    }

    package func scan(previous: RootIndex, batchSize: Int, emit: ([ScannedRecord]) throws -> Void) rethrows -> ScanResult {
        var result = ScanResult()
        let walked = RecordTreeWalker(ignore: ignore).walk(root: root)
        // The walker names paths under the root by their full path; the rest of the
        // daemon speaks root-relative.
        result.problems = walked.problems.map { problem in
            var relative = problem
            if problem.path.hasPrefix(root + "/") { relative.path = String(problem.path.dropFirst(root.count + 1)) }
            return relative
        }
        var firstPlace: [RecordKey: (place: String, flushed: Bool, duplicated: Bool)] = [:]
        var batch: [RecordKey: ScannedRecord] = [:]
        // Broken files, with the keys this look found in them.
        var brokenFiles: [String: [RecordKey]] = [:]

        // Files are taken in chunks: the changed ones of a chunk are read, hashed,
        // parsed and validated on every core at once (`examine`, which touches nothing
        // shared), then folded into the result in walk order.
        let chunkSize = 1024
        var start = 0
        while start < walked.files.count {
            let chunk = walked.files[start..<min(walked.files.count, start + chunkSize)]
            start += chunk.count
            let unchanged = chunk.map { file in
                previous.isUnchanged(
                    file.relativePath, size: file.size, modifiedNanos: file.modifiedNanos, inode: file.inode, changedNanos: file.changedNanos)
            }
            let examined = examineAll(zip(chunk, unchanged).compactMap { $1 ? nil : $0 })
            var next = 0
            for (file, unchanged) in zip(chunk, unchanged) {
                if unchanged {
                    for key in result.index.keep(file.relativePath, from: previous) {
                        note(key, place: "\(file.relativePath)", in: &result, firstPlace: &firstPlace, batch: &batch)
                    }
                    continue
                }
                let looked = examined[next]
                next += 1
                guard let looked else { continue }  // not a record file
                if let failure = looked.failure {
                    result.problems.append(RecordProblem(path: file.relativePath, line: 1, column: 1, reason: failure))
                    brokenFiles[file.relativePath] = []
                    continue
                }
                result.filesRead += 1
                let keys = looked.parsed.records.map(\.record.key)
                if !looked.parsed.problems.isEmpty {
                    brokenFiles[file.relativePath] = keys
                    result.problems.append(contentsOf: looked.parsed.problems)
                }
                result.index.set(
                    FileIndexEntry(
                        path: file.relativePath, size: file.size, modifiedNanos: file.modifiedNanos, inode: file.inode, changedNanos: file.changedNanos,
                        digest: looked.digest, records: keys))
                let modified = Double(file.modifiedNanos) / 1e9
                for (located, violations) in zip(looked.parsed.records, looked.violations) {
                    let key = located.record.key
                    guard note(key, place: located.place, in: &result, firstPlace: &firstPlace, batch: &batch) else { continue }
                    if violations.isEmpty {
                        batch[key] = ScannedRecord(key: key, fields: located.record.fields, path: file.relativePath, modified: modified)
                    } else {
                        result.protected.insert(key)
                        brokenFiles[file.relativePath] = keys
                        result.problems.append(contentsOf: violations)
                    }
                }
                if batch.count >= batchSize {
                    try emit(Array(batch.values))
                    for key in batch.keys { firstPlace[key]?.flushed = true }
                    batch.removeAll(keepingCapacity: true)
                }
            }
        }
        if !batch.isEmpty { try emit(Array(batch.values)) }
        // A broken file (or one with an invalid record) may still hold records we
        // cannot see: keep what it held last time, and keep its last good entry (it is
        // read again next time, so its problems stay reported, and nothing will
        // overwrite it against a hash it no longer has).
        for (path, keys) in brokenFiles {
            result.protected.formUnion(previous.records(at: path))
            if previous.contains(path) {
                result.index.keep(path, from: previous)
                for key in keys { result.index.place(key, at: path) }
            }
        }
        protectUnseen(previous: previous, in: &result)
        return result
    }

    /// What reading one changed file found: its problems, hash, records and each
    /// record's schema violations.
    struct ExaminedFile: Sendable {
        var failure: String?
        var digest = ContentDigest(of: [])
        var parsed = ParsedRecordFile()
        /// Per record, its schema violations placed in the file.
        var violations: [[RecordProblem]] = []
    }

    /// Reads, hashes, parses and validates `files` on every core (nil for a file that
    /// is not a record file).
    func examineAll(_ files: [WalkedFile]) -> [ExaminedFile?] {
        let results = ExaminedResults(count: files.count)
        let lanes = min(files.count, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        guard lanes > 0 else { return [] }
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for index in stride(from: lane, to: files.count, by: lanes) { results.set(index, examine(files[index])) }
        }
        return results.values
    }

    func examine(_ file: WalkedFile) -> ExaminedFile? {
        guard let format = RecordFileFormat(path: file.relativePath) else { return nil }
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(root + "/" + file.relativePath, maxBytes: RecordFileParser.readLimit(format, maxRecordBytes: maxRecordBytes))
        } catch {
            return ExaminedFile(
                failure: error.tooLargeSize.map { RecordFileParser.tooLargeReason(format, size: $0, maxRecordBytes: maxRecordBytes) } ?? error.reason)
        }
        let parsed = RecordFileParser.parse(path: file.relativePath, bytes: bytes, format: format, maxRecordBytes: maxRecordBytes)
        let violations = parsed.records.map { located in schemas.validate(located.record).map { RecordProblem($0, of: located, in: bytes) } }
        return ExaminedFile(digest: ContentDigest(of: bytes), parsed: parsed, violations: violations)
    }

    /// A file the index knew but this walk did not read is a deletion only if nothing
    /// hid it: not a folder that could not be read, a symlink leading out of the root, a
    /// broken link or a FIFO in its place (the walker reports those paths), and not a
    /// path the ignore globs now exclude (ignoring a file stops syncing it; it does not
    /// delete it for the whole team). Such files keep their entry and their records are
    /// protected.
    private func protectUnseen(previous: RootIndex, in result: inout ScanResult) {
        let problemPaths = Set(result.problems.map(\.path))
        for path in previous.paths where !result.index.contains(path) {
            var hidden = ignore.isIgnored(path)
            var ancestor = Substring(path)
            while !hidden {
                if problemPaths.contains(String(ancestor)) { hidden = true }
                guard let slash = ancestor.lastIndex(of: "/") else { break }
                ancestor = ancestor[..<slash]
            }
            guard hidden else { continue }
            result.protected.formUnion(result.index.keep(path, from: previous))
        }
    }

    /// Records that `key` is present at `place`. False when it was already seen:
    /// then both places are reported, the key is protected, and a first copy that is
    /// still batched is withdrawn (one already handed out becomes a late duplicate).
    @discardableResult
    private func note(
        _ key: RecordKey, place: String, in result: inout ScanResult, firstPlace: inout [RecordKey: (place: String, flushed: Bool, duplicated: Bool)],
        batch: inout [RecordKey: ScannedRecord]
    ) -> Bool {
        result.present.insert(key)
        guard var first = firstPlace[key] else {
            firstPlace[key] = (place, false, false)
            return true
        }
        result.protected.insert(key)
        result.problems.append(problem(key, at: place, other: first.place))
        if !first.duplicated {
            result.problems.append(problem(key, at: first.place, other: place))
            first.duplicated = true
            firstPlace[key] = first
        }
        if batch.removeValue(forKey: key) == nil, first.flushed { result.lateDuplicates.insert(key) }
        return false
    }

    private func problem(_ key: RecordKey, at place: String, other: String) -> RecordProblem {
        let parts = place.split(separator: ":")
        let line = parts.count > 1 ? Int(parts.last!) ?? 1 : 1
        let path = parts.count > 1 ? parts.dropLast().joined(separator: ":") : place
        return RecordProblem(path: path, line: line, column: 1, reason: "duplicate record \(key), also defined at \(other); keep one and remove the other")
    }
}

/// Slots the lanes of `examineAll` fill, each its own.
private final class ExaminedResults: @unchecked Sendable {
    private var slots: [RootScanner.ExaminedFile?]
    private let lock = Mutex(())

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: RootScanner.ExaminedFile?) {
        lock.withLock { _ in slots[index] = value }
    }

    var values: [RootScanner.ExaminedFile?] { lock.withLock { _ in slots } }
}
