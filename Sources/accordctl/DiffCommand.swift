import AccordCLI
import AccordCore
import AccordFiles
import ArgumentParser

/// `accordctl diff OLD NEW`: the field-level diff between two versions of a record.
///
/// The daemon form, `accordctl diff KIND/ID` (local record against the last synced
/// version), arrives with the control API.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show the field-level diff between two versions of a record (offline: two .json files).",
        discussion: "Prints one line per changed field, path: old -> new. Exits 0 when they are the same record unchanged, 1 when fields differ."
    )

    @Argument(help: "The older version, a .json record file.")
    var old: String

    @Argument(help: "The newer version, a .json record file.")
    var new: String

    @Flag(help: "Print values whole instead of cutting them to fit a terminal line.")
    var full = false

    @Option(help: "Largest record accepted, in bytes.")
    var maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes

    func run() throws {
        let before = try readRecord(old)
        let after = try readRecord(new)
        guard before.key == after.key else {
            throw CommandStatus.failed("accordctl: \(old) holds \(before.key) but \(new) holds \(after.key); diff compares two versions of one record")
        }
        let changes = FieldDiff.diff(before, after)
        if changes.isEmpty {
            print("\(after.key): no changes")
            return
        }
        print("\(after.key): \(changes.count) field\(changes.count == 1 ? "" : "s") changed")
        for change in changes { print("  " + (full ? change.description : change.summary(width: 32))) }
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
