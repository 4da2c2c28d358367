import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl conflicts`: every open conflict, field by field, with both values.
struct ConflictsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List open conflicts: record, field, both values.")

    @OptionGroup var control: ControlOptions
    @Flag(help: "Print the conflicts as JSON.")
    var json = false

    func run() async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("GET", "/v1/conflicts")
        guard reply.status == 200 else { throw client.failure(reply) }
        if json { return Terminal.printJSON(reply.json) }
        let list = reply.json["conflicts"]?.arrayValue?.compactMap(\.objectValue) ?? []
        if list.isEmpty {
            CommandRunner.printOutput("no open conflicts")
            return
        }
        var current = ""
        for conflict in list {
            let record = conflict["record"]?.inline ?? "?"
            if record != current {
                CommandRunner.printOutput(record)
                current = record
            }
            CommandRunner.printOutput("  field \(conflict["field"]?.inline ?? "?")")
            CommandRunner.printOutput(Terminal.fit("    local:  \(conflict["local"].map { $0.inline } ?? "(deleted)")"))
            CommandRunner.printOutput(Terminal.fit("    remote: \(conflict["remote"].map { $0.inline } ?? "(deleted)")"))
        }
        CommandRunner.printOutput("settle one with: accordctl resolve KIND/ID --keep local|remote|FILE")
    }
}
