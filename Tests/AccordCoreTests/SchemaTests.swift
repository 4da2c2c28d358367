import Testing

@testable import AccordCore

/// The built-in schemas, read from the repository so the tests check what ships.
func builtInSchemas() throws -> SchemaSet {
    let folder = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
    var set = SchemaSet(origin: "config/schemas")
    for kind in ["agreement", "news"] {
        let path = "/\(folder)/config/schemas/\(kind).schema.json"
        let bytes = try readFile(path)
        try set.add(kind: kind, fileName: path, bytes: bytes)
    }
    return set
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw SchemaError(location: path, reason: "cannot open") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}

#if canImport(Glibc)
    import Glibc
#endif

let validAgreement = #"""
    {"kind": "agreement", "id": "us-japan-hns-fy2021", "title": "Host Nation Support FY2021 extension",
     "parties": ["United States", "Japan"], "status": "extended",
     "value": {"amount": 1910000000, "currency": "USD"}, "fiscal_year": 2021,
     "signed": "2021-02-17", "effective": "2021-04-01", "expires": "2022-03-31",
     "covers": ["utilities", "labor", "training"], "sources": ["news/x"], "notes": "n",
     "updated": "2021-01-28T12:00:00Z", "unknown_extra": {"kept": true}}
    """#

let validNews = #"""
    {"kind": "news", "id": "stripes-1", "headline": "Talks make headway", "published": "2021-01-28T09:30:00+09:00",
     "source": "Stars and Stripes", "byline": ["Seth Robson"], "dateline": "TOKYO", "url": "https://example.org/a",
     "summary": "s", "body": "a\nb", "related": ["agreement/x"], "tags": ["japan"],
     "image": {"caption": "C-130J", "credit": "U.S. Air Force"}}
    """#

struct SchemaCase: CustomTestStringConvertible, Sendable {
    let name: String
    let base: String
    let change: [String: String]
    let expected: [String]
    var testDescription: String { name }
}

let schemaCases: [SchemaCase] = [
    SchemaCase(name: "agreement without title", base: validAgreement, change: ["title": "-"], expected: ["/title: required field is missing"]),
    SchemaCase(name: "one party only", base: validAgreement, change: ["parties": #"["Japan"]"#], expected: ["/parties: must have at least 2 items, has 1"]),
    SchemaCase(
        name: "party not a string", base: validAgreement, change: ["parties": #"["Japan", 7]"#], expected: ["/parties/1: must be a string, not an integer"]),
    SchemaCase(
        name: "unknown status", base: validAgreement, change: ["status": #""pending""#],
        expected: [#"/status: "pending" is not one of: proposed, negotiating, agreed, signed, in_force, extended, expired, terminated"#]),
    SchemaCase(
        name: "negative amount", base: validAgreement, change: ["value": #"{"amount": -1, "currency": "USD"}"#], expected: ["/value/amount: must be >= 0"]),
    SchemaCase(
        name: "amount as string", base: validAgreement, change: ["value": #"{"amount": "1.9bn"}"#], expected: ["/value/amount: must be a number, not a string"]),
    SchemaCase(
        name: "lowercase currency", base: validAgreement, change: ["value": #"{"amount": 1, "currency": "usd"}"#],
        expected: [#"/value/currency: "usd" does not match ^[A-Z]{3}$"#]),
    SchemaCase(
        name: "four-letter currency", base: validAgreement, change: ["value": #"{"amount": 1, "currency": "USDX"}"#],
        expected: [#"/value/currency: "USDX" does not match ^[A-Z]{3}$"#]),
    SchemaCase(
        name: "fractional fiscal year", base: validAgreement, change: ["fiscal_year": "2021.5"], expected: ["/fiscal_year: must be an integer, not a number"]),
    SchemaCase(name: "fiscal year 2021.0 is an integer", base: validAgreement, change: ["fiscal_year": "2021.0"], expected: []),
    SchemaCase(
        name: "February 30th", base: validAgreement, change: ["expires": #""2021-02-30""#],
        expected: [#"/expires: "2021-02-30" is not a valid date (YYYY-MM-DD)"#]),
    SchemaCase(name: "February 29th in a leap year", base: validAgreement, change: ["expires": #""2024-02-29""#], expected: []),
    SchemaCase(
        name: "February 29th in 1900", base: validAgreement, change: ["expires": #""1900-02-29""#],
        expected: [#"/expires: "1900-02-29" is not a valid date (YYYY-MM-DD)"#]),
    SchemaCase(
        name: "month 13", base: validAgreement, change: ["signed": #""2021-13-01""#], expected: [#"/signed: "2021-13-01" is not a valid date (YYYY-MM-DD)"#]),
    SchemaCase(
        name: "date with a time", base: validAgreement, change: ["signed": #""2021-01-01T00:00:00Z""#],
        expected: [#"/signed: "2021-01-01T00:00:00Z" is not a valid date (YYYY-MM-DD)"#]),
    SchemaCase(
        name: "date-time without zone", base: validAgreement, change: ["updated": #""2021-01-28T12:00:00""#],
        expected: [#"/updated: "2021-01-28T12:00:00" is not a valid date-time (YYYY-MM-DDTHH:MM:SSZ)"#]),
    SchemaCase(
        name: "date-time hour 24", base: validAgreement, change: ["updated": #""2021-01-28T24:00:00Z""#],
        expected: [#"/updated: "2021-01-28T24:00:00Z" is not a valid date-time (YYYY-MM-DDTHH:MM:SSZ)"#]),
    SchemaCase(name: "date-time with fraction and offset", base: validAgreement, change: ["updated": #""2021-01-28T12:00:00.123-05:00""#], expected: []),
    SchemaCase(name: "covers not an array", base: validAgreement, change: ["covers": #""utilities""#], expected: ["/covers: must be an array, not a string"]),
    SchemaCase(name: "title empty", base: validAgreement, change: ["title": #""""#], expected: ["/title: must not be empty"]),
    SchemaCase(
        name: "several problems at once", base: validAgreement, change: ["status": "1", "parties": "[]"],
        expected: [
            "/parties: must have at least 2 items, has 0",
            "/status: 1 is not one of: proposed, negotiating, agreed, signed, in_force, extended, expired, terminated",
        ]),
    SchemaCase(name: "news published as a date", base: validNews, change: ["published": #""2021-01-28""#], expected: []),
    SchemaCase(
        name: "news published nonsense", base: validNews, change: ["published": #""last Thursday""#],
        expected: [
            #"/published: matches none of the allowed forms ("last Thursday" is not a valid date (YYYY-MM-DD); "last Thursday" is not a valid date-time (YYYY-MM-DDTHH:MM:SSZ))"#
        ]),
    SchemaCase(name: "news without source", base: validNews, change: ["source": "-"], expected: ["/source: required field is missing"]),
    SchemaCase(
        name: "news image credit a number", base: validNews, change: ["image": #"{"credit": 3}"#], expected: ["/image/credit: must be a string, not an integer"]
    ),
    SchemaCase(name: "news tags of objects", base: validNews, change: ["tags": #"[{}]"#], expected: ["/tags/0: must be a string, not an object"]),
    SchemaCase(name: "news with an extra field", base: validNews, change: ["mood": #""upbeat""#], expected: []),
]

@Suite("Schemas")
struct SchemaTests {
    @Test func validRecordsPass() throws {
        let schemas = try builtInSchemas()
        #expect(schemas.validate(try Record(object: object(validAgreement))).isEmpty)
        #expect(schemas.validate(try Record(object: object(validNews))).isEmpty)
    }

    @Test("violations are reported with JSON paths", arguments: schemaCases)
    func violations(_ testCase: SchemaCase) throws {
        var record = object(testCase.base)
        for (key, value) in testCase.change {
            record[key] = value == "-" ? nil : try JSONParser.parse(value)
        }
        let found = try builtInSchemas().validate(try Record(object: record)).map(\.description).sorted()
        #expect(found == testCase.expected.sorted())
    }

    @Test func unknownKindIsInvalid() throws {
        let record = try Record(object: object(#"{"kind": "treaty", "id": "a"}"#))
        let found = try builtInSchemas().validate(record)
        #expect(found.count == 1)
        #expect(found[0].description.contains("no schema for kind \"treaty\""))
    }

    @Test(
        "unsupported schema keywords are refused, not ignored",
        arguments: [
            (#"{"oneOf": []}"#, "/oneOf"),
            (##"{"properties": {"a": {"$ref": "#/x"}}}"##, "/properties/a/$ref"),
            (#"{"format": "email"}"#, "/format"),
            (#"{"pattern": "(?=x)"}"#, "/pattern"),
            (#"{"pattern": "a+?"}"#, "/pattern"),
            (#"{"type": "decimal"}"#, "/type"),
            (#"{"minItems": -1}"#, "/minItems"),
        ])
    func refusesUnsupportedSchemas(_ text: String, _ location: String) {
        #expect(throws: SchemaError.self) { try Schema(try! JSONParser.parse(text)) }
        do {
            _ = try Schema(try JSONParser.parse(text))
        } catch let error as SchemaError {
            #expect(error.location == location, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(
        "patterns translate to POSIX and match like ECMA-262",
        arguments: [
            ("^[A-Z]{3}$", "USD", true), ("^[A-Z]{3}$", "usd", false), ("^[A-Z]{3}$", "USDX", false),
            (#"^\d{4}$"#, "2021", true), (#"^\d{4}$"#, "20x1", false), (#"\w+@\w+"#, "a@b", true),
            (#"^a\.b$"#, "a.b", true), (#"^a\.b$"#, "axb", false), ("ab", "xxabxx", true), (#"^[\w.-]+$"#, "a-b.c_d", true),
            (#"^[\w.-]+$"#, "a b", false), ("^(us|jp)-[0-9]+$", "jp-12", true), ("^(us|jp)-[0-9]+$", "uk-12", false),
        ])
    func patterns(_ pattern: String, _ text: String, _ matches: Bool) throws {
        let compiled = try SchemaPattern(pattern)
        #expect(compiled.matches(text) == matches)
    }

    @Test(
        "a NUL inside the subject is a character, not its end",
        arguments: [
            ("^[A-Z]{3}$", "USD\u{0}é", false), ("^[A-Z]{3}$", "US\u{0}", false),
        ])
    func nulInSubject(_ pattern: String, _ text: String, _ matches: Bool) throws {
        let compiled = try SchemaPattern(pattern)
        #expect(compiled.matches(text) == matches)
    }
}
