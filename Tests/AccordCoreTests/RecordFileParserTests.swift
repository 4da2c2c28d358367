import Testing

@testable import AccordCore

@Suite("Record files")
struct RecordFileParserTests {
    @Test func parsesJSONLLinesWithTheirNumbers() {
        let text = """
            {"kind": "news", "id": "a"}

            {"kind": "news", "id": "b"}\r
            {"kind": "news", "id": "c", "x": [1,}
            {"kind": "news"}
            """
        let parsed = RecordFileParser.parse(path: "d.jsonl", bytes: Array(text.utf8), format: .jsonl)
        #expect(parsed.records.map(\.line) == [1, 3])
        #expect(parsed.records.map(\.record.key.id) == ["a", "b"])
        #expect(
            parsed.problems.map(\.description) == [
                "d.jsonl:4:37: unexpected character '}'; expected a value",
                #"d.jsonl:5:1: missing "id"; every record needs "kind" and "id""#,
            ])
    }

    @Test(
        "identity problems",
        arguments: [
            (#"[1]"#, "a record must be a JSON object, not an array"),
            (#"{"id": "a"}"#, #"missing "kind""#),
            (#"{"kind": 3, "id": "a"}"#, #""kind" must be a string"#),
            (#"{"kind": "News", "id": "a"}"#, #"invalid kind "News""#),
            (#"{"kind": "news", "id": "-a"}"#, #"invalid id "-a""#),
            (#"{"kind": "news", "id": "a/b"}"#, #"invalid id "a/b""#),
            (#"{"kind": "news", "id": "..."}"#, #"invalid id "...""#),
            ("{\"kind\": \"news\", \"id\": \"\(String(repeating: "x", count: 129))\"}", "invalid id"),
            ("{\"kind\": \"\(String(repeating: "k", count: 33))\", \"id\": \"a\"}", "invalid kind"),
        ])
    func identity(_ text: String, _ reason: String) {
        let parsed = RecordFileParser.parse(path: "r.json", bytes: Array(text.utf8), format: .json)
        #expect(parsed.records.isEmpty)
        #expect(parsed.problems.count == 1)
        #expect(parsed.problems.first?.reason.contains(reason) == true, "\(parsed.problems)")
    }

    @Test func limitsEachRecordsSize() {
        let line = "{\"kind\": \"news\", \"id\": \"a\", \"b\": \"\(String(repeating: "x", count: 200))\"}"
        let parsed = RecordFileParser.parse(
            path: "r.jsonl", bytes: Array((line + "\n" + #"{"kind": "news", "id": "b"}"#).utf8), format: .jsonl, maxRecordBytes: 100)
        #expect(parsed.records.map(\.record.key.id) == ["b"])
        #expect(parsed.problems.first?.reason.contains("over max_record_bytes (100)") == true)
    }

    @Test func duplicatesNameEveryPlace() {
        let a = LocatedRecord(record: try! Record(object: object(#"{"kind": "news", "id": "a"}"#)), path: "x.json", line: 1)
        let b = LocatedRecord(record: try! Record(object: object(#"{"kind": "news", "id": "a", "v": 2}"#)), path: "y.jsonl", line: 4)
        let c = LocatedRecord(record: try! Record(object: object(#"{"kind": "news", "id": "c"}"#)), path: "y.jsonl", line: 5)
        let (unique, problems) = DuplicateRecords.split([a, b, c])
        #expect(unique == [c])
        #expect(
            Set(problems.map(\.description)) == [
                "x.json:1:1: duplicate record news/a, also defined at y.jsonl:4; keep one and remove the other",
                "y.jsonl:4:1: duplicate record news/a, also defined at x.json:1; keep one and remove the other",
            ])
    }

    @Test func duplicateMessagesStayShort() {
        let copies = (1...5).map {
            LocatedRecord(record: try! Record(object: object(#"{"kind": "news", "id": "a"}"#)), path: "d.jsonl", line: $0)
        }
        let (_, problems) = DuplicateRecords.split(copies)
        #expect(problems.count == 5)
        #expect(problems[0].reason == "duplicate record news/a, also defined at d.jsonl:2 and 3 more places; keep one and remove the others")
        #expect(problems[1].reason.hasPrefix("duplicate record news/a, also defined at d.jsonl:1 and 3 more places"))
    }

    @Test func identityErrorsPointAtTheMember() {
        let text = "{\n  \"kind\": \"news\",\n  \"id\": \"bad id\"\n}\n"
        let parsed = RecordFileParser.parse(path: "r.json", bytes: Array(text.utf8), format: .json)
        #expect(parsed.problems.map(\.description) == [#"r.json:3:9: invalid id "bad id"; it must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"#])
    }

    @Test func problemsAreAlwaysOneLine() {
        let problem = RecordProblem(path: "a\nb.json", line: 1, column: 1, reason: "invalid id \"x\u{1B}[2J\"")
        #expect(problem.description == "a\\u000Ab.json:1:1: invalid id \"x\\u001B[2J\"")
    }

    @Test func recordsKnowTheirBytes() {
        let text = "{\"kind\": \"news\", \"id\": \"a\"}\n{\"kind\": \"news\", \"id\": \"b\"}\n"
        let parsed = RecordFileParser.parse(path: "r.jsonl", bytes: Array(text.utf8), format: .jsonl)
        #expect(parsed.records.map(\.byteRange) == [0..<27, 28..<55])
    }

    @Test func recordFromWireFieldsPutsIdentityFirst() {
        let record = Record(key: RecordKey(kind: "news", id: "a"), fields: object(#"{"headline": "h", "id": "zzz"}"#))
        #expect(record.object.keys == ["kind", "id", "headline"])
        #expect(record.fields == object(#"{"headline": "h"}"#))
    }

    @Test func recordKeysParseFromTheCommandLine() {
        #expect(RecordKey("agreement/us-japan-hns-fy2021") == RecordKey(kind: "agreement", id: "us-japan-hns-fy2021"))
        #expect(RecordKey("agreement") == nil)
        #expect(RecordKey("Agreement/x") == nil)
        #expect(RecordKey("news/a/b") == nil)
    }
}
