import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl history KIND/ID`: the record's revisions on the hub, newest first, each
/// with its author, time and the fields it changed (CONTRACT 8.2).
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "Show a record's revisions on the hub: who changed which fields, and when.",
        discussion: "Newest first. accordctl show KIND/ID --rev REV prints one revision whole; accordctl revert KIND/ID --to REV brings it back.")

    @OptionGroup var control: ControlOptions
    @Argument(help: "The record, KIND/ID.")
    var record: String
    @Option(name: .short, help: "How many revisions (at most 100).")
    var n: Int = 20
    @Flag(help: "Print the revisions as JSON.")
    var json = false

    func validate() throws {
        _ = try RecordArgument.key(record)
        guard (1...100).contains(n) else { throw ValidationError("-n must be from 1 to 100") }
    }

    func run() async throws {
        let key = try RecordArgument.key(record)
        let client = try ControlClient(control)
        let reply = try await client.send("GET", "/v1/records/\(key.kind)/\(key.id)/history?limit=\(n)")
        guard reply.status == 200 else { throw client.failure(reply) }
        if json { return Terminal.printJSON(reply.json) }
        let revisions = reply.json["revisions"]?.arrayValue?.compactMap(\.objectValue) ?? []
        CommandRunner.printOutput("\(key): \(revisions.count) revision\(revisions.count == 1 ? "" : "s")")
        for revision in revisions {
            let author = revision["author"]?.stringValue ?? "(no author)"
            let deleted = revision["deleted"] == .bool(true) ? "  deleted" : ""
            CommandRunner.printOutput("\(revision["rev"]?.inline ?? "")  \(revision["created"]?.inline ?? "")  \(author)\(deleted)")
            for change in revision["changes"]?.arrayValue?.compactMap(\.objectValue) ?? [] {
                CommandRunner.printOutput(Terminal.fit("    " + (change["summary"]?.inline ?? "")))
            }
        }
        if reply.json["more"] == .bool(true) { CommandRunner.printOutput("(older revisions not shown: -n \(min(100, n * 2)))") }
    }
}
