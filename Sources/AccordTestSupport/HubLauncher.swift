import Foundation

/// Starts the real `accordhub` binary on a free loopback port with its own database,
/// for tests that need the hub as a process (kill -9, signals, garbage on the socket).
package final class HubLauncher: @unchecked Sendable {
    package let folder: TemporaryFolder
    package let databasePath: String
    package private(set) var process: ChildProcess
    package private(set) var port: Int
    private let extraArguments: [String]
    private let schemas: String
    private let host: String
    private let wrapper: [String]
    /// The address clients use to reach it.
    package let address: String

    /// - Parameters:
    ///   - schemas: the schema folder (the repository's by default).
    ///   - host: the address to listen on (loopback by default).
    ///   - wrapper: a command the hub runs under (`ip netns exec NS`).
    ///   - address: how the test reaches it (`host` by default).
    ///   - database: the `--db` (a file in `folder` by default; or a PostgreSQL URL).
    ///   - port: the port to listen on (a free one by default).
    package init(
        arguments: [String] = [], folder: TemporaryFolder? = nil, schemas: String? = nil, host: String = "127.0.0.1", wrapper: [String] = [],
        address: String? = nil, database: String? = nil, port: Int = 0
    ) throws {
        self.folder = try folder ?? TemporaryFolder()
        databasePath = database ?? self.folder.child("hub.db")
        extraArguments = arguments
        self.schemas = schemas ?? BuiltProducts.repositoryRoot + "/config/schemas"
        self.host = host
        self.wrapper = wrapper
        self.address = address ?? host
        (process, self.port) = try Self.start(
            folder: self.folder, database: databasePath, schemas: self.schemas, host: host, wrapper: wrapper, arguments: arguments, port: port)
    }

    package var client: RawHTTPClient { RawHTTPClient(host: address, port: port) }

    /// Starts it again on the same database (after a stop or a kill), on the same
    /// port when `samePort` (clients configured with it find it again).
    package func restart(samePort: Bool = false) throws {
        (process, port) = try Self.start(
            folder: folder, database: databasePath, schemas: schemas, host: host, wrapper: wrapper, arguments: extraArguments,
            port: samePort ? port : 0)
    }

    private static func start(
        folder: TemporaryFolder, database: String, schemas: String, host: String, wrapper: [String], arguments: [String], port: Int = 0
    ) throws -> (ChildProcess, Int) {
        let binary = try BuiltProducts.path(of: "accordhub")
        // Without a config (and its tokens) the hub must be told it may run open.
        let open = arguments.contains("--config") ? [] : ["--open"]
        let command = wrapper + [binary, "--listen", "\(host):\(port)", "--db", database, "--schemas", schemas] + open + arguments
        let process = try ChildProcess(command[0], Array(command.dropFirst()), logFolder: folder.path)
        let line = try process.waitForOutput(containing: "listening on", timeout: 30)
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw TestSupportError("cannot read the port from: \(line)")
        }
        return (process, port)
    }
}
