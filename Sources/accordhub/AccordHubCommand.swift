import AccordCLI
import AccordConfig
import AccordCore
import AccordFiles
import AccordHub
import AccordSystemd
import ArgumentParser
import CLinux
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `accordhub`: the reference hub, the remote endpoint a team runs.
struct AccordHubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordhub",
        abstract: "Serve the Accord hub protocol v1 on SQLite, or on PostgreSQL for several hubs.",
        version: AccordVersion.string,
        subcommands: [ServeCommand.self, MigrateCommand.self, CopyCommand.self, HashTokenCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the hub (the default).",
        discussion: "Settings come from --config (TOML), overridden by the flags. SIGTERM or SIGINT stops it gracefully."
    )

    @Option(help: "The hub's TOML config file.")
    var config: String?

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one). Default 127.0.0.1:8480.")
    var listen: String?

    @Option(help: "The SQLite database file, or a PostgreSQL URL (postgres://USER@HOST:PORT/DB).")
    var db: String?

    @Option(help: "The schema folder (<kind>.schema.json files).")
    var schemas: String?

    @Flag(help: "Serve with no tokens: anyone who can reach it may read and write. Loopback only (the demo uses it).")
    var open = false

    @Option(help: "trace, debug, info, notice, warning, error or critical (default: [log] level of the config, else info).")
    var logLevel: String?

    func run() async throws {
        // A hub runs for months: two malloc arenas, not eight per core, each holding on
        // to what a burst of writes once freed.
        accord_malloc_arena_max(2)
        let openFiles = accord_raise_open_file_limit()
        var settings = try loadConfig()
        let levelName = logLevel ?? settings.logLevel
        guard let level = JournalLogHandler.level(named: levelName) ?? Logger.Level(rawValue: levelName) else {
            throw CommandStatus.usage("accordhub: --log-level \(levelName) is not one of trace, debug, info, notice, warning, error, critical")
        }
        if let listen {
            guard let address = ListenAddress(listen) else {
                throw CommandStatus.usage("accordhub: --listen \(listen) is not HOST:PORT (for example 127.0.0.1:8480)")
            }
            settings.listen = address
        }
        if let db { settings.db = db }
        guard !settings.db.isEmpty else {
            throw CommandStatus.usage("accordhub: db is empty; give a SQLite file (--db /var/lib/accord/hub.db) or a postgres:// URL")
        }
        if let schemas { settings.schemas = schemas }
        if open { settings.open = true }
        if settings.tokens.isEmpty, !settings.open {
            throw CommandStatus.failed(
                "accordhub: no [[tokens]] in the config: add one (its sha256 from `accordhub hash-token`), or pass --open to serve without tokens on loopback"
            )
        }
        if settings.tokens.isEmpty, !settings.listen.isLoopback {
            throw CommandStatus.failed(
                "accordhub: refusing to listen on \(settings.listen) with no tokens: anyone on the network could write; add [[tokens]] to the config or listen on 127.0.0.1"
            )
        }
        if openFiles >= 0, openFiles < settings.limits.maxConnections + 64 {
            let line =
                "accordhub: warning: the open-file limit (\(openFiles)) is below max_connections (\(settings.limits.maxConnections)) plus the database's files; raise LimitNOFILE\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        }
        if let tls = settings.tls {
            do {
                _ = try tls.serverConfiguration()
            } catch {
                throw CommandStatus.failed("accordhub: \(error)")
            }
        }
        let postgresURL = try PostgresHubOpener.url(settings.db)
        let datasets = postgresURL == nil ? try openDatasets(settings) : []
        // One line per message with its journald priority (or JSON): journald files
        // each at its level and adds the time itself.
        JournalLogHandler.shared.withLock { $0 = (level, JournalLogHandler.Format(rawValue: settings.logFormat) ?? .text) }
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
        var logger = Logger(label: "accordhub")
        logger.logLevel = level
        if let postgresURL {
            try await servePostgres(postgresURL, settings, logger: logger)
            return
        }
        try await serve(datasets, settings, logger: logger)
    }

    /// Serves datasets kept in PostgreSQL, woken by the commits of every hub on it.
    private func servePostgres(_ url: PostgresURL, _ settings: HubConfig, logger: Logger) async throws {
        let postgres = try PostgresHubOpener.connect(url, logger: logger)
        defer { postgres.shutdown() }
        let datasets = try await PostgresHubOpener.open(postgres, settings)
        let byName = Dictionary(uniqueKeysWithValues: datasets.map { ($0.name, $0) })
        let watcher = Task { await postgres.watchCommits { name, seq in byName[name]?.published(seq) } }
        defer { watcher.cancel() }
        try await serve(datasets, settings, logger: logger)
    }

    private func serve(_ datasets: [HubDataset], _ settings: HubConfig, logger: Logger) async throws {
        let handler = HubHandler(
            datasets: datasets, tokens: TokenTable(settings.tokens), maxBodyBytes: settings.maxBodyBytes,
            limits: settings.limits, logger: logger)
        let server = HubServer(handler: handler, address: settings.listen, tls: settings.tls, logger: logger)
        let scheme = settings.tls == nil ? "http" : "https"
        let database = (try? PostgresHubOpener.url(settings.db))??.redacted ?? settings.db
        let (announcer, tokenCount, datasetNames) = (logger, settings.tokens.count, settings.datasetNames)
        do {
            let configPath = config
            let commandLineLevel = logLevel
            try await server.run(
                onListening: { bound in
                    // One unbuffered line on stdout that scripts and tests can wait for
                    // (not into the journal: the notice below says it there).
                    if !JournalStream.isConnected(1) { CommandRunner.printOutput("accordhub listening on \(scheme)://\(bound)") }
                    announcer.notice(
                        "listening",
                        metadata: [
                            "address": "\(bound)", "db": "\(database)", "tokens": "\(tokenCount)", "datasets": "\(datasetNames.joined(separator: ","))",
                        ])
                },
                onHangup: {
                    guard let configPath else {
                        announcer.notice("SIGHUP: no --config to reload; nothing changed")
                        return nil
                    }
                    do {
                        let fresh = try HubConfig.parse(
                            String(decoding: try FileReader.readRegularFile(configPath, maxBytes: 1 << 20), as: UTF8.self), file: configPath)
                        // An open hub stays open and a guarded one guarded: a reload that
                        // would change that is refused whole.
                        guard fresh.tokens.isEmpty == handler.tokens.isOpen else {
                            announcer.error("reload refused: it would turn tokens on or off; restart the hub for that")
                            return nil
                        }
                        handler.replaceTokens(TokenTable(fresh.tokens))
                        if fresh.datasetNames != datasetNames {
                            announcer.warning("the datasets in \(configPath) changed; restart the hub to serve \(fresh.datasetNames.joined(separator: ", "))")
                        }
                        if commandLineLevel == nil, let freshLevel = JournalLogHandler.level(named: fresh.logLevel) {
                            JournalLogHandler.shared.withLock { $0 = (freshLevel, JournalLogHandler.Format(rawValue: fresh.logFormat) ?? .text) }
                        }
                        announcer.notice("reloaded \(configPath): \(fresh.tokens.count) tokens")
                        return fresh.tls
                    } catch {
                        announcer.error("reload failed, keeping the running tokens: \(error)")
                        return nil
                    }
                })
        } catch {
            throw CommandStatus.failed("accordhub: cannot serve on \(settings.listen): \(error)")
        }
        logger.notice("stopped")
    }

    /// Each dataset's storage and schemas: `default` in the `db` file, the others in
    /// `<db>.datasets/` (created here).
    private func openDatasets(_ settings: HubConfig) throws -> [HubDataset] {
        var opened: [HubDataset] = []
        for name in settings.datasetNames {
            let declared = settings.datasets.first { $0.name == name }
            let schemaFolder = declared?.schemas ?? settings.schemas
            let schemaSet: SchemaSet
            do {
                schemaSet = try SchemaDirectory.load(schemaFolder)
            } catch {
                throw CommandStatus.failed("accordhub: dataset \(name): \(error.message)")
            }
            let path = DatasetFiles.path(db: settings.db, dataset: name)
            if name != DatasetConfig.defaultName {
                let folder = DatasetFiles.folder(db: settings.db)
                if mkdir(folder, 0o777) != 0, errno != EEXIST {
                    throw CommandStatus.failed(
                        "accordhub: cannot create \(folder) for the dataset files: \(String(cString: strerror(errno))); check the permissions of the db's folder"
                    )
                }
            }
            do {
                opened.append(HubDataset(name: name, storage: try SQLiteHubStorage(path: path), schemas: schemaSet))
            } catch let error as DatabaseLockError {
                throw CommandStatus.failed("accordhub: \(error)")
            } catch let error as NewerDatabaseError {
                throw CommandStatus.failed("accordhub: \(error)")
            } catch {
                throw CommandStatus.failed(
                    "accordhub: cannot open the database \(path) of dataset \(name): \(error); check the path and its folder's permissions")
            }
        }
        return opened
    }

    private func loadConfig() throws -> HubConfig {
        guard let config else { return HubConfig() }
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(config, maxBytes: 1 << 20)
        } catch {
            throw CommandStatus.usage("accordhub: cannot read config \(error)")
        }
        do {
            return try HubConfig.parse(String(decoding: bytes, as: UTF8.self), file: config)
        } catch {
            throw CommandStatus.usage("accordhub: \(error)")
        }
    }
}

/// `accordhub hash-token`: prints the SHA-256 to put in `[[tokens]] sha256`.
struct HashTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Print the hex SHA-256 of a token read from stdin, for [[tokens]] sha256 in the config."
    )

    func run() throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandStatus.usage("accordhub: hash-token reads the token from stdin; for example: echo -n \"$TOKEN\" | accordhub hash-token")
        }
        print(ContentHash.hex(line))
    }
}
