import Testing

@testable import AccordCore

struct HostileInput: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let line: Int
    let column: Int
    let reason: String

    init(_ name: String, _ text: String, _ line: Int, _ column: Int, _ reason: String) {
        self.init(name, Array(text.utf8), line, column, reason)
    }

    init(_ name: String, _ bytes: [UInt8], _ line: Int, _ column: Int, _ reason: String) {
        self.name = name
        self.bytes = bytes
        self.line = line
        self.column = column
        self.reason = reason
    }

    var testDescription: String { name }
}

let hostileInputs: [HostileInput] = [
    HostileInput("empty input", "", 1, 1, "unexpected end of input"),
    HostileInput("only whitespace", "  \n ", 2, 2, "unexpected end of input"),
    HostileInput("trailing comma in object", "{\"a\": 1,}", 1, 9, "trailing comma before '}'"),
    HostileInput("trailing comma in array", "[1, 2,]", 1, 7, "trailing comma before ']'"),
    HostileInput("duplicate key", "{\"a\": 1,\n \"a\": 2}", 2, 2, "duplicate key \"a\""),
    HostileInput(
        "duplicate key in a large object",
        "{" + (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ",") + ",\"k7\": 0}", 1, 382, "duplicate key \"k7\""),
    HostileInput("NaN", "{\"a\": NaN}", 1, 7, "NaN is not valid JSON"),
    HostileInput("Infinity", "[Infinity]", 1, 2, "Infinity is not valid JSON"),
    HostileInput("negative Infinity", "[-Infinity]", 1, 2, "Infinity is not valid JSON"),
    HostileInput("invalid UTF-8 in a string", [0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D], 1, 4, "invalid UTF-8 byte 0xFF"),
    HostileInput("overlong UTF-8 encoding", [0x22, 0xC0, 0xAF, 0x22], 1, 2, "invalid UTF-8 byte 0xC0"),
    HostileInput("UTF-8 surrogate code point", [0x22, 0xED, 0xA0, 0x80, 0x22], 1, 2, "invalid UTF-8 byte 0xED"),
    HostileInput("truncated UTF-8 sequence", [0x22, 0xE2, 0x82, 0x22], 1, 2, "invalid UTF-8 byte 0xE2"),
    HostileInput("invalid UTF-8 outside strings", [0x7B, 0xFE, 0x7D], 1, 2, "invalid UTF-8 byte 0xFE"),
    HostileInput("byte order mark", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], 1, 1, "byte order mark"),
    HostileInput("single quotes", "{'a': 1}", 1, 2, "expected a key in double quotes"),
    HostileInput("single-quoted value", "['a']", 1, 2, "single quotes are not valid JSON"),
    HostileInput("line comment", "// note\n{}", 1, 1, "comments are not allowed"),
    HostileInput("unterminated string", "[\"abc", 1, 2, "unterminated string"),
    HostileInput("raw newline in a string", "[\"a\nb\"]", 1, 4, "control character U+000A"),
    HostileInput("raw tab in a string", "[\"a\tb\"]", 1, 4, "control character U+0009"),
    HostileInput("invalid escape", "[\"a\\x\"]", 1, 4, "invalid escape \\x"),
    HostileInput("short unicode escape", "[\"\\u12\"]", 1, 3, "four hex digits"),
    HostileInput("lone high surrogate", "[\"\\uD800\"]", 1, 3, "lone surrogate \\uD800"),
    HostileInput("lone low surrogate", "[\"\\uDC00x\"]", 1, 3, "lone surrogate \\uDC00"),
    HostileInput("high surrogate followed by non-surrogate", "[\"\\uD800\\u0041\"]", 1, 3, "lone surrogate"),
    HostileInput("leading zero", "[012]", 1, 2, "leading zeros"),
    HostileInput("bare minus", "[-]", 1, 3, "expected a digit"),
    HostileInput("dot without digits", "[1.]", 1, 4, "digits after the decimal point"),
    HostileInput("exponent without digits", "[1e+]", 1, 5, "digits in its exponent"),
    HostileInput("plus sign", "[+1]", 1, 2, "expected a value"),
    HostileInput("hex number", "[0x10]", 1, 3, "expected ',' or ']'"),
    HostileInput("missing colon", "{\"a\" 1}", 1, 6, "expected ':'"),
    HostileInput("missing comma", "{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}'"),
    HostileInput("unquoted key", "{a: 1}", 1, 2, "expected a key in double quotes"),
    HostileInput("true misspelled", "[tru]", 1, 2, "invalid literal; expected true"),
    HostileInput("literal cut short", "nul", 1, 1, "unexpected end of input in a literal; expected null"),
    HostileInput("escape before a non-ASCII letter", "[\"a\\é\"]", 1, 4, "invalid escape \\é"),
    HostileInput("escape before a raw line break", "[\"a\\\n\"]", 1, 4, "invalid escape \\ followed by U+000A"),
    HostileInput("NFC and NFD spellings of one key", "{\"\u{E9}\": 1, \"e\u{301}\": 2}", 1, 10, "differ only in Unicode normalization"),
    HostileInput("two values", "{} {}", 1, 4, "after the end of the JSON value"),
    HostileInput("unclosed object", "{\"a\": 1", 1, 8, "unexpected end of input inside an object"),
    HostileInput("unclosed array", "[1, 2", 1, 6, "unexpected end of input inside an array"),
    HostileInput("NUL byte", [0x5B, 0x00, 0x5D], 1, 2, "control character U+0000"),
    HostileInput("column counts characters not bytes", "[\"é\", x]", 1, 7, "expected a value"),
    HostileInput("deep arrays", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), 1, 129, "nesting deeper than 128 levels"),
    HostileInput(
        "deep objects", String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000), 1, 641, "nesting deeper than 128 levels"),
]

@Suite("JSON parser")
struct JSONParserTests {
    @Test("rejects hostile input with a located reason", arguments: hostileInputs)
    func rejects(_ input: HostileInput) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input.bytes) }
        do {
            _ = try JSONParser.parse(input.bytes)
        } catch {
            #expect(error.line == input.line, "\(error)")
            #expect(error.column == input.column, "\(error)")
            #expect(error.reason.contains(input.reason), "\(error)")
        }
    }

    @Test func keepsKeyOrderAndNumberLiterals() throws {
        let value = try JSONParser.parse(#"{"z": 1.50, "a": [1e3, -0, 2], "m": {"y": null, "b": true}}"#)
        let root = try #require(value.objectValue)
        #expect(root.keys == ["z", "a", "m"])
        #expect(root["z"] == .number(JSONNumber(literal: "1.50")))
        #expect(root["z"]?.numberValue?.literal == "1.50")
        #expect(root["m"]?.objectValue?.keys == ["y", "b"])
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#"["a\"b\\c\/d\n\t\u00e9\uD83D\uDE00"]"#)
        #expect(value == .array([.string("a\"b\\c/d\n\té😀")]))
    }

    @Test func acceptsTheNestingLimitExactly() throws {
        let text = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        _ = try JSONParser.parse(text)
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(tooDeep) }
    }

    @Test func rejectsInputOverTheByteLimit() {
        let text = "[\"" + String(repeating: "x", count: 100) + "\"]"
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text, options: .init(maxBytes: 50)) }
        #expect((try? JSONParser.parse(text, options: .init(maxBytes: 200))) != nil)
    }

    @Test func numbersCompareByValue() {
        #expect(JSONNumber(literal: "1") == JSONNumber(literal: "1.0"))
        #expect(JSONNumber(literal: "100") == JSONNumber(literal: "1e2"))
        #expect(JSONNumber(literal: "-0") == JSONNumber(literal: "0"))
        #expect(JSONNumber(literal: "1") != JSONNumber(literal: "2"))
        #expect(Set([JSONNumber(literal: "1"), JSONNumber(literal: "1.0")]).count == 1)
        #expect(JSONNumber(literal: "2.0").isInteger)
        #expect(!JSONNumber(literal: "2.5").isInteger)
        // Integers past a Double's precision compare by their digits.
        #expect(JSONNumber(literal: "9007199254740993") != JSONNumber(literal: "9007199254740992"))
    }

    @Test func objectEqualityIgnoresKeyOrder() {
        #expect(object(#"{"a": 1, "b": 2}"#) == object(#"{"b": 2, "a": 1}"#))
        #expect(object(#"{"a": 1}"#) != object(#"{"a": 1, "b": 2}"#))
    }

    @Test func randomBytesNeverCrash() {
        var rng = SeededRandom(seed: 7)
        let alphabet = Array("{}[]\",:0123456789-+.eEtrufalsn \\u".utf8) + [0xFF, 0xC3, 0xA9, 0x0A]
        for _ in 0..<5_000 {
            let length = Int(rng.next() % 40)
            let bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            // Either parses or throws a located error; never traps.
            if let value = try? JSONParser.parse(bytes) {
                let reparsed = try? JSONParser.parse(JSONWriter.pretty(value))
                #expect(reparsed == value)
            }
        }
    }
}

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func chance(_ percent: Int) -> Bool { int(100) < percent }
}

@Suite("Numbers compare by exact decimal value")
struct JSONNumberEqualityTests {
    @Test(
        "equal spellings",
        arguments: [("1", "1.0"), ("1", "10e-1"), ("0", "-0"), ("0.0", "0e5"), ("-1.50", "-15e-1"), ("1e400", "10e399"), ("123", "1.23e2")])
    func equal(_ a: String, _ b: String) {
        #expect(JSONNumber(literal: a) == JSONNumber(literal: b))
        #expect(JSONNumber(literal: a).hashValue == JSONNumber(literal: b).hashValue)
    }

    @Test(
        "different values, even where a Double cannot tell",
        arguments: [("1e400", "2e400"), ("1.0", "1.00000000000000001"), ("1", "-1"), ("12345678901234567890", "12345678901234567891"), ("1e-400", "0")])
    func different(_ a: String, _ b: String) {
        #expect(JSONNumber(literal: a) != JSONNumber(literal: b))
    }
}
