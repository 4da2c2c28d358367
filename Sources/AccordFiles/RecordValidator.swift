import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a validation run found.
package struct ValidationReport: Sendable {
    package var filesChecked = 0
    /// Records that parsed, carry a unique identity and pass their schema.
    package var validRecords: [LocatedRecord] = []
    /// Sorted by path, line, column.
    package var problems: [RecordProblem] = []

    package var isValid: Bool { problems.isEmpty }
}

/// Reads record files and folders and checks everything CONTRACT section 2 asks of
/// them: JSON syntax, identity, schema, uniqueness of `kind/id`, size, symlinks.
/// The deciding is `AccordCore`'s; this is the shell that reads the files.
package struct RecordValidator: Sendable {
    package var schemas: SchemaSet
    package var ignore: IgnoreRules
    package var maxRecordBytes: Int

    package init(schemas: SchemaSet, ignore: IgnoreRules = IgnoreRules(), maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes) {
        self.schemas = schemas
        self.ignore = ignore
        self.maxRecordBytes = maxRecordBytes
    }

    /// Each path is a record file or a folder (walked recursively). Paths are shown as given.
    package func validate(paths: [String]) -> ValidationReport {
        var report = ValidationReport()
        var parsed: [(record: LocatedRecord, text: [UInt8])] = []
        var seenFiles = Set<String>()
        func checkOnce(_ file: String) {
            // The same file named twice (or a file inside a folder also named) is one file.
            let identity = realPath(file) ?? file
            guard seenFiles.insert(identity).inserted else { return }
            check(file: file, into: &report, records: &parsed)
        }
        for path in paths {
            if SchemaDirectory.isDirectory(path) {
                let walked = RecordTreeWalker(ignore: ignore).walk(root: path)
                report.problems.append(contentsOf: walked.problems)
                for file in walked.files {
                    checkOnce(path.hasSuffix("/") ? path + file.relativePath : path + "/" + file.relativePath)
                }
            } else {
                checkOnce(path)
            }
        }
        // Identity first: a kind/id defined twice is reported even if one copy also
        // breaks its schema, so fixing that copy does not reveal a new error.
        let (unique, duplicateProblems) = DuplicateRecords.split(parsed.map(\.record))
        report.problems.append(contentsOf: duplicateProblems)
        let uniqueKeys = Set(unique.map(\.record.key))
        for entry in parsed where uniqueKeys.contains(entry.record.record.key) {
            let violations = schemas.validate(entry.record.record)
            if violations.isEmpty {
                report.validRecords.append(entry.record)
                continue
            }
            report.problems.append(contentsOf: violations.map { RecordProblem($0, of: entry.record, in: entry.text) })
        }
        report.problems.sort { ($0.path, $0.line, $0.column, $0.reason) < ($1.path, $1.line, $1.column, $1.reason) }
        return report
    }

    /// Parses one file; records with a valid identity go to `records` for the duplicate
    /// and schema checks across all files.
    private func check(file path: String, into report: inout ValidationReport, records: inout [(record: LocatedRecord, text: [UInt8])]) {
        guard let format = RecordFileFormat(path: path) else {
            report.problems.append(RecordProblem(path: path, line: 1, column: 1, reason: "not a record file; record files end in .json or .jsonl"))
            return
        }
        report.filesChecked += 1
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(path, maxBytes: RecordFileParser.readLimit(format, maxRecordBytes: maxRecordBytes))
        } catch {
            let reason = error.tooLargeSize.map { RecordFileParser.tooLargeReason(format, size: $0, maxRecordBytes: maxRecordBytes) } ?? error.reason
            report.problems.append(RecordProblem(path: path, line: 1, column: 1, reason: reason))
            return
        }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: format, maxRecordBytes: maxRecordBytes)
        report.problems.append(contentsOf: parsed.problems)
        for located in parsed.records { records.append((located, bytes)) }
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
