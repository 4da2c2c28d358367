import AccordCLI
import AccordCore
import ArgumentParser

/// `accordctl`: controls a running `accordd`, plus offline tools.
@main
struct Accordctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordctl",
        abstract: "Control a running accordd, and check record files offline.",
        version: AccordVersion.string,
        subcommands: [ValidateCommand.self, DiffCommand.self]
    )

    static func main() {
        CommandRunner.main(Accordctl.self)
    }
}
