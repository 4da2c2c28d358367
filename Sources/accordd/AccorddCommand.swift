import AccordCLI
import AccordConfig
import AccordCore
import AccordDaemon
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// `accordd`: the sync daemon. Runs in the foreground; systemd runs it.
struct AccorddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accordd",
        abstract: "Keep a folder of records in sync with an Accord hub (runs in the foreground; systemd runs it).",
        discussion: "SIGHUP reloads the config; SIGTERM stops after the current step, keeping pending work for the next start.",
        version: AccordVersion.string
    )

    @Option(help: "The config file (default: $ACCORD_CONFIG, then /etc/accord/accordd.toml).")
    var config: String?

    @Flag(help: "Check the config and exit.")
    var checkConfig = false

    func run() async throws {
        var environment: [String: String] = [:]
        for key in ["ACCORD_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        let path = config ?? environment["ACCORD_CONFIG"] ?? DaemonConfig.defaultPath
        let loaded: DaemonConfig
        do {
            loaded = try DaemonConfigLoader.load(path)
        } catch {
            throw CommandStatus.usage("accordd: \(error.description)")
        }
        if checkConfig {
            CommandRunner.printOutput("\(path): ok")
            return
        }
        do {
            try await Daemon.run(config: loaded, environment: environment)
        } catch let error as DaemonStartError {
            throw error.isConfigError ? CommandStatus.usage(error.description) : CommandStatus.failed(error.description)
        }
    }
}
