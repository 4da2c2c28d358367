import AccordConfig
import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordSync
import AccordSystemd
import AccordWatch
import Logging
import ServiceLifecycle
import UnixSignals

/// A start-up failure: one line for stderr, and whether it is the config's fault
/// (exit 2) or the world's (exit 1).
package struct DaemonStartError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package var isConfigError: Bool
}

/// Assembles `accordd`: the watcher, the sync loop, the feed, the control server and
/// the signal handling, as services under one ServiceGroup.
package enum Daemon {
    package static func run(config: DaemonConfig, environment: [String: String]) async throws {
        MemoryTrim.limitArenas()
        JournalLogHandler.shared.withLock {
            $0 = (JournalLogHandler.level(named: config.logLevel) ?? .info, JournalLogHandler.Format(rawValue: config.logFormat) ?? .text)
        }
        LoggingSystem.bootstrap { JournalLogHandler(label: $0) }
        let logger = Logger(label: "accordd")
        let notifier = SystemdNotifier(environment: environment)

        guard Folders.create(PathFolder.of(config.state)) else {
            throw DaemonStartError(
                description: "accordd: cannot create the state folder \(PathFolder.of(config.state)); create it, or set state in \(config.file)",
                isConfigError: false)
        }
        let stateLock: StateLock
        do {
            stateLock = try StateLock(path: config.state + ".lock", what: "the state database \(config.state)")
        } catch {
            throw DaemonStartError(description: "accordd: \(error.description)", isConfigError: false)
        }
        let store: StateStore
        do {
            store = try StateStore(path: config.state)
        } catch {
            throw DaemonStartError(
                description: "accordd: cannot open the state database \(config.state): \(error); check that its folder exists and is writable",
                isConfigError: false)
        }
        try bindDataset(store, config)
        let settings = try makeSettings(config)
        let http = HTTPClient(options: httpOptions(config))
        defer { http.shutdown() }
        // One clock for the whole daemon: the engine, the loop and the inbox agree on time.
        let clock = WallClock()
        let hub = HubClient(baseURLs: config.remotes, dataset: config.dataset, token: try readToken(config), http: http, clock: clock)
        let engine: SyncEngine
        do {
            engine = try SyncEngine(settings: settings, store: store, hub: hub, clock: clock)
        } catch {
            throw DaemonStartError(description: "accordd: cannot read the state database \(config.state): \(error)", isConfigError: false)
        }
        let socket: ControlSocket
        do {
            socket = try ControlSocket(path: config.controlSocket)
        } catch {
            throw DaemonStartError(description: "accordd: \(error.description)", isConfigError: false)
        }
        var metricsAddress: (host: String, port: Int)?
        if !config.metricsListen.isEmpty {
            guard let colon = config.metricsListen.lastIndex(of: ":"), let port = Int(config.metricsListen[config.metricsListen.index(after: colon)...])
            else {
                socket.remove()
                throw DaemonStartError(
                    description: "\(config.file): metrics.listen \"\(config.metricsListen)\" is not HOST:PORT (for example \"127.0.0.1:9480\")",
                    isConfigError: true)
            }
            metricsAddress = (String(config.metricsListen[..<colon]), port)
        }

        let doorbell = Doorbell()
        let inbox = ChangeInbox(debounceMilliseconds: config.debounceMilliseconds, doorbell: doorbell, logger: logger, clock: clock)
        var watcher: InotifyWatcher?
        do {
            watcher = try InotifyWatcher(root: config.root, ignore: settings.ignore) { inbox.receive($0) }
        } catch {
            logger.error("\(error.description); falling back to periodic scans")
        }
        if !SyncEngine.isRootFolder(config.root) {
            logger.warning("the root \(config.root) is missing or not a folder; nothing will be deleted on the hub until it is back")
        }
        let metrics = DaemonMetrics()
        let loop = SyncLoop(
            engine: engine, inbox: inbox, doorbell: doorbell, metrics: metrics, watcher: watcher,
            rescanInterval: Double(config.rescanIntervalSeconds), notifier: notifier, logger: logger, clock: clock)
        await loop.restoreFromState()
        let handler = ControlHandler(loop: loop, metrics: metrics, dataset: config.dataset)
        watcher?.start()
        defer { watcher?.stop() }

        var services: [any Service] = [
            ControlServer(handler: handler, socket: socket, metrics: metricsAddress, logger: logger),
            LoopService(loop: loop),
            ChangeFeed(loop: loop, logger: logger),
            ReloadOnHangup(loop: loop, inbox: inbox, watcher: watcher, http: http, current: config, logger: logger),
        ]
        if notifier.watchdogInterval != nil { services.append(Watchdog(notifier: notifier)) }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(9)
        logger.info(
            "accordd \(AccordVersion.string): syncing \(config.root) with \(config.remotes.joined(separator: ", then ")); control socket \(config.controlSocket)"
        )
        try await ServiceGroup(configuration: configuration).run()
        notifier.notify("STOPPING=1")
        logger.info("stopped; pending changes stay in the outbox for the next start")
        withExtendedLifetime(stateLock) {}
    }

    /// Records the dataset in a fresh state; refuses a state that synced another.
    static func bindDataset(_ store: StateStore, _ config: DaemonConfig) throws {
        let decision: DatasetBinding
        do {
            decision = DatasetBinding.decide(
                recorded: try store.setting(DatasetBinding.settingName), hasSynced: try store.hasSynced(), configured: config.dataset)
            if decision == .record { try store.setSetting(DatasetBinding.settingName, config.dataset) }
        } catch {
            throw DaemonStartError(description: "accordd: cannot read the state database \(config.state): \(error)", isConfigError: false)
        }
        if case .refuse(let recorded) = decision {
            throw DaemonStartError(description: DatasetBinding.refusal(recorded: recorded, configured: config.dataset, config: config), isConfigError: true)
        }
    }

    static func makeSettings(_ config: DaemonConfig) throws -> SyncSettings {
        let schemas: SchemaSet
        do {
            schemas = try SchemaDirectory.load(config.schemas)
        } catch {
            throw DaemonStartError(description: "\(config.file): schemas: \(error.message)", isConfigError: true)
        }
        var settings = SyncSettings(
            root: config.root, schemas: schemas, ignore: IgnoreRules(globs: config.ignore), maxRecordBytes: config.maxRecordBytes,
            policy: config.conflictPolicy,
            retry: RetryPolicy(baseDelayMilliseconds: config.retryBaseDelayMilliseconds, maxDelayMilliseconds: config.retryMaxDelayMilliseconds))
        settings.maxDeletePercent = config.maxDeletePercent
        settings.deleteSettleSeconds = 1
        settings.modes = FileModes.resolve(fileMode: config.fileMode, dirMode: config.dirMode)
        return settings
    }

    static func httpOptions(_ config: DaemonConfig) -> HTTPClientOptions {
        var options = HTTPClientOptions()
        options.userAgent = "accordd/\(AccordVersion.string)"
        // A dead link must show within 10 s while work waits (CONTRACT 8.6): data the
        // hub does not acknowledge for 4 s fails the connection, and a connect that
        // hangs fails after 3 s. Both count, since libcurl retries a request that died
        // on a reused connection once on a new one.
        options.connectTimeoutSeconds = 3
        options.deadLinkSeconds = 4
        // A hub that accepted the request but hangs (a stopped process keeps its socket):
        // no byte for 6 s fails the request. Long-polls are exempt (silent on purpose).
        options.stallSeconds = 6
        if !config.tlsCAFile.isEmpty { options.tls.caFile = config.tlsCAFile }
        if !config.tlsClientCertificate.isEmpty { options.tls.clientCertificate = config.tlsClientCertificate }
        if !config.tlsClientKey.isEmpty { options.tls.clientKey = config.tlsClientKey }
        return options
    }

    /// The bearer token from `token_file` ("" means none).
    static func readToken(_ config: DaemonConfig) throws -> String? {
        guard !config.tokenFile.isEmpty else { return nil }
        do {
            let token = String(decoding: try FileReader.readRegularFile(config.tokenFile, maxBytes: 4096), as: UTF8.self).trimming(" \n\r\t")
            guard !token.isEmpty else {
                throw DaemonStartError(description: "\(config.file): token_file \(config.tokenFile) is empty; put the bearer token in it", isConfigError: true)
            }
            return token
        } catch let error as FileReadError {
            throw DaemonStartError(description: "\(config.file): token_file: \(error.description)", isConfigError: true)
        }
    }
}

/// SIGHUP: read the config again and apply what can change while running (token,
/// policy, debounce, ignore globs, log level, rescan interval). A bad config is
/// logged and the running one kept; pending work is never dropped.
struct ReloadOnHangup: Service {
    let loop: SyncLoop
    let inbox: ChangeInbox
    let watcher: InotifyWatcher?
    let http: HTTPClient
    let current: DaemonConfig
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            var running = current
            for await _ in signals {
                do {
                    let fresh = try DaemonConfigLoader.load(running.file)
                    let settings = try Daemon.makeSettings(fresh)
                    let hub = HubClient(baseURLs: running.remotes, dataset: running.dataset, token: try Daemon.readToken(fresh), http: http)
                    try await loop.reconfigure(settings, hub: hub)
                    watcher?.setIgnore(settings.ignore)
                    inbox.setDebounce(milliseconds: fresh.debounceMilliseconds)
                    await loop.setRescanInterval(Double(fresh.rescanIntervalSeconds))
                    JournalLogHandler.shared.withLock {
                        $0 = (JournalLogHandler.level(named: fresh.logLevel) ?? .info, JournalLogHandler.Format(rawValue: fresh.logFormat) ?? .text)
                    }
                    let restartOnly = Self.needRestart(running, fresh)
                    if !restartOnly.isEmpty {
                        logger.warning("reloaded; \(restartOnly.joined(separator: ", ")) changed and take effect only after a restart")
                    } else {
                        logger.notice("reloaded \(fresh.file): policy \(fresh.conflictPolicy.rawValue), debounce \(fresh.debounceMilliseconds) ms")
                    }
                    running = fresh
                    inbox.requestFullRescan()
                } catch {
                    logger.error("reload failed, keeping the running config: \(error)")
                }
            }
        }
    }

    static func needRestart(_ old: DaemonConfig, _ new: DaemonConfig) -> [String] {
        var names: [String] = []
        if old.root != new.root { names.append("root") }
        if old.remotes != new.remotes { names.append("remote") }
        if old.dataset != new.dataset { names.append("dataset") }
        if old.state != new.state { names.append("state") }
        if old.controlSocket != new.controlSocket { names.append("control.socket") }
        if old.metricsListen != new.metricsListen { names.append("metrics.listen") }
        if old.tlsCAFile != new.tlsCAFile || old.tlsClientCertificate != new.tlsClientCertificate || old.tlsClientKey != new.tlsClientKey {
            names.append("tls")
        }
        return names
    }
}
