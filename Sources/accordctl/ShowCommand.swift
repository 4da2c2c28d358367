import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl show KIND/ID [--rev REV]`: the record as the hub has it, now or at one
/// revision (CONTRACT 8.2).
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a record as the hub has it, or as it was at one revision.")

    @OptionGroup var control: ControlOptions
    @Argument(help: "The record, KIND/ID.")
    var record: String
    @Option(help: "A revision from accordctl history (default: the current one).")
    var rev: String?
    @Flag(help: "Print the answer as JSON, with rev, author and time.")
    var json = false

    func validate() throws {
        _ = try RecordArgument.key(record)
        // Revs are opaque but plain (3-9f2c…): anything else is a typing mistake.
        if let rev, rev.isEmpty || !rev.utf8.allSatisfy(Self.isRevisionByte) {
            throw ValidationError("--rev \(rev) is not a revision; copy one from accordctl history")
        }
    }

    /// Letters, digits, `-`, `_` and `.`: safe in a query without escaping.
    static func isRevisionByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."): true
        default: false
        }
    }

    func run() async throws {
        let key = try RecordArgument.key(record)
        let client = try ControlClient(control)
        var path = "/v1/records/\(key.kind)/\(key.id)/show"
        if let rev { path += "?rev=" + rev }
        let reply = try await client.send("GET", path)
        guard reply.status == 200 else { throw client.failure(reply) }
        if json { return Terminal.printJSON(reply.json) }
        let at = reply.json["rev"]?.inline ?? ""
        guard let fields = reply.json["fields"]?.objectValue else {
            return CommandRunner.printOutput("\(key) is deleted at \(at)")
        }
        // As the record's file would hold it: kind and id first, then the fields.
        CommandRunner.printOutput(JSONWriter.pretty(.object(Record(key: key, fields: fields).object)))
    }
}
