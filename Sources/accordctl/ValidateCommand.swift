import AccordCLI
import AccordCore
import AccordFiles
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// `accordctl validate PATH...`: checks record files against the schemas, no daemon needed.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check record files and folders against the schemas (offline).",
        discussion: """
            Prints one line per problem, path:line:col: reason. Folders are checked \
            recursively, skipping dot-files, editor temporaries and --ignore globs. \
            Exits 0 when everything is valid, 1 when anything is not, 2 on a usage error.
            """
    )

    @Argument(help: "Record files (.json, .jsonl) or folders.")
    var paths: [String]

    @Option(help: "Schema folder (default: schemas from the daemon config, else /etc/accord/schemas, else config/schemas of the checkout).")
    var schemas: String?

    @Option(help: "The daemon config to take schemas from (default: $ACCORD_CONFIG, then /etc/accord/accordd.toml).")
    var config: String?

    @Option(help: "Largest record accepted, in bytes.")
    var maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes

    @Option(help: "A glob of paths to skip inside folders (repeatable).")
    var ignore: [String] = []

    @Flag(help: "Print nothing but problems.")
    var quiet = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("name at least one file or folder to check") }
        guard maxRecordBytes > 0 else { throw ValidationError("--max-record-bytes must be positive") }
    }

    func run() throws {
        var info = stat()
        for path in paths where lstat(path, &info) != 0 {
            throw CommandStatus.usage("accordctl: no such file or folder: \(path)")
        }
        let schemaSet = try loadSchemas()
        let validator = RecordValidator(schemas: schemaSet, ignore: IgnoreRules(globs: ignore), maxRecordBytes: maxRecordBytes)
        let report = validator.validate(paths: paths)
        for problem in report.problems { print(problem) }
        if !quiet {
            let files = "\(report.filesChecked) file\(report.filesChecked == 1 ? "" : "s")"
            let records = "\(report.validRecords.count) valid record\(report.validRecords.count == 1 ? "" : "s")"
            let summary =
                report.isValid
                ? "ok: \(files), \(records)"
                : "\(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") in \(files) (\(records)); fix them and run validate again"
            CommandRunner.printError(summary)
        }
        if !report.isValid { throw CommandStatus.failed() }
    }

    private func loadSchemas() throws -> SchemaSet {
        let directory: String
        if let schemas {
            directory = schemas
        } else if let daemon = try DaemonConfigFile.table(explicit: config), let configured = daemon.table["schemas"]?.string {
            // What the daemon validates with, so both agree on what is valid.
            directory = configured
        } else {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
            let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
            guard let found = SchemaDirectory.defaultDirectory(workingDirectory: cwd) else {
                throw CommandStatus.usage(
                    "accordctl: no schema folder found (no schemas in the daemon config, nothing in \(SchemaDirectory.installed) or config/schemas); pass --schemas DIR"
                )
            }
            directory = found
        }
        do {
            return try SchemaDirectory.load(directory)
        } catch {
            throw CommandStatus.usage("accordctl: " + error.message)
        }
    }
}
