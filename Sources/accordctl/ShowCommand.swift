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
    }

    func run() async throws {
        let key = try RecordArgument.key(record)
        let client = try ControlClient(control)
        var path = "/v1/records/\(key.kind)/\(key.id)/show"
        if let rev { path += "?rev=" + PercentDecoding.encodeQueryValue(rev) }
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
