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
        try reader.rejectUnknown(table, allowed: ["listen", "db", "schemas", "max_body_bytes", "tokens"], in: "")
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
                try reader.rejectUnknown(entry, allowed: ["name", "sha256", "access"], in: "\(place).")
                guard let name = try reader.string(entry, "name", in: "\(place).") else { throw ConfigError("\(file): \(place).name is missing") }
                guard let digest = try reader.string(entry, "sha256", in: "\(place).") else {
                    throw ConfigError("\(file): \(place).sha256 is missing; put the hex SHA-256 of the token there (accordhub hash-token)")
                }
                guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                    throw ConfigError("\(file): \(place).sha256 must be 64 hex digits (the SHA-256 of the token, never the token itself)")
                }
                let accessText = try reader.string(entry, "access", in: "\(place).") ?? "rw"
                guard let access = TokenTable.Access(rawValue: accessText) else {
                    throw ConfigError("\(file): \(place).access = \"\(accessText)\" must be \"rw\" or \"ro\"")
                }
                config.tokens.append(TokenTable.Entry(name: name, sha256: digest, access: access))
            }
        }
        return config
    }
}
