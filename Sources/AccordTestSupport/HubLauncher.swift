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

    /// Creates `agreement/ID` for each of `ids` on the hub itself, as another replica
    /// would; throws unless each answers 201.
    package func createAgreements(_ ids: [String]) async throws {
        for id in ids {
            let put = try await client.request(
                "PUT", "/v1/records/agreement/\(id)", headers: ["If-None-Match": "*"],
                json: #"{"title": "Written elsewhere", "parties": ["A", "B"], "status": "signed"}"#)
            guard put.status == 201 else { throw TestSupportError("creating agreement/\(id) on the hub answered \(put.status)") }
        }
    }

    /// A backup of its SQLite database as it is now, as an operator takes one: the hub
    /// is stopped (so the file is whole), the file copied, and the hub started again on
    /// the same port. Returns the copy's path, in this hub's folder.
    package func backup(named name: String = "backup.db") async throws -> String {
        process.signal(SIGTERM)
        _ = try await process.waitForExit(timeout: 30)
        let copy = folder.child(name)
        try FileManager.default.copyItem(atPath: databasePath, toPath: copy)
        if FileManager.default.fileExists(atPath: databasePath + "-wal") {
            try FileManager.default.copyItem(atPath: databasePath + "-wal", toPath: copy + "-wal")
        }
        try restart(samePort: true)
        return copy
    }

    private static func start(
        folder: TemporaryFolder, database: String, schemas: String, host: String, wrapper: [String], arguments: [String], port: Int = 0
    ) throws -> (ChildProcess, Int) {
        let binary = try BuiltProducts.path(of: "accordhub")
        // Without a config (and its tokens) the hub must be told it may run open.
        let open = arguments.contains("--config") ? [] : ["--open"]
        let command = wrapper + [binary, "--listen", "\(host):\(port)", "--db", database, "--schemas", schemas] + open + arguments
        // A port given again (a restart on the same port) may have been taken in the
        // meantime by another test's outgoing connection: it is tried again for a few
        // seconds, until that connection is gone.
        var tries = 0
        var process: ChildProcess
        var line: String
        while true {
            process = try ChildProcess(command[0], Array(command.dropFirst()), logFolder: folder.path)
            do {
                line = try process.waitForOutput(containing: "listening on", timeout: 30)
                break
            } catch  where port != 0 && tries < 20 && "\(error)".contains("Address already in use") {
                tries += 1
                usleep(250_000)
            }
        }
        guard let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw TestSupportError("cannot read the port from: \(line)")
        }
        return (process, port)
    }
}
