import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl log`: recent sync events with field-level summaries, oldest first.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Show recent sync events: pushed, pulled, merged, conflict, rejected, held.")

    @OptionGroup var control: ControlOptions
    @Option(name: .short, help: "How many events.")
    var n: Int = 20
    @Flag(help: "Print the events as JSON.")
    var json = false

    func validate() throws {
        guard n > 0 else { throw ValidationError("-n must be positive") }
    }

    func run() async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("GET", "/v1/events?limit=\(n)")
        guard reply.status == 200 else { throw client.failure(reply) }
        if json { return Terminal.printJSON(reply.json) }
        let events = reply.json["events"]?.arrayValue?.compactMap(\.objectValue) ?? []
        if events.isEmpty { CommandRunner.printOutput("no events yet") }
        for event in events.reversed() {
            let time = event["time"]?.inline ?? ""
            let record = event["record"]?.inline ?? ""
            let type = event["type"]?.inline ?? ""
            let summary = event["summary"]?.inline ?? ""
            let subject = record.isEmpty ? type : "\(record) \(type)"
            CommandRunner.printOutput(Terminal.fit("\(time) \(subject)" + (summary.isEmpty ? "" : ": \(summary)")))
        }
    }
}
