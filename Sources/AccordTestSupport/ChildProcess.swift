import CLinux
import Foundation

/// A program started for a test with posix_spawn, with a clean signal mask (a child
/// started from the test runner would otherwise inherit blocked SIGTERM) and its
/// stdout and stderr captured to files.
package final class ChildProcess: @unchecked Sendable {
    package let pid: pid_t
    package let stdoutPath: String
    package let stderrPath: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// - Parameter journalStderr: tell the child its stderr is systemd's journal
    ///   (`JOURNAL_STREAM` names the stderr file), as a service started by systemd sees it.
    package init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], logFolder: String, journalStderr: Bool = false
    )
        throws
    {
        let tag = "\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString.prefix(8))"
        stdoutPath = logFolder + "/\(tag).out"
        stderrPath = logFolder + "/\(tag).err"
        var environment = environment
        if journalStderr {
            // Made now so its inode is known; the spawn truncates it, keeping the inode.
            guard FileManager.default.createFile(atPath: stderrPath, contents: nil) else { throw TestSupportError("cannot create \(stderrPath)") }
            var info = stat()
            stat(stderrPath, &info)
            environment["JOURNAL_STREAM"] = "\(info.st_dev):\(info.st_ino)"
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of this process: a test's sockets must close when the test closes
        // them, not live on in a hub or daemon another test started meanwhile.
        accord_spawn_close_from(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw TestSupportError("cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            _ = try? waitForExit(timeout: 5)
        }
    }

    package func signal(_ number: Int32) {
        kill(pid, number)
    }

    /// CPU seconds (user + system) the process has used so far, from /proc: for
    /// checks that an idle or waiting program does not spin.
    package func cpuSeconds() throws -> Double {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // utime and stime, fields 14 and 15, counted after the name in parentheses
        // (which may hold spaces).
        guard let close = text.lastIndex(of: ")") else { throw TestSupportError("unreadable /proc/\(pid)/stat") }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw TestSupportError("unreadable /proc/\(pid)/stat")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The exit code (or 128 + signal), waiting at most `timeout` seconds. Blocks the
    /// calling thread: from async code the overload below is chosen instead.
    @discardableResult
    package func waitForExit(timeout: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let code = reap() { return code }
            guard Date() < deadline else { throw TestSupportError("process \(pid) still running after \(timeout) s") }
            usleep(5_000)
        }
    }

    /// The exit code (or 128 + signal), waiting at most `timeout` seconds without holding
    /// one of the few threads that run every test's tasks.
    @discardableResult
    package func waitForExit(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let code = reap() { return code }
            guard Date() < deadline else { throw TestSupportError("process \(pid) still running after \(timeout) s") }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The exit code if the process has ended (reaping it once), nil while it runs.
    private func reap() -> Int32? {
        if let status = lock.withLock({ exitStatus }) { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        let code = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        lock.withLock { exitStatus = code }
        return code
    }

    package var isRunning: Bool {
        lock.withLock { exitStatus == nil } && kill(pid, 0) == 0 && (try? waitForExit(timeout: 0)) == nil
    }

    package var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    package var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until stderr has a line containing `text`; returns that line.
    package func waitForError(containing text: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = standardError.split(separator: "\n").first(where: { $0.contains(text) }) { return String(line) }
            if (try? waitForExit(timeout: 0)) != nil, !standardError.contains(text) {
                throw TestSupportError("process exited before logging \"\(text)\"; stderr: \(standardError)")
            }
            usleep(10_000)
        }
        throw TestSupportError("no \"\(text)\" on stderr after \(timeout) s; stderr: \(standardError)")
    }

    /// Waits until stdout has a line containing `text`; returns that line.
    /// The lines of `text` that end with a newline.
    static func completeLines(_ text: String) -> [Substring] {
        guard let last = text.lastIndex(of: "\n") else { return [] }
        return text[..<last].split(separator: "\n")
    }

    package func waitForOutput(containing text: String, timeout: Double) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            // Complete lines only: a line still being written is looked at next time.
            if let line = Self.completeLines(standardOutput).first(where: { $0.contains(text) }) { return String(line) }
            if (try? waitForExit(timeout: 0)) != nil {
                throw TestSupportError("process exited before printing \"\(text)\"; stderr: \(standardError)")
            }
            usleep(10_000)
        }
        throw TestSupportError("no \"\(text)\" on stdout after \(timeout) s; stderr: \(standardError)")
    }
}
