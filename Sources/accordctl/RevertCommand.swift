import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl revert KIND/ID --to REV`: writes an earlier revision's fields into the
/// local record, which then syncs as an ordinary edit (CONTRACT 8.2).
struct RevertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revert", abstract: "Bring a record back to an earlier revision, as a new edit.",
        discussion: """
            Writes the fields of revision REV (from accordctl history) into the record's file; \
            the daemon pushes them as a new revision, merged with the hub's by the usual rules. \
            History is never rewritten.
            """)

    @OptionGroup var control: ControlOptions
    @Argument(help: "The record, KIND/ID.")
    var record: String
    @Option(help: "The revision to bring back.")
    var to: String

    func validate() throws {
        _ = try RecordArgument.key(record)
        guard !to.isEmpty else { throw ValidationError("--to needs a revision from accordctl history") }
    }

    func run() async throws {
        let key = try RecordArgument.key(record)
        let client = try ControlClient(control)
        // The daemon runs it between two sync steps, and a step may be a long pull.
        let reply = try await client.send("POST", "/v1/records/\(key.kind)/\(key.id)/revert", body: ["to": .string(to)], timeout: 300)
        guard reply.status == 200 else { throw client.failure(reply) }
        CommandRunner.printOutput("\(key): \(reply.json["reverted"]?.inline ?? "reverted"); it syncs as a new revision")
    }
}
