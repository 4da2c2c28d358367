import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl status`: what the daemon is doing and what needs a person.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the daemon's state, pending pushes, last sync, conflicts and invalid records.")

    @OptionGroup var control: ControlOptions
    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() async throws {
        let client = try ControlClient(control)
        let reply = try await client.send("GET", "/v1/status")
        guard reply.status == 200 else { throw client.failure(reply) }
        if json { return Terminal.printJSON(reply.json) }
        let status = reply.json
        let reachable = status["hub_reachable"] == .bool(true)
        var lines = [
            "state:      \(status["state"]?.inline ?? "?")",
            "hub:        \(status["hub"]?.inline ?? "?") (\(reachable ? "reachable" : "not syncing: see the last error"))",
            "dataset:    \(status["dataset"]?.stringValue ?? "default")",
            "root:       \(status["root"]?.inline ?? "?") (\(status["records"]?.intValue ?? 0) records in \(status["files"]?.intValue ?? 0) files)",
            "pending:    \(status["pending"]?.intValue ?? 0) changes to push",
            "last sync:  \(status["last_sync"]?.stringValue ?? "never")",
        ]
        if let error = status["last_error"]?.stringValue, !reachable || status["state"]?.stringValue == "offline" {
            lines.append("last error: \(error)")
        }
        if let failing = status["local_error"]?.stringValue {
            let tries = status["local_failures"]?.intValue ?? 0
            lines.append("failing:    \(failing)")
            lines.append("            \(tries) tries so far, retried by itself with backoff; check the disk under the state database and the root")
        }
        let conflicts = status["conflicts"]?.intValue ?? 0
        lines.append("conflicts:  \(conflicts)" + (conflicts > 0 ? " open; see them with: accordctl conflicts" : ""))
        let held = status["held_deletions"]?.intValue ?? 0
        if held > 0 {
            lines.append("held:       \(held) deletions held: \(status["hold_reason"]?.inline ?? "")")
            lines.append("            check the root, then: accordctl resume --allow-deletes")
        }
        let invalid = status["invalid"]?.arrayValue ?? []
        lines.append("invalid:    \(invalid.count)" + (invalid.isEmpty ? "" : " (not synced until fixed; check with: accordctl validate PATH)"))
        for problem in invalid.prefix(20) {
            guard let item = problem.objectValue else { continue }
            lines.append(
                "  \(item["path"]?.inline ?? ""):\(item["line"]?.intValue ?? 1):\(item["column"]?.intValue ?? 1): \(item["reason"]?.inline ?? "")")
        }
        if invalid.count > 20 { lines.append("  … and \(invalid.count - 20) more (accordctl status --json lists all)") }
        let unapplied = status["unapplied_count"]?.intValue ?? 0
        if unapplied > 0 {
            lines.append("unapplied:  \(unapplied) hub changes not yet written to the root (retried by themselves once the cause is fixed)")
            for entry in (status["unapplied"]?.arrayValue ?? []).prefix(10) {
                guard let item = entry.objectValue else { continue }
                lines.append("  \(item["record"]?.inline ?? ""): \(item["error"]?.inline ?? "")")
            }
        }
        if status["state"]?.stringValue == "paused" { lines.append("paused: start talking to the hub again with: accordctl resume") }
        for line in lines { CommandRunner.printOutput(Terminal.fit(line)) }
    }
}
