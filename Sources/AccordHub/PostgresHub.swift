import Logging
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The hub's connection to PostgreSQL (CONTRACT 8.5): a pool of connections, the
/// schema's migrations, a `PostgresHubStorage` per dataset, and the wake-ups of
/// long-polls by writes made through other hubs.
package final class PostgresHub: Sendable {
    package let url: PostgresURL
    /// How the server is checked (`tlsSettings`), worked out once: the pool and the
    /// start-up check share it, and the CA file is read once.
    let tlsSettings: (required: Bool, configuration: TLSConfiguration)?
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger

    package init(url: PostgresURL, logger: Logger) throws {
        self.url = url
        self.logger = logger
        tlsSettings = try Self.tlsSettings(url)
        var configuration: PostgresClient.Configuration
        if let socket = url.socketPath {
            configuration = PostgresClient.Configuration(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            configuration = PostgresClient.Configuration(
                host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: Self.tls(tlsSettings))
        }
        configuration.options.connectTimeout = .seconds(5)
        // The server's own limits, so that nothing a hub started can hold a dataset's
        // row lock, or a request, for long: a statement, a wait for a lock, and a
        // transaction left open by a hub that went away (the server would otherwise
        // keep its locks until TCP notices, hours later).
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", "10s"), ("lock_timeout", "10s"), ("idle_in_transaction_session_timeout", "15s"),
        ]
        // The pool's own messages (a lease asked for before `run()` has started, a
        // connection re-made) are its business; errors still reach the journal.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        runner = Task { await client.run() }
    }

    /// libpq's modes: `prefer` and `allow` try TLS without checking the server;
    /// `require` insists on it; `verify-ca` checks the chain; `verify-full` the name too.
    static func tls(_ settings: (required: Bool, configuration: TLSConfiguration)?) -> PostgresClient.Configuration.TLS {
        guard let (required, configuration) = settings else { return .disable }
        return required ? .require(configuration) : .prefer(configuration)
    }

    /// Whether TLS is required and how the server is checked; nil without TLS. With
    /// `sslrootcert` the chain must end at that file's CA, not the system's, and
    /// `require` checks the chain as libpq's does when it has a root file.
    static func tlsSettings(_ url: PostgresURL) throws -> (required: Bool, configuration: TLSConfiguration)? {
        var unchecked = TLSConfiguration.makeClientConfiguration()
        unchecked.certificateVerification = .none
        var checked = TLSConfiguration.makeClientConfiguration()
        // libpq's "system" is the system's trust store, as without the parameter.
        if let file = url.sslRootCertificate, file != "system" {
            guard access(file, R_OK) == 0 else { throw PostgresCAFileError(path: file, problem: String(cString: strerror(errno))) }
            // Not a FIFO or a device, whose read could wait for ever.
            var info = stat()
            guard stat(file, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw PostgresCAFileError(path: file, problem: "it is not a regular file") }
            guard let roots = try? NIOSSLCertificate.fromPEMFile(file), !roots.isEmpty else {
                throw PostgresCAFileError(path: file, problem: "it holds no PEM certificate")
            }
            checked.trustRoots = .certificates(roots)
        }
        var chain = checked
        chain.certificateVerification = .noHostnameVerification
        switch url.sslMode {
        case .disable: return nil
        case .allow, .prefer: return (false, unchecked)
        case .require: return (true, url.sslRootCertificate == nil ? unchecked : chain)
        case .verifyCA: return (true, chain)
        case .verifyFull: return (true, checked)
        }
    }

    /// Creates or upgrades the schema (`accordhub migrate`, and every hub's start).
    @discardableResult
    package func migrate() async throws -> (before: Int, after: Int, recreated: [String]) {
        let outcome = try await PostgresMigrations.migrate(client, database: url.redacted, logger: logger)
        for name in outcome.recreated {
            logger.warning("the function \(name) was missing from \(url.redacted) (dropped by hand, or a partial restore?): made it again")
        }
        return outcome
    }

    /// The storage of one dataset, under `key` in the tables (the dataset's name; tests
    /// give each run its own).
    package func storage(key: String) async throws -> PostgresHubStorage {
        try await PostgresHubStorage(client: client, dataset: key, logger: logger)
    }

    /// Calls `published(key, seq)` whenever any hub commits to a dataset: at once
    /// through LISTEN, and every `catchUp` from the counters, since a notification can
    /// be lost while the listening connection is down. Runs until cancelled.
    package func watchCommits(catchUp: Duration = .seconds(2), _ published: @escaping @Sendable (String, Int64) -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [client, logger] in
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: PostgresHubStorage.channel) { notifications in
                                for try await notification in notifications {
                                    let parts = notification.payload.split(separator: " ")
                                    if parts.count == 2, let seq = Int64(parts[1]) { published(String(parts[0]), seq) }
                                }
                            }
                        }
                    } catch {
                        logger.debug("LISTEN ended; listening again", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            group.addTask { [client, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: catchUp)
                    do {
                        for try await (name, seq) in try await client.query("SELECT name, last_seq FROM accord_datasets", logger: logger).decode(
                            (String, Int64).self)
                        {
                            published(name, seq)
                        }
                    } catch {
                        logger.debug("catch-up read failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Closes the pool's connections.
    package func shutdown() {
        runner.cancel()
    }
}
