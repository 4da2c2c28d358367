import AccordConfig
import AccordCore
import TOMLKit

/// The hub's configuration (CONTRACT section 3): TOML, with flags overriding it.
package struct HubConfig: Sendable {
    package var listen = ListenAddress(host: "127.0.0.1", port: 8480)
    /// A SQLite path, or (later) a postgres:// URL.
    package var db = "/var/lib/accord/hub.db"
    package var schemas = "/etc/accord/schemas"
    package var maxBodyBytes = 1_048_576
    package var tokens: [TokenTable.Entry] = []
    /// `[[datasets]]`: the named datasets besides `default` (which always exists).
    package var datasets: [DatasetConfig] = []
    /// Serve with no tokens (loopback only, CONTRACT 8.4); `--open` sets it too.
    package var open = false
    package var limits = HubLimits()
    /// `[tls]`: serve HTTPS (HTTP/2 by ALPN, and HTTP/1.1) when both files are given.
    package var tls: HubTLSFiles?
    /// `[log]`: level (syslog's names) and format (text with journald priorities, or json).
    package var logLevel = "info"
    package var logFormat = "text"

    package init() {}

    /// Reads a TOML file's text. Unknown keys and wrong types are errors naming the key.
    package static func parse(_ text: String, file: String) throws(ConfigError) -> HubConfig {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("\(file):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        } catch {
            throw ConfigError("\(file): cannot parse TOML: \(error)")
        }
        var config = HubConfig()
        let reader = ConfigReader(file: file)
        try reader.rejectUnknown(
            table,
            allowed: [
                "listen", "db", "schemas", "max_body_bytes", "tokens", "open", "idle_timeout_s", "max_connections", "max_long_polls", "max_queued_writes",
                "tls", "log", "datasets",
            ],
            in: "")
        if let open = try reader.bool(table, "open") { config.open = open }
        for (key, path) in [
            ("idle_timeout_s", \HubLimits.idleTimeoutSeconds), ("max_connections", \HubLimits.maxConnections),
            ("max_long_polls", \HubLimits.maxLongPolls), ("max_queued_writes", \HubLimits.maxQueuedWrites),
        ] {
            if let value = try reader.integer(table, key) {
                guard value > 0 else { throw ConfigError("\(file): \(key) = \(value) must be positive") }
                config.limits[keyPath: path] = value
            }
        }
        if let tls = table["tls"] {
            guard let section = tls.table else { throw ConfigError("\(file): tls must be a table ([tls]), not \(ConfigReader.typeName(tls))") }
            try reader.rejectUnknown(section, allowed: ["cert_file", "key_file", "client_ca_file"], in: "tls.")
            guard let cert = try reader.string(section, "cert_file", in: "tls."), let key = try reader.string(section, "key_file", in: "tls.") else {
                throw ConfigError("\(file): [tls] needs both cert_file and key_file (PEM files)")
            }
            config.tls = HubTLSFiles(certificate: cert, key: key, clientCA: try reader.string(section, "client_ca_file", in: "tls."))
        }
        if let log = table["log"] {
            guard let section = log.table else { throw ConfigError("\(file): log must be a table ([log]), not \(ConfigReader.typeName(log))") }
            try reader.rejectUnknown(section, allowed: ["level", "format"], in: "log.")
            if let level = try reader.string(section, "level", in: "log.") {
                guard ["trace", "debug", "info", "notice", "warning", "error"].contains(level) else {
                    throw ConfigError("\(file): log.level = \"\(level)\" is not one of trace, debug, info, notice, warning, error")
                }
                config.logLevel = level
            }
            if let format = try reader.string(section, "format", in: "log.") {
                guard format == "text" || format == "json" else { throw ConfigError("\(file): log.format = \"\(format)\" is not text or json") }
                config.logFormat = format
            }
        }
        if let text = try reader.string(table, "listen") {
            guard let address = ListenAddress(text) else {
                throw ConfigError("\(file): listen = \"\(text)\" is not HOST:PORT (for example \"127.0.0.1:8480\")")
            }
            config.listen = address
        }
        if let db = try reader.string(table, "db") { config.db = db }
        if let schemas = try reader.string(table, "schemas") { config.schemas = schemas }
        if let limit = try reader.integer(table, "max_body_bytes") {
            guard limit > 0 else { throw ConfigError("\(file): max_body_bytes must be positive") }
            config.maxBodyBytes = limit
        }
        if let tokens = table["tokens"] {
            guard let array = tokens.array else {
                throw ConfigError("\(file): tokens must be an array of tables ([[tokens]]), not \(ConfigReader.typeName(tokens))")
            }
            for (index, element) in array.enumerated() {
                let place = "tokens[\(index)]"
                guard let entry = element.table else { throw ConfigError("\(file): \(place) must be a table") }
                try reader.rejectUnknown(entry, allowed: ["name", "sha256", "access", "datasets"], in: "\(place).")
                guard let name = try reader.string(entry, "name", in: "\(place).") else { throw ConfigError("\(file): \(place).name is missing") }
                // The name is each revision's author: it must say who.
                guard !name.isEmpty else { throw ConfigError("\(file): \(place).name is empty; name the person or machine the token is for") }
                guard let digest = try reader.string(entry, "sha256", in: "\(place).") else {
                    throw ConfigError("\(file): \(place).sha256 is missing; put the hex SHA-256 of the token there (accordhub hash-token)")
                }
                guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                    throw ConfigError("\(file): \(place).sha256 must be 64 hex digits (the SHA-256 of the token, never the token itself)")
                }
                config.tokens.append(TokenTable.Entry(name: name, sha256: digest, grant: try grant(entry, place: place, reader: reader, file: file)))
            }
        }
        if let datasets = table["datasets"] {
            guard let array = datasets.array else {
                throw ConfigError("\(file): datasets must be an array of tables ([[datasets]]), not \(ConfigReader.typeName(datasets))")
            }
            for (index, element) in array.enumerated() {
                let place = "datasets[\(index)]"
                guard let entry = element.table else { throw ConfigError("\(file): \(place) must be a table") }
                try reader.rejectUnknown(entry, allowed: ["name", "schemas"], in: "\(place).")
                guard let name = try reader.string(entry, "name", in: "\(place).") else { throw ConfigError("\(file): \(place).name is missing") }
                guard DatasetName.isValid(name) else {
                    throw ConfigError("\(file): \(place).name = \"\(name)\" must match \(DatasetName.pattern) (lower-case letters, digits, - and _)")
                }
                guard !config.datasets.contains(where: { $0.name == name }) else {
                    throw ConfigError("\(file): \(place).name = \"\(name)\" is declared twice; give each dataset one [[datasets]] entry")
                }
                config.datasets.append(DatasetConfig(name: name, schemas: try reader.string(entry, "schemas", in: "\(place).")))
            }
        }
        // A grant of a dataset that is not declared is a typo that would hide data.
        let known = Set(config.datasetNames)
        for (index, token) in config.tokens.enumerated() {
            guard case .only(let grants) = token.grant else { continue }
            if let unknown = grants.keys.sorted().first(where: { !known.contains($0) }) {
                throw ConfigError(
                    "\(file): tokens[\(index)].datasets names \"\(unknown)\", which is not a dataset of this hub; declare it with [[datasets]] name = \"\(unknown)\""
                )
            }
        }
        return config
    }

    /// Every dataset the hub serves: `default` first, then the declared ones.
    package var datasetNames: [String] {
        [DatasetConfig.defaultName] + datasets.map(\.name).filter { $0 != DatasetConfig.defaultName }
    }

    /// A token's `access = "rw"|"ro"` (every dataset) or `datasets = { name = "rw"|"ro" }`.
    private static func grant(_ entry: TOMLTable, place: String, reader: ConfigReader, file: String) throws(ConfigError) -> TokenTable.Grant {
        func access(_ text: String, _ key: String) throws(ConfigError) -> TokenTable.Access {
            guard let access = TokenTable.Access(rawValue: text) else {
                throw ConfigError("\(file): \(place).\(key) = \"\(text)\" must be \"rw\" or \"ro\"")
            }
            return access
        }
        let accessText = try reader.string(entry, "access", in: "\(place).")
        guard let datasets = entry["datasets"] else { return .every(try access(accessText ?? "rw", "access")) }
        guard accessText == nil else {
            throw ConfigError("\(file): \(place) has both access and datasets; use access for every dataset or datasets = { name = \"rw\" } for some")
        }
        guard let table = datasets.table else {
            throw ConfigError("\(file): \(place).datasets must be a table like { hns = \"rw\", press = \"ro\" }, not \(ConfigReader.typeName(datasets))")
        }
        var grants: [String: TokenTable.Access] = [:]
        for key in table.keys.sorted() {
            guard let text = table[key]?.string else {
                throw ConfigError("\(file): \(place).datasets.\(key) must be \"rw\" or \"ro\"")
            }
            grants[key] = try access(text, "datasets.\(key)")
        }
        return .only(grants)
    }
}
