import AccordCLI
import AccordCore
import AccordFiles
import ArgumentParser

/// `accordctl diff KIND/ID` (the local record against the last synced version, from
/// the daemon) or `accordctl diff OLD NEW` (two .json files, offline).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show a record's field-level diff: KIND/ID against its last synced version, or OLD NEW .json files offline.",
        discussion: "Prints one line per changed field, path: old -> new. Exits 0 when nothing changed, 1 when fields differ."
    )

    @OptionGroup var control: ControlOptions

    @Argument(help: "KIND/ID of a record the daemon syncs, or two .json files: OLD NEW.")
    var targets: [String]

    @Flag(help: "Print values whole instead of cutting them to fit a terminal line.")
    var full = false

    @Option(help: "Largest record accepted, in bytes (offline form).")
    var maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes

    func validate() throws {
        switch targets.count {
        case 1 where RecordKey(targets[0]) != nil: break
        case 1: throw ValidationError("\(targets[0]) is not KIND/ID; give KIND/ID, or two .json files OLD NEW")
        case 2: break
        default: throw ValidationError("give KIND/ID, or two .json files OLD NEW")
        }
    }

    func run() async throws {
        if targets.count == 1 { return try await daemonDiff(RecordKey(targets[0])!) }
        let before = try readRecord(targets[0])
        let after = try readRecord(targets[1])
        guard before.key == after.key else {
            throw CommandStatus.failed(
                "accordctl: \(targets[0]) holds \(before.key) but \(targets[1]) holds \(after.key); diff compares two versions of one record")
        }
        try show(after.key, FieldDiff.diff(before, after), what: "")
    }

    private func daemonDiff(_ key: RecordKey) async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("GET", "/v1/records/\(key.kind)/\(key.id)/diff")
        guard reply.status == 200 else { throw client.failure(reply) }
        let local = reply.json["local"]?.objectValue
        let base = reply.json["base"]?.objectValue
        if local == nil { CommandRunner.printOutput("\(key) is not in the root (deleted locally, or never pulled)") }
        if base == nil { CommandRunner.printOutput("\(key) was never synced: every field is new") }
        try show(key, FieldDiff.diff(base ?? JSONObject(), local ?? JSONObject()), what: " since the last sync")
    }

    private func show(_ key: RecordKey, _ changes: [FieldChange], what: String) throws {
        if changes.isEmpty {
            CommandRunner.printOutput("\(key): no changes\(what)")
            return
        }
        CommandRunner.printOutput("\(key): \(changes.count) field\(changes.count == 1 ? "" : "s") changed\(what)")
        for change in changes { CommandRunner.printOutput("  " + (full ? change.description : change.summary(width: 32))) }
        throw CommandStatus(code: 1, message: nil)
    }

    private func readRecord(_ path: String) throws -> Record {
        guard RecordFileFormat(path: path) == .json else {
            throw CommandStatus.usage("accordctl: \(path): diff takes .json record files")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(path, maxBytes: maxRecordBytes)
        } catch {
            throw CommandStatus.failed("accordctl: \(error)")
        }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: .json, maxRecordBytes: maxRecordBytes)
        if let problem = parsed.problems.first { throw CommandStatus.failed("accordctl: \(problem)") }
        return parsed.records[0].record
    }
}
