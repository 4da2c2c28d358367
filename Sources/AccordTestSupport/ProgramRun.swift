import Foundation

/// A program run to its end: its exit status (128 + signal when killed) and output.
///
/// Spawned with posix_spawn through `ChildProcess`, never with Foundation's `Process`:
/// on Linux `Process.run()` copies whole `dirent` names while it lists /proc/self/fd,
/// reads past glibc's buffer now and then, and takes the whole test process down with
/// it (swift-corelibs-foundation #5472); tests spawn hundreds of programs side by side.
package struct ProgramRun: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String

    /// Runs `path` with `arguments` (in `directory` when given) and waits for it, at most
    /// `timeout` seconds. Blocks the calling thread.
    package static func run(_ path: String, _ arguments: [String], in directory: String? = nil, timeout: Double = 120) throws -> ProgramRun {
        let logs = try TemporaryFolder()
        var command = (path: path, arguments: arguments)
        if let directory { command = ("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", directory, path] + arguments) }
        let child = try ChildProcess(command.path, command.arguments, logFolder: logs.path)
        let status = try child.waitForExit(timeout: timeout)
        return ProgramRun(status: status, stdout: child.standardOutput, stderr: child.standardError)
    }

    /// As `run`, throwing with the program's stderr unless it exits 0.
    @discardableResult
    package static func succeed(_ path: String, _ arguments: [String], in directory: String? = nil) throws -> ProgramRun {
        let run = try run(path, arguments, in: directory)
        guard run.status == 0 else {
            let name = URL(fileURLWithPath: path).lastPathComponent
            throw TestSupportError("\(name) \(arguments.prefix(3).joined(separator: " ")) exited \(run.status): \(run.stderr)")
        }
        return run
    }
}
