import AccordConfig
import AccordCore
import AccordFiles
import AccordSync
import TOMLKit

/// The daemon's configuration, CONTRACT section 6, with its defaults.
package struct DaemonConfig: Sendable, Equatable {
    package var file: String
    package var root = "/var/lib/accord/records"
    /// The hub's base URLs, tried in order when one cannot be reached (several hubs
    /// on one PostgreSQL database, CONTRACT 8.5); `remote = "…"` gives one.
    package var remotes = ["http://127.0.0.1:8480"]
    /// The first of `remotes`: the hub this daemon prefers.
    package var remote: String {
        get { remotes[0] }
        set { remotes = [newValue] }
    }
    /// The hub's dataset this root syncs with (CONTRACT 8.1); one root, one dataset.
    package var dataset = DatasetName.defaultName
    package var tokenFile = ""
    package var schemas = "/etc/accord/schemas"
    package var state = "/var/lib/accord/state.db"
    package var debounceMilliseconds = 5
    package var rescanIntervalSeconds = 3600
    package var conflictPolicy = ConflictPolicy.merge
    package var maxRecordBytes = 1_048_576
    package var maxDeletePercent = 50
    package var ignore: [String] = []
    package var retryBaseDelayMilliseconds = 100
    package var retryMaxDelayMilliseconds = 30_000
    package var controlSocket = "/run/accord/control.sock"
    package var tlsCAFile = ""
    package var tlsClientCertificate = ""
    package var tlsClientKey = ""
    package var metricsListen = ""
    package var logLevel = "info"
    package var logFormat = "text"
    /// `file_mode`/`dir_mode` (CONTRACT 8.6); nil when the config does not set them.
    package var fileMode: UInt32?
    package var dirMode: UInt32?

    package static let defaultPath = "/etc/accord/accordd.toml"
    package static let logLevels = ["trace", "debug", "info", "notice", "warning", "error"]

    package init(file: String) {
        self.file = file
    }
}

/// Reads `accordd.toml`: an unknown key, a wrong type or a bad value stops start-up
/// (and a reload) with one line naming the key and the file.
package enum DaemonConfigLoader {
    static let topKeys: Set<String> = [
        "root", "remote", "dataset", "token_file", "schemas", "state", "debounce_ms", "rescan_interval_s", "conflict_policy", "max_record_bytes",
        "max_delete_percent", "ignore", "file_mode", "dir_mode", "retry", "control", "tls", "metrics", "log",
    ]

    package static func load(_ path: String) throws(ConfigError) -> DaemonConfig {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(path, maxBytes: 1 << 20)
        } catch {
            throw ConfigError("\(path): cannot read the config: \(error.reason); pass --config PATH or set ACCORD_CONFIG")
        }
        return try parse(String(decoding: bytes, as: UTF8.self), file: path)
    }

    package static func parse(_ text: String, file: String) throws(ConfigError) -> DaemonConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(file):\(error.source.begin.line):\(error.source.begin.column): invalid TOML: \(error.description)")
        } catch {
            throw ConfigError("\(file): invalid TOML: \(error)")
        }
        let reader = ConfigReader(file: file)
        try reader.rejectUnknown(table, allowed: topKeys, in: "")
        var config = DaemonConfig(file: file)
        if let value = try reader.string(table, "root") { config.root = value }
        if let value = table["remote"] {
            if let url = value.string {
                config.remotes = [url]
            } else if let array = value.array, !array.isEmpty, array.allSatisfy({ $0.string != nil }) {
                config.remotes = array.compactMap(\.string)
            } else {
                throw ConfigError("\(file): remote must be a URL or a non-empty array of URLs (tried in order), not \(ConfigReader.typeName(value))")
            }
        }
        if let value = try reader.string(table, "dataset") { config.dataset = value }
        if let value = try reader.string(table, "token_file") { config.tokenFile = value }
        if let value = try reader.string(table, "schemas") { config.schemas = value }
        if let value = try reader.string(table, "state") { config.state = value }
        if let value = try reader.integer(table, "debounce_ms") { config.debounceMilliseconds = value }
        if let value = try reader.integer(table, "rescan_interval_s") { config.rescanIntervalSeconds = value }
        if let value = try reader.string(table, "conflict_policy") {
            guard let policy = ConflictPolicy(rawValue: value) else {
                throw ConfigError(
                    "\(file): conflict_policy \"\(value)\" is not one of \(ConflictPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            config.conflictPolicy = policy
        }
        if let value = try reader.integer(table, "max_record_bytes") { config.maxRecordBytes = value }
        if let value = try reader.integer(table, "max_delete_percent") { config.maxDeletePercent = value }
        for (name, isFile) in [("file_mode", true), ("dir_mode", false)] {
            guard let text = try reader.string(table, name) else { continue }
            guard let mode = FileModes.parse(text), isFile ? mode <= 0o777 : true else {
                throw ConfigError(
                    "\(file): \(name) \"\(text)\" is not an octal mode like \(isFile ? "\"0664\" (a file takes permission bits only)" : "\"2775\"")")
            }
            if isFile { config.fileMode = mode } else { config.dirMode = mode }
        }
        if let value = table["ignore"] {
            guard let array = value.array else { throw ConfigError("\(file): ignore must be an array of strings, not \(ConfigReader.typeName(value))") }
            config.ignore = []
            for item in array {
                guard let glob = item.string else {
                    throw ConfigError("\(file): ignore must be an array of strings; found \(ConfigReader.typeName(item))")
                }
                config.ignore.append(glob)
            }
        }
        if let retry = try section(table, "retry", reader) {
            try reader.rejectUnknown(retry, allowed: ["base_delay_ms", "max_delay_ms"], in: "retry.")
            if let value = try reader.integer(retry, "base_delay_ms", in: "retry.") { config.retryBaseDelayMilliseconds = value }
            if let value = try reader.integer(retry, "max_delay_ms", in: "retry.") { config.retryMaxDelayMilliseconds = value }
        }
        if let control = try section(table, "control", reader) {
            try reader.rejectUnknown(control, allowed: ["socket"], in: "control.")
            if let value = try reader.string(control, "socket", in: "control.") { config.controlSocket = value }
        }
        if let tls = try section(table, "tls", reader) {
            try reader.rejectUnknown(tls, allowed: ["ca_file", "client_cert", "client_key"], in: "tls.")
            if let value = try reader.string(tls, "ca_file", in: "tls.") { config.tlsCAFile = value }
            if let value = try reader.string(tls, "client_cert", in: "tls.") { config.tlsClientCertificate = value }
            if let value = try reader.string(tls, "client_key", in: "tls.") { config.tlsClientKey = value }
        }
        if let metrics = try section(table, "metrics", reader) {
            try reader.rejectUnknown(metrics, allowed: ["listen"], in: "metrics.")
            if let value = try reader.string(metrics, "listen", in: "metrics.") { config.metricsListen = value }
        }
        if let log = try section(table, "log", reader) {
            try reader.rejectUnknown(log, allowed: ["level", "format"], in: "log.")
            if let value = try reader.string(log, "level", in: "log.") { config.logLevel = value }
            if let value = try reader.string(log, "format", in: "log.") { config.logFormat = value }
        }
        try validate(config)
        return config
    }

    private static func section(_ table: TOMLTable, _ key: String, _ reader: ConfigReader) throws(ConfigError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let inner = value.table else { throw ConfigError("\(reader.file): [\(key)] must be a table, not \(ConfigReader.typeName(value))") }
        return inner
    }

    private static func validate(_ config: DaemonConfig) throws(ConfigError) {
        let file = config.file
        func require(_ ok: Bool, _ message: String) throws(ConfigError) {
            if !ok { throw ConfigError("\(file): \(message)") }
        }
        try require(!config.root.isEmpty, "root must name the folder to sync")
        for remote in config.remotes {
            try require(remote.hasPrefix("http://") || remote.hasPrefix("https://"), "remote must be an http:// or https:// URL, not \"\(remote)\"")
        }
        try require(
            DatasetName.isValid(config.dataset), "dataset \"\(config.dataset)\" must match \(DatasetName.pattern) (lower-case letters, digits, - and _)")
        try require(!config.state.isEmpty, "state must name the state database file")
        try require((0...60_000).contains(config.debounceMilliseconds), "debounce_ms must be between 0 and 60000, not \(config.debounceMilliseconds)")
        try require(config.rescanIntervalSeconds >= 1, "rescan_interval_s must be at least 1, not \(config.rescanIntervalSeconds)")
        try require(config.maxRecordBytes >= 64, "max_record_bytes must be at least 64, not \(config.maxRecordBytes)")
        try require((0...100).contains(config.maxDeletePercent), "max_delete_percent must be between 0 and 100, not \(config.maxDeletePercent)")
        try require(config.retryBaseDelayMilliseconds >= 1, "retry.base_delay_ms must be at least 1, not \(config.retryBaseDelayMilliseconds)")
        try require(
            config.retryMaxDelayMilliseconds >= config.retryBaseDelayMilliseconds,
            "retry.max_delay_ms must be at least retry.base_delay_ms (\(config.retryBaseDelayMilliseconds)), not \(config.retryMaxDelayMilliseconds)")
        try require(!config.controlSocket.isEmpty, "control.socket must name the control socket's path")
        try require(
            DaemonConfig.logLevels.contains(config.logLevel), "log.level \"\(config.logLevel)\" is not one of \(DaemonConfig.logLevels.joined(separator: ", "))"
        )
        try require(["text", "json"].contains(config.logFormat), "log.format \"\(config.logFormat)\" is not text or json")
        try require(
            config.tlsClientCertificate.isEmpty == config.tlsClientKey.isEmpty, "tls.client_cert and tls.client_key must be given together")
        for glob in config.ignore { try require(!glob.isEmpty, "ignore holds an empty glob") }
    }
}
