import TOMLKit

public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Typed reads from a TOML table with messages that name the key and the wanted type
/// (TOMLKit's own decoder reports a wrong type as a missing key).
public struct ConfigReader: Sendable {
    public let file: String

    public init(file: String) {
        self.file = file
    }

    public func rejectUnknown(_ table: TOMLTable, allowed: Set<String>, in prefix: String) throws(ConfigError) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            throw ConfigError("\(file): unknown key \(prefix)\(key); known keys: \(allowed.sorted().map { prefix + $0 }.joined(separator: ", "))")
        }
    }

    public func string(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else {
            throw ConfigError("\(file): \(prefix)\(key) must be a string, not \(Self.typeName(value))")
        }
        return string
    }

    public func integer(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else {
            throw ConfigError("\(file): \(prefix)\(key) must be an integer, not \(Self.typeName(value))")
        }
        return number
    }

    public func bool(_ table: TOMLTable, _ key: String, in prefix: String = "") throws(ConfigError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else {
            throw ConfigError("\(file): \(prefix)\(key) must be true or false, not \(Self.typeName(value))")
        }
        return flag
    }

    public static func typeName(_ value: TOMLValueConvertible) -> String {
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
