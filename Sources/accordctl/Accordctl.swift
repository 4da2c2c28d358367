import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl`: controls a running `accordd`, plus offline tools.
struct Accordctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordctl",
        abstract: "Control a running accordd, and check record files offline.",
        discussion: """
            Exit codes: 0 success, 1 the operation failed, 2 usage error, 3 the daemon is not reachable. \
            Shell completions: accordctl --generate-completion-script bash|zsh|fish.
            """,
        version: AccordVersion.string,
        subcommands: [
            StatusCommand.self, SyncCommand.self, PauseCommand.self, ResumeCommand.self, ConflictsCommand.self, ResolveCommand.self,
            DiffCommand.self, LogCommand.self, HistoryCommand.self, ShowCommand.self, RevertCommand.self, ValidateCommand.self,
        ]
    )

    /// `accordctl --socket PATH status` reads naturally, but the option belongs to the
    /// subcommand: options given before the verb are moved after it.
    static func movingSharedOptions(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first, first.hasPrefix("--socket") || first.hasPrefix("--config") {
            leading.append(rest.removeFirst())
            if !first.contains("="), let value = rest.first {
                leading.append(value)
                rest.removeFirst()
            }
        }
        guard !leading.isEmpty, let verb = rest.first else { return arguments }
        return [verb] + leading + rest.dropFirst()
    }
}
