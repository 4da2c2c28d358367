import ArgumentParser
import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// An outcome other than success, with the exit code the contract gives it:
/// 1 the operation failed, 2 usage error, 3 the daemon is not reachable.
package struct CommandStatus: Error {
    package var code: Int32
    package var message: String?

    package init(code: Int32, message: String?) {
        self.code = code
        self.message = message
    }

    package static func failed(_ message: String? = nil) -> CommandStatus { CommandStatus(code: 1, message: message) }
    package static func usage(_ message: String) -> CommandStatus { CommandStatus(code: 2, message: message) }
}

/// Runs a root command with the contract's exit codes (ArgumentParser's own default
/// for a usage error is 64) and one-line errors on stderr.
package enum CommandRunner {
    package static func main<Command: ParsableCommand>(_ type: Command.Type) -> Never {
        do {
            var command = try type.parseAsRoot()
            try command.run()
        } catch {
            finish(type, error)
        }
        exit(0)
    }

    package static func main<Command: AsyncParsableCommand>(_ type: Command.Type, arguments: [String]? = nil) async -> Never {
        do {
            var command = try type.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            finish(type, error)
        }
        exit(0)
    }

    /// Runs an async root command from a synchronous `main`, in a task of medium
    /// priority, and never returns (the command exits). Why: on Linux the Swift
    /// runtime gives the main thread the priority userInitiated, so an async `main`
    /// and every task it starts would ask libdispatch for worker threads at nice -2.
    /// A service running unprivileged may not lower its nice value (EACCES), and
    /// libdispatch then logs "Failed to set thread priority" to the journal at each
    /// start. Medium is nice 0, what the process has anyway. Nothing awaits the task,
    /// so nothing escalates it back.
    package static func mainAtDefaultPriority<Command: AsyncParsableCommand>(_ type: Command.Type, arguments: [String]? = nil) -> Never {
        Task.detached(priority: .medium) { await main(type, arguments: arguments) }
        dispatchMain()
    }

    private static func finish<Command: ParsableCommand>(_ type: Command.Type, _ error: any Error) -> Never {
        if let status = error as? CommandStatus {
            // Under systemd the reason a service stopped is an error in the journal, so
            // `journalctl -p warning` shows it (a bare line would be filed as info).
            if let message = status.message { printError(JournalStream.isConnected(2) ? "<3>" + message : message) }
            exit(status.code)
        }
        let code = type.exitCode(for: error)
        if code == .success {
            print(type.fullMessage(for: error))
            exit(0)
        }
        // One line: the reason and where to read more (ArgumentParser's own message adds
        // a usage block).
        let name = type.configuration.commandName ?? "command"
        let reason = type.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
        printError("\(name): \(reason.hasPrefix("Error: ") ? String(reason.dropFirst(7)) : reason); see '\(name) --help'")
        exit(code == .failure ? 1 : 2)
    }

    /// Writes a line to stderr with write(2): the C `stderr` global is not
    /// concurrency-safe in Swift 6.
    package static func printError(_ message: String) {
        writeLine(message, to: 2)
    }

    /// A line on stdout, written at once (no buffering), for scripts waiting on it.
    package static func printOutput(_ message: String) {
        writeLine(message, to: 1)
    }

    /// Text on stdout without a line end (a progress line redrawn with `\r`).
    package static func printOutputInline(_ text: String) {
        write(Array(text.utf8), to: 1)
    }

    private static func writeLine(_ message: String, to descriptor: Int32) {
        write(Array((message.hasSuffix("\n") ? message : message + "\n").utf8), to: descriptor)
    }

    private static func write(_ text: [UInt8], to descriptor: Int32) {
        var bytes = text
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
