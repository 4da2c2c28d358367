#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The two record file formats, chosen by extension.
package enum RecordFileFormat: Sendable {
    /// One record, a JSON object.
    case json
    /// One record per line.
    case jsonl

    package init?(path: String) {
        if path.hasSuffix(".jsonl") {
            self = .jsonl
        } else if path.hasSuffix(".json") {
            self = .json
        } else {
            return nil
        }
    }
}

/// A record and where it lives: the file and, in a `.jsonl`, its line (1 for `.json`).
package struct LocatedRecord: Sendable, Hashable {
    package var record: Record
    package var path: String
    package var line: Int
    /// Where the record's text lies in the file: the whole file for `.json`, its line
    /// (without the newline) for `.jsonl`. Lets errors be located and lines rewritten
    /// without scanning the file again.
    package var byteRange: Range<Int>

    package init(record: Record, path: String, line: Int, byteRange: Range<Int> = 0..<0) {
        self.record = record
        self.path = path
        self.line = line
        self.byteRange = byteRange
    }

    package var place: String { "\(path):\(line)" }
}

/// What one file holds: the records that parsed and carry a valid identity, and the
/// problems found on the way. A file may yield both (a `.jsonl` with one bad line).
package struct ParsedRecordFile: Sendable {
    package var records: [LocatedRecord] = []
    package var problems: [RecordProblem] = []

    package init(records: [LocatedRecord] = [], problems: [RecordProblem] = []) {
        self.records = records
        self.problems = problems
    }
}

/// Turns the bytes of a record file into records. Pure: the caller reads the file.
package enum RecordFileParser {
    package static let defaultMaxRecordBytes = 1_048_576
    /// The largest `.jsonl` file read (a whole file is read and parsed at once): past
    /// it the file is reported, not read, so one huge file cannot exhaust memory.
    package static let maxDatasetFileBytes = 128 << 20

    /// The most bytes a file of `format` may have before it is not read at all.
    package static func readLimit(_ format: RecordFileFormat, maxRecordBytes: Int) -> Int {
        format == .json ? maxRecordBytes : maxDatasetFileBytes
    }

    /// Why a file of `size` bytes was not read (see `readLimit`).
    package static func tooLargeReason(_ format: RecordFileFormat, size: Int, maxRecordBytes: Int) -> String {
        switch format {
        case .json: "record is \(size) bytes, over max_record_bytes (\(maxRecordBytes)); split it or raise the limit"
        case .jsonl: ".jsonl file is \(size) bytes, over the limit of \(maxDatasetFileBytes) for one dataset file; split it into several files"
        }
    }

    package static func parse(
        path: String, bytes: UnsafeBufferPointer<UInt8>, format: RecordFileFormat,
        maxRecordBytes: Int = defaultMaxRecordBytes
    ) -> ParsedRecordFile {
        var result = ParsedRecordFile()
        switch format {
        case .json:
            parseRecord(path: path, line: 1, bytes: bytes, offset: 0, maxRecordBytes: maxRecordBytes, into: &result)
        case .jsonl:
            var lineNumber = 1
            var start = 0
            while start <= bytes.count {
                var end = bytes.count
                if start < bytes.count, let newline = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) {
                    end = UnsafePointer<UInt8>(newline.assumingMemoryBound(to: UInt8.self)) - bytes.baseAddress!
                }
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                if !isBlank(line) {
                    parseRecord(path: path, line: lineNumber, bytes: line, offset: start, maxRecordBytes: maxRecordBytes, into: &result)
                }
                lineNumber += 1
                start = end + 1
            }
        }
        return result
    }

    package static func parse(
        path: String, bytes: [UInt8], format: RecordFileFormat, maxRecordBytes: Int = defaultMaxRecordBytes
    ) -> ParsedRecordFile {
        bytes.withUnsafeBufferPointer { parse(path: path, bytes: $0, format: format, maxRecordBytes: maxRecordBytes) }
    }

    private static func parseRecord(
        path: String, line: Int, bytes: UnsafeBufferPointer<UInt8>, offset: Int, maxRecordBytes: Int, into result: inout ParsedRecordFile
    ) {
        if bytes.count > maxRecordBytes {
            result.problems.append(
                RecordProblem(
                    path: path, line: line, column: 1,
                    reason: "record is \(bytes.count) bytes, over max_record_bytes (\(maxRecordBytes)); split it or raise the limit"))
            return
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, options: JSONParser.Options(maxDepth: Record.maxDepth))
        } catch {
            result.problems.append(RecordProblem(path: path, line: line + error.line - 1, column: error.column, reason: error.reason))
            return
        }
        guard case .object(let object) = value else {
            result.problems.append(
                RecordProblem(
                    path: path, line: line, column: 1,
                    reason: RecordIdentityError.notAnObject(SchemaType.name(of: value)).description))
            return
        }
        do {
            let record = try Record(object: object)
            result.records.append(LocatedRecord(record: record, path: path, line: line, byteRange: offset..<(offset + bytes.count)))
        } catch {
            // Point at the offending member: "id" or "kind", or the object when missing.
            let pointer = error.field.map { "/" + $0 } ?? ""
            let (lineInRecord, column) = JSONLocator.position(of: pointer, in: bytes)
            result.problems.append(RecordProblem(path: path, line: line + lineInRecord - 1, column: column, reason: error.description))
        }
    }

    private static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
