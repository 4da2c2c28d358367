import TOMLKit

package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Typed reads from a TOML table with messages that name the key and the wanted type
/// (TOMLKit's own decoder reports a wrong type as a missing key).
package struct ConfigReader: Sendable {
    package let file: String

    package init(file: String) {
        self.file = file
    }

    package func rejectUnknown(_ table: TOMLTable, allowed: Set<String>, in prefix: String) throws(ConfigError) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            throw ConfigError("\(file): unknown key \(prefix)\(key); known keys: \(allowed.sorted().map { prefix + $0 }.joined(separator: ", "))")
        }
    }

    package func string(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else {
            throw ConfigError("\(file): \(prefix)\(key) must be a string, not \(Self.typeName(value))")
        }
        return string
    }

    package func integer(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else {
            throw ConfigError("\(file): \(prefix)\(key) must be an integer, not \(Self.typeName(value))")
        }
        return number
    }

    package func bool(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else {
            throw ConfigError("\(file): \(prefix)\(key) must be true or false, not \(Self.typeName(value))")
        }
        return flag
    }

    package static func typeName(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        case .table: "a table"
        default: "a date or time"
        }
    }
}
