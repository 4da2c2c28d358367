import Foundation

/// Starts the real `accordd` on its own root, state database and control socket,
/// against a hub on loopback, and runs the real `accordctl` against it.
package final class DaemonLauncher: @unchecked Sendable {
    package let folder: TemporaryFolder
    package let root: String
    package let socket: String
    package let configPath: String
    /// The state database (in `folder` unless given).
    package let statePath: String
    package private(set) var process: ChildProcess
    private let wrapper: [String]
    private let environment: [String: String]
    private let hubHost: String
    private let hubScheme: String

    /// - Parameters:
    ///   - extraConfig: TOML lines added to the top-level table (before any section).
    ///   - wrapper: a command the daemon runs under (e.g. `unshare`), its last
    ///     argument followed by the daemon's path and arguments.
    ///   - remotes: `remote` as a list (several hubs), instead of the one at `hubPort`.
    ///   - statePath: the state database somewhere else (on a disk of its own).
    package init(
        hubPort: Int, hubHost: String = "127.0.0.1", hubScheme: String = "http", folder: TemporaryFolder? = nil, extraConfig: String = "",
        wrapper: [String] = [], remotes: [String] = [], statePath: String? = nil,
        environment: [String: String] = [:], waitForReady: Bool = true
    ) throws {
        self.folder = try folder ?? TemporaryFolder()
        root = self.folder.child("root")
        socket = self.folder.child("control.sock")
        configPath = self.folder.child("accordd.toml")
        self.statePath = statePath ?? self.folder.child("state.db")
        self.wrapper = wrapper
        self.environment = environment
        self.hubHost = hubHost
        self.hubScheme = hubScheme
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.config(
            root: root, state: self.statePath, socket: socket, hubPort: hubPort, hubHost: hubHost, hubScheme: hubScheme, extra: extraConfig,
            remotes: remotes
        )
        .write(toFile: configPath, atomically: true, encoding: .utf8)
        process = try Self.start(folder: self.folder, config: configPath, wrapper: wrapper, environment: environment)
        if waitForReady { try waitUntilReady() }
    }

    /// `extra` goes at the top level; it may end with a section (`[tls]`) of its own.
    package static func config(
        root: String, state: String, socket: String, hubPort: Int, hubHost: String = "127.0.0.1", hubScheme: String = "http", extra: String,
        remotes: [String] = []
    ) -> String {
        let remote = remotes.isEmpty ? "\"\(hubScheme)://\(hubHost):\(hubPort)\"" : "[" + remotes.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        return """
            root = "\(root)"
            remote = \(remote)
            schemas = "\(BuiltProducts.repositoryRoot)/config/schemas"
            state = "\(state)"
            \(extra)

            [retry]
            base_delay_ms = 50
            max_delay_ms = 1000

            [control]
            socket = "\(socket)"

            """
    }

    /// Rewrites the config (for a reload test).
    package func rewriteConfig(hubPort: Int, extraConfig: String) throws {
        try Self.config(
            root: root, state: statePath, socket: socket, hubPort: hubPort, hubHost: hubHost, hubScheme: hubScheme, extra: extraConfig
        )
        .write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    package func waitUntilReady(timeout: Double = 30) throws {
        _ = try process.waitForError(containing: "control socket ready", timeout: timeout)
    }

    /// Starts it again with the same config (after a stop or a kill).
    package func restart() throws {
        process = try Self.start(folder: folder, config: configPath, wrapper: wrapper, environment: environment)
        try waitUntilReady()
    }

    private static func start(folder: TemporaryFolder, config: String, wrapper: [String], environment: [String: String]) throws -> ChildProcess {
        let binary = try BuiltProducts.path(of: "accordd")
        if wrapper.isEmpty {
            return try ChildProcess(binary, ["--config", config], environment: environment, logFolder: folder.path)
        }
        return try ChildProcess(wrapper[0], Array(wrapper.dropFirst()) + [binary, "--config", config], environment: environment, logFolder: folder.path)
    }

    /// Runs `accordctl ARGS --socket SOCKET`: exit code, stdout, stderr.
    @discardableResult
    package func ctl(_ arguments: [String]) throws -> (code: Int32, out: String, err: String) {
        let binary = try BuiltProducts.path(of: "accordctl")
        let child = try ChildProcess(binary, arguments + ["--socket", socket], logFolder: folder.path)
        let code = try child.waitForExit(timeout: 120)
        return (code, child.standardOutput, child.standardError)
    }

    /// `ctl` from async code: waits without holding a thread that runs tests' tasks.
    @discardableResult
    package func ctl(_ arguments: [String]) async throws -> (code: Int32, out: String, err: String) {
        let binary = try BuiltProducts.path(of: "accordctl")
        let child = try ChildProcess(binary, arguments + ["--socket", socket], logFolder: folder.path)
        let code = try await child.waitForExit(timeout: 120)
        return (code, child.standardOutput, child.standardError)
    }

    /// `accordctl status --json`, parsed.
    package func status() throws -> [String: Any] {
        let result = try ctl(["status", "--json"])
        guard result.code == 0, let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any] else {
            throw TestSupportError("accordctl status failed (\(result.code)): \(result.err)")
        }
        return object
    }

    /// Writes a record file into the root, atomically (as an editor would).
    package func write(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    package func read(_ relative: String) -> String? {
        try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }
}

/// Polls `condition` until it holds or `timeout` passes.
/// Blocks the calling thread: from async code the overload below is chosen instead.
package func eventually(timeout: Double = 15, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// Polls `condition` until it holds or `timeout` passes, sleeping without holding one
/// of the few threads that run every test's tasks.
package func eventually(timeout: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// Polls an async `condition` until it holds or `timeout` passes.
package func eventuallyAsync(timeout: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
