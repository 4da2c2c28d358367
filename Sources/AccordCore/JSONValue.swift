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

    /// Equal when they denote the same decimal value exactly: `1`, `1.0` and `10e-1`
    /// are one value, `1.0` and `1.00000000000000001` two, whatever a Double can hold.
    package static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        lhs.literal == rhs.literal || lhs.decimal == rhs.decimal
    }

    package func hash(into hasher: inout Hasher) {
        let value = decimal
        hasher.combine(value.negative)
        hasher.combine(value.digits)
        hasher.combine(value.exponent)
    }

    /// The value as sign, significant digits (no leading or trailing zeros) and a power
    /// of ten; zero is `("", 0)` and never negative.
    private var decimal: (negative: Bool, digits: String, exponent: Int) {
        var bytes = Substring(literal).utf8[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        var digits: [UInt8] = []
        var fractionDigits = 0
        var inFraction = false
        var exponent = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                var sign = 1
                if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") {
                    if bytes.first == UInt8(ascii: "-") { sign = -1 }
                    bytes = bytes.dropFirst()
                }
                for digit in bytes { exponent = min(exponent * 10 + Int(digit - UInt8(ascii: "0")), Int.max / 20) }
                exponent *= sign
                break
            } else {
                digits.append(byte)
                if inFraction { fractionDigits += 1 }
            }
        }
        exponent -= fractionDigits
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        if significant.isEmpty { return (false, "", 0) }
        return (negative, String(decoding: significant, as: UTF8.self), exponent)
    }
}
