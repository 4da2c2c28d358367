import AccordCLI
import ArgumentParser

/// `accordctl pause`: stop talking to the hub; local changes are still recorded.
struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop talking to the hub (local changes are still recorded).")

    @OptionGroup var control: ControlOptions

    func run() async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("POST", "/v1/pause")
        guard reply.status == 200 else { throw client.failure(reply) }
        CommandRunner.printOutput("paused; start again with: accordctl resume")
    }
}

/// `accordctl resume`: talk to the hub again; optionally let held deletions through.
struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Talk to the hub again.",
        discussion: "--allow-deletes also releases the deletions the mass-delete guard holds: they reach the hub.")

    @OptionGroup var control: ControlOptions
    @Flag(help: "Let the deletions held by the mass-delete guard through.")
    var allowDeletes = false

    func run() async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("POST", "/v1/resume" + (allowDeletes ? "?allow_deletes=1" : ""))
        guard reply.status == 200 else { throw client.failure(reply) }
        CommandRunner.printOutput(allowDeletes ? "resumed; held deletions are let through" : "resumed")
    }
}
