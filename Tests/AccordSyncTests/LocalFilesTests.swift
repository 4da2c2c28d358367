import AccordCore
import AccordFiles
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

@Suite("Writing records into a real root")
struct RecordFileWriterTests {
    let key = RecordKey(kind: "news", id: "a")

    func record(_ headline: String, id: String = "a") -> Record {
        Record(key: RecordKey(kind: "news", id: id), fields: ["headline": .string(headline), "published": .string("2021-01-28"), "source": .string("s")])
    }

    @Test func aRecordWithNoHomeGoesToKindSlashID() throws {
        let folder = try TemporaryFolder()
        let entry = try RecordFileWriter(root: folder.path).write(record("h"), in: nil, expectedHash: nil)
        #expect(entry.path == "news/a.json")
        let text = try String(contentsOfFile: folder.child("news/a.json"), encoding: .utf8)
        #expect(text == JSONWriter.pretty(.object(record("h").object)))
        #expect(entry.digest == ContentDigest(of: Array(text.utf8)))
        #expect(entry.records == [key])
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.child("news")) == ["a.json"])
    }

    @Test func aJSONLLineIsReplacedInPlace() throws {
        let folder = try TemporaryFolder()
        let lines = [
            JSONWriter.line(.object(record("one", id: "x").object)), JSONWriter.line(.object(record("two").object)),
            "{\"kind\": \"news\",   \"id\": \"z\", \"headline\": \"h\", \"published\": \"2021-01-01\", \"source\": \"s\"}",
        ]
        let original = lines.joined(separator: "\n") + "\n"
        try folder.write("set.jsonl", original)
        let writer = RecordFileWriter(root: folder.path)
        let entry = try writer.write(record("TWO"), in: "set.jsonl", expectedHash: ContentDigest(of: Array(original.utf8)))
        let updated = try String(contentsOfFile: folder.child("set.jsonl"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(updated[0] == lines[0])
        #expect(updated[1] == JSONWriter.line(.object(record("TWO").object)))
        #expect(updated[2] == lines[2], "other lines keep their exact bytes")
        #expect(entry.records.count == 3)
        let removed = try #require(try writer.remove(key, from: "set.jsonl", expectedHash: entry.digest))
        #expect(try String(contentsOfFile: folder.child("set.jsonl"), encoding: .utf8) == lines[0] + "\n" + lines[2] + "\n")
        #expect(removed.records.map(\.id) == ["x", "z"])
    }

    @Test func aFileChangedSinceReadIsNotOverwritten() throws {
        let folder = try TemporaryFolder()
        try folder.write("news/a.json", JSONWriter.pretty(.object(record("mine").object)))
        let writer = RecordFileWriter(root: folder.path)
        #expect(throws: RecordWriteError.changedMeanwhile("news/a.json")) {
            try writer.write(record("theirs"), in: "news/a.json", expectedHash: ContentDigest(of: Array("stale".utf8)))
        }
        #expect(try String(contentsOfFile: folder.child("news/a.json"), encoding: .utf8).contains("mine"))
        #expect(throws: RecordWriteError.changedMeanwhile("news/a.json")) {
            try writer.remove(key, from: "news/a.json", expectedHash: ContentDigest(of: Array("stale".utf8)))
        }
        #expect(FileManager.default.fileExists(atPath: folder.child("news/a.json")))
    }

    @Test("never outside the root", arguments: ["../a.json", "/etc/a.json", "x/../../a.json", "./a.json", "out/a.json"])
    func outsideTheRoot(_ path: String) throws {
        let folder = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try FileManager.default.createSymbolicLink(atPath: folder.child("out"), withDestinationPath: outside.path)
        try outside.write("a.json", "{}")
        #expect(throws: RecordWriteError.outsideRoot(path)) { try RecordFileWriter(root: folder.path).write(record("h"), in: path, expectedHash: nil) }
        #expect(try String(contentsOfFile: outside.child("a.json"), encoding: .utf8) == "{}")
    }
}

@Suite("Scanning a real root")
struct RootScannerTests {
    let schemas: SchemaSet

    init() throws {
        schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
    }

    func scanner(_ root: String) -> RootScanner {
        RootScanner(root: root, schemas: schemas, ignore: IgnoreRules(), maxRecordBytes: 1 << 20)
    }

    let good = #"{"kind": "news", "id": "a", "headline": "h", "published": "2021-01-28", "source": "s"}"#

    @Test func unchangedFilesAreNotReadAgain() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.json", good)
        try folder.write("b.jsonl", good.replacingOccurrences(of: "\"a\"", with: "\"b\"") + "\n")
        let first = scanner(folder.path).scan(previous: RootIndex())
        #expect(first.filesRead == 2)
        #expect(Set(first.scanned.keys.map(\.id)) == ["a", "b"])
        let second = scanner(folder.path).scan(previous: first.index)
        #expect(second.filesRead == 0)
        #expect(second.scanned.isEmpty)
        #expect(Set(second.present.map(\.id)) == ["a", "b"])
        #expect(second.index.location(of: RecordKey(kind: "news", id: "b")) == "b.jsonl")
    }

    @Test func aBrokenFileProtectsWhatItHeld() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.json", good)
        let first = scanner(folder.path).scan(previous: RootIndex())
        try folder.write("a.json", "{ half-written")
        let second = scanner(folder.path).scan(previous: first.index)
        #expect(second.protected == [RecordKey(kind: "news", id: "a")])
        #expect(second.problems.count == 1)
        #expect(second.index["a.json"] == first.index["a.json"], "the last good entry is kept")
    }

    @Test func anInvalidValueIsReportedWhereValidatePointsNotAtTheRecordsFirstLine() throws {
        let folder = try TemporaryFolder()
        // The bad value (published is not a date) sits on line 5 of the .json file and
        // on the second line of the .jsonl file, well into it.
        try folder.write(
            "bad.json", "{\n  \"kind\": \"news\",\n  \"id\": \"bad\",\n  \"headline\": \"h\",\n  \"published\": \"soon\",\n  \"source\": \"s\"\n}\n")
        try folder.write(
            "set.jsonl", good + "\n" + good.replacingOccurrences(of: "\"a\"", with: "\"c\"").replacingOccurrences(of: "2021-01-28", with: "later") + "\n")
        let validated = RecordValidator(schemas: schemas, ignore: IgnoreRules(), maxRecordBytes: 1 << 20).validate(paths: [folder.path])
            .problems.map { RecordProblem(path: String($0.path.dropFirst(folder.path.count + 1)), line: $0.line, column: $0.column, reason: $0.reason) }
        #expect(validated.map(\.line) == [5, 2] && validated.allSatisfy { $0.column > 1 }, "\(validated)")
        // The full scan and the scan of named files (inotify's path) say the same.
        let full = scanner(folder.path).scan(previous: RootIndex()).problems.sorted { $0.path < $1.path }
        #expect(full == validated)
        let named = try #require(scanner(folder.path).scanFiles(["bad.json", "set.jsonl"], previous: RootIndex()))
        #expect(named.problems.values.flatMap { $0 }.sorted { $0.path < $1.path } == validated)
    }

    @Test func invalidAndDuplicateRecordsAreProtectedNotScanned() throws {
        let folder = try TemporaryFolder()
        try folder.write("bad.json", #"{"kind": "news", "id": "bad", "headline": "h"}"#)
        try folder.write("one.json", good)
        try folder.write("two.json", good)
        let result = scanner(folder.path).scan(previous: RootIndex())
        #expect(result.scanned.isEmpty)
        #expect(result.protected == [RecordKey(kind: "news", id: "bad"), RecordKey(kind: "news", id: "a")])
    }
}
