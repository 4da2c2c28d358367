/// A JSON value that keeps what a person wrote: object keys stay in their order and
/// numbers keep their literal text, so a record read and written back is byte-identical.
package enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    package var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    package var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    package var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    package var numberValue: JSONNumber? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The JSON Schema type name of this value ("integer" is reported as "number";
    /// see `JSONNumber.isInteger` for the finer test).
    package var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// A JSON number kept as the literal the author wrote (`1910000000`, `1.50`, `2e3`).
/// Two numbers are equal when they denote the same value, whatever their spelling.
package struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    package let literal: String

    /// `literal` must already be a valid JSON number; the parser guarantees that.
    package init(literal: String) {
        self.literal = literal
    }

    package init(_ value: Int) {
        self.literal = String(value)
    }

    package init(_ value: Double) {
        if value.rounded() == value, abs(value) < 1e15 {
            self.literal = String(Int64(value))
        } else {
            self.literal = String(value)
        }
    }

    package var doubleValue: Double { Double(literal) ?? .nan }

    /// True for a mathematical integer, including `2.0` and `1e3`, as JSON Schema counts them.
    package var isInteger: Bool {
        if !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return true
        }
        let value = doubleValue
        return value.isFinite && value.rounded() == value
    }

    package var description: String { literal }

    package static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.literal == rhs.literal { return true }
        // Integer literals longer than a Double's precision compare by text only.
        if lhs.isPlainInteger && rhs.isPlainInteger {
            return lhs.normalisedInteger == rhs.normalisedInteger
        }
        return lhs.doubleValue == rhs.doubleValue
    }

    package func hash(into hasher: inout Hasher) {
        // Hash the value, not the spelling; `+ 0` folds -0 into 0.
        hasher.combine(doubleValue + 0)
    }

    private var isPlainInteger: Bool {
        !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
    }

    private var normalisedInteger: String {
        literal == "-0" ? "0" : literal
    }
}
