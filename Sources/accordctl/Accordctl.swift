import AccordCore
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// `accordctl`: controls a running `accordd`, plus offline tools.
@main
struct Accordctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordctl",
        abstract: "Control a running accordd, and check record files offline.",
        version: AccordVersion.string,
        subcommands: [ValidateCommand.self, DiffCommand.self]
    )

    /// Runs the command with the contract's exit codes: 0 ok, 1 failed, 2 usage error,
    /// 3 daemon unreachable. ArgumentParser's own default for usage errors is 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let status as CommandStatus {
            if let message = status.message { printError(message) }
            Glibc.exit(status.code)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            printError(fullMessage(for: error))
            Glibc.exit(code == .failure ? 1 : 2)
        }
        Glibc.exit(0)
    }

    static func printError(_ message: String) {
        var stream = StandardError()
        print(message, to: &stream)
    }
}

/// An outcome other than success, with the exit code the contract gives it.
struct CommandStatus: Error {
    var code: Int32
    var message: String?

    static func failed(_ message: String? = nil) -> CommandStatus { CommandStatus(code: 1, message: message) }
    static func usage(_ message: String) -> CommandStatus { CommandStatus(code: 2, message: "accordctl: \(message)") }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        // Written with write(2): the C `stderr` global is not concurrency-safe in Swift 6.
        var bytes = Array(string.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
