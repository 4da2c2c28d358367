#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// Strict because a record that one tool reads differently from another would sync
/// differently: duplicate keys, NaN, trailing commas, comments and invalid UTF-8 are all
/// errors. Nesting is capped so that hostile input gives an error, not a stack overflow.
package struct JSONParser {
    package struct Options: Sendable {
        package var maxDepth: Int
        package var maxBytes: Int?

        package init(maxDepth: Int = 128, maxBytes: Int? = nil) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
        }
    }

    package static func parse(_ bytes: [UInt8], options: Options = Options()) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            try parse(buffer, options: options)
        }
    }

    package static func parse(_ text: String, options: Options = Options()) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }

    package static func parse(_ buffer: UnsafeBufferPointer<UInt8>, options: Options = Options()) throws(JSONParseError) -> JSONValue {
        if let maxBytes = options.maxBytes, buffer.count > maxBytes {
            throw JSONParseError(
                line: 1, column: 1, offset: 0,
                reason: "record is \(buffer.count) bytes, over the limit of \(maxBytes) (max_record_bytes)")
        }
        var cursor = JSONCursor(bytes: buffer, maxDepth: options.maxDepth)
        do throws(Failure) {
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
                throw Failure(offset: 0, reason: "byte order mark at the start; save the file as UTF-8 without a BOM")
            }
            cursor.skipWhitespace()
            let value = try cursor.parseValue(depth: 0)
            cursor.skipWhitespace()
            if cursor.index < buffer.count {
                throw Failure(offset: cursor.index, reason: "unexpected \(cursor.describe(cursor.index)) after the end of the JSON value")
            }
            return value
        } catch {
            throw error.located(in: buffer)
        }
    }
}

/// An error before it has been given a line and column; computing those is deferred
/// to the failure path so that the hot path only tracks a byte offset.
struct Failure: Error {
    var offset: Int
    var reason: String
    var tooDeep = false

    func located(in buffer: UnsafeBufferPointer<UInt8>) -> JSONParseError {
        let (line, column) = TextPosition.lineAndColumn(of: offset, in: buffer)
        var error = JSONParseError(line: line, column: column, offset: offset, reason: reason)
        error.isTooDeep = tooDeep
        return error
    }
}

enum TextPosition {
    /// 1-based line and column; the column counts Unicode scalars, not bytes.
    static func lineAndColumn(of offset: Int, in buffer: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, buffer.count)
        while index < end {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            index += 1
        }
        return (line, column)
    }
}

/// The parser's position in the input; string and number scanning live in
/// `JSONCursor+Strings.swift`.
struct JSONCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func describe(_ at: Int) -> String {
        guard at < bytes.count else { return "end of input" }
        let byte = bytes[at]
        if byte >= 0x21 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return "control character U+\(hex(byte, width: 4))" }
        if UTF8Validation.firstInvalidOffset(in: bytes, from: at, to: min(bytes.count, at + 4)) == at {
            return "invalid UTF-8 byte 0x\(hex(byte, width: 2))"
        }
        return "non-ASCII character"
    }

    mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end of input; expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "N"): throw Failure(offset: index, reason: "NaN is not valid JSON; use null or a number")
        case UInt8(ascii: "I"): throw Failure(offset: index, reason: "Infinity is not valid JSON; use null or a number")
        case UInt8(ascii: "'"): throw Failure(offset: index, reason: "single quotes are not valid JSON; use double quotes")
        case UInt8(ascii: "/"): throw Failure(offset: index, reason: "comments are not allowed in JSON")
        case 0x80...:
            throw Failure(offset: index, reason: "\(describe(index)) outside a string; expected a value")
        default: throw Failure(offset: index, reason: "unexpected \(describe(index)); expected a value")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(Failure) {
        let start = index
        let count = word.utf8CodeUnitCount
        let pointer = word.utf8Start
        for offset in 0..<count {
            guard start + offset < bytes.count else {
                throw Failure(offset: start, reason: "unexpected end of input in a literal; expected \(word)")
            }
            guard bytes[start + offset] == pointer[offset] else {
                throw Failure(offset: start, reason: "invalid literal; expected \(word) (or a quoted string)")
            }
        }
        index = start + count
    }

    mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
        if depth > maxDepth { throw Failure(offset: index, reason: "nesting deeper than \(maxDepth) levels", tooDeep: true) }
        index += 1
        var members: [JSONObject.Member] = []
        var seen: Set<String>? = nil
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(JSONObject())
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end of input inside an object; expected a key") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                if bytes[index] == UInt8(ascii: "}") {
                    throw Failure(offset: index, reason: "trailing comma before '}'")
                }
                throw Failure(offset: index, reason: "unexpected \(describe(index)); expected a key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            // Keys that are the same text in two Unicode spellings (é as one code point or
            // as e + accent) count as duplicates too: they look identical to a person.
            if members.count < 16 {
                if let first = members.first(where: { $0.key == key }) {
                    throw Failure(offset: keyOffset, reason: Self.duplicateKeyReason(first.key, key))
                }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                if let index = seen!.firstIndex(of: key) {
                    throw Failure(offset: keyOffset, reason: Self.duplicateKeyReason(seen![index], key))
                }
                seen!.insert(key)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw Failure(offset: index, reason: "unexpected \(describe(index)); expected ':' after key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            members.append(JSONObject.Member(key: key, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end of input inside an object; expected ',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(JSONObject(members: members))
            }
            throw Failure(offset: index, reason: "unexpected \(describe(index)); expected ',' or '}'")
        }
    }

    static func duplicateKeyReason(_ first: String, _ second: String) -> String {
        let shown = JSONWriter.line(.string(second))
        if first.utf8.elementsEqual(second.utf8) { return "duplicate key \(shown)" }
        return "duplicate key \(shown) (the two spellings differ only in Unicode normalization)"
    }

    mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
        if depth > maxDepth { throw Failure(offset: index, reason: "nesting deeper than \(maxDepth) levels", tooDeep: true) }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                throw Failure(offset: index, reason: "trailing comma before ']'")
            }
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw Failure(offset: index, reason: "unexpected end of input inside an array; expected ',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw Failure(offset: index, reason: "unexpected \(describe(index)); expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(Failure) -> JSONNumber {
        let start = index
        if bytes[index] == UInt8(ascii: "-") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "I") {
                throw Failure(offset: start, reason: "Infinity is not valid JSON; use null or a number")
            }
        }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw Failure(offset: index, reason: "unexpected \(describe(index)); expected a digit")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw Failure(offset: start, reason: "leading zeros are not allowed in numbers")
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw Failure(offset: index, reason: "a number needs digits after the decimal point")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw Failure(offset: index, reason: "a number needs digits in its exponent")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        return JSONNumber(literal: literal)
    }

    @inline(__always) func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }
}

func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
