import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl sync`: rescan, push and pull now.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Sync now: rescan the root, push local changes, pull the hub's.",
        discussion: "With --wait, returns when everything found is settled (exit 0) or the timeout passes (exit 1).")

    @OptionGroup var control: ControlOptions
    @Flag(help: "Wait until the sync is done.")
    var wait = false
    @Option(help: "With --wait, give up after this many seconds.")
    var timeout: Double = 60

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be a number of seconds from 0 to 3600") }
    }

    func run() async throws {
        let client = try ControlClient(control)
        guard wait else {
            let reply = try await client.send("POST", "/v1/sync")
            guard reply.status / 100 == 2 else { throw client.failure(reply) }
            CommandRunner.printOutput("sync requested; follow it with: accordctl status")
            return
        }
        let progress = Terminal.isTTY ? Task { await Self.showProgress(client) } : nil
        let reply = try await client.send("POST", "/v1/sync?wait=1&timeout=\(timeout)", timeout: timeout + 30, waits: true)
        progress?.cancel()
        _ = await progress?.value
        if Terminal.isTTY { CommandRunner.printOutputInline("\r\u{1B}[K") }
        guard reply.status == 200 else { throw client.failure(reply) }
        let result = reply.json
        func count(_ name: String) -> Int { result[name]?.intValue ?? 0 }
        CommandRunner.printOutput(
            "pushed \(count("pushed")), pulled \(count("pulled")), merged \(count("merged")), conflicts \(count("conflicts")), rejected \(count("rejected"))")
        if count("invalid") > 0 { CommandRunner.printOutput("\(count("invalid")) invalid inputs are not synced; see: accordctl status") }
        if count("conflicts") > 0 { CommandRunner.printOutput("open conflicts need you; see: accordctl conflicts") }
        guard result["settled"] == .bool(true) else {
            if result["hub_reachable"] == .bool(false) {
                let why = result["last_error"]?.stringValue.map { ": \($0)" } ?? ""
                throw CommandStatus.failed(
                    "accordctl: not settled within \(Int(timeout)) s: the hub is not syncing\(why); \(count("pending")) changes pending; see: accordctl status")
            }
            throw CommandStatus.failed(
                "accordctl: not settled within \(Int(timeout)) s: \(count("pending")) changes still pending; see: accordctl status")
        }
    }

    /// A live line on a terminal: state and pending count, redrawn in place.
    static func showProgress(_ client: ControlClient) async {
        let spinner = ["|", "/", "-", "\\"]
        var tick = 0
        while !Task.isCancelled {
            if let reply = try? await client.send("GET", "/v1/status", timeout: 5), reply.status == 200 {
                let state = reply.json["state"]?.inline ?? "?"
                let pending = reply.json["pending"]?.intValue ?? 0
                CommandRunner.printOutputInline("\r\u{1B}[K\(spinner[tick % 4]) \(state): \(pending) pending")
            }
            tick += 1
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
