import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a validation run found.
public struct ValidationReport: Sendable {
    public var filesChecked = 0
    /// Records that parsed, carry a unique identity and pass their schema.
    public var validRecords: [LocatedRecord] = []
    /// Sorted by path, line, column.
    public var problems: [RecordProblem] = []

    public var isValid: Bool { problems.isEmpty }
}

/// Reads record files and folders and checks everything CONTRACT section 2 asks of
/// them: JSON syntax, identity, schema, uniqueness of `kind/id`, size, symlinks.
/// The deciding is `AccordCore`'s; this is the shell that reads the files.
public struct RecordValidator: Sendable {
    public var schemas: SchemaSet
    public var ignore: IgnoreRules
    public var maxRecordBytes: Int

    public init(schemas: SchemaSet, ignore: IgnoreRules = IgnoreRules(), maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes) {
        self.schemas = schemas
        self.ignore = ignore
        self.maxRecordBytes = maxRecordBytes
    }

    /// Each path is a record file or a folder (walked recursively). Paths are shown as given.
    public func validate(paths: [String]) -> ValidationReport {
        var report = ValidationReport()
        var records: [LocatedRecord] = []
        for path in paths {
            if SchemaDirectory.isDirectory(path) {
                let walked = RecordTreeWalker(ignore: ignore).walk(root: path)
                report.problems.append(contentsOf: walked.problems)
                for file in walked.files {
                    let shown = path.hasSuffix("/") ? path + file.relativePath : path + "/" + file.relativePath
                    check(file: shown, into: &report, records: &records)
                }
            } else {
                check(file: path, into: &report, records: &records)
            }
        }
        let (unique, duplicateProblems) = DuplicateRecords.split(records)
        report.problems.append(contentsOf: duplicateProblems)
        report.validRecords = unique
        report.problems.sort { ($0.path, $0.line, $0.column, $0.reason) < ($1.path, $1.line, $1.column, $1.reason) }
        return report
    }

    /// The bytes of 1-based line `number`.
    static func line(_ number: Int, of bytes: [UInt8]) -> [UInt8] {
        var current = 1
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if current == number { return Array(bytes[start..<index]) }
            current += 1
            start = index + 1
        }
        return current == number ? Array(bytes[start...]) : []
    }

    /// Parses and schema-checks one file; valid records go to `records` for the
    /// duplicate check across all files.
    private func check(file path: String, into report: inout ValidationReport, records: inout [LocatedRecord]) {
        guard let format = RecordFileFormat(path: path) else {
            report.problems.append(RecordProblem(path: path, line: 1, column: 1, reason: "not a record file; record files end in .json or .jsonl"))
            return
        }
        report.filesChecked += 1
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(path, maxBytes: format == .json ? maxRecordBytes : Int.max)
        } catch {
            let reason =
                error.tooLargeSize.map {
                    "record is \($0) bytes, over max_record_bytes (\(maxRecordBytes)); split it or raise the limit"
                } ?? error.reason
            report.problems.append(RecordProblem(path: path, line: 1, column: 1, reason: reason))
            return
        }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: format, maxRecordBytes: maxRecordBytes)
        report.problems.append(contentsOf: parsed.problems)
        for located in parsed.records {
            let violations = schemas.validate(located.record)
            if violations.isEmpty {
                records.append(located)
            } else {
                let text = format == .json ? bytes : Self.line(located.line, of: bytes)
                for violation in violations {
                    let (line, column) = JSONLocator.position(of: violation.path, in: text)
                    report.problems.append(
                        RecordProblem(
                            path: path, line: located.line + line - 1, column: column, reason: violation.description))
                }
            }
        }
    }
}
