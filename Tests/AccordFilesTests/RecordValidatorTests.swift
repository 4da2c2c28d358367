import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordFiles

@Suite("Validating real folders")
struct RecordValidatorTests {
    let schemas: SchemaSet

    init() throws {
        schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
    }

    let goodNews = #"{"kind": "news", "id": "n1", "headline": "h", "published": "2021-01-28", "source": "s"}"#

    @Test func theExampleRecordsAreValidAndInHouseStyle() throws {
        let root = BuiltProducts.repositoryRoot + "/examples/records"
        let report = RecordValidator(schemas: schemas).validate(paths: [root])
        #expect(report.problems == [])
        #expect(report.validRecords.count >= 8)
        let kinds = Set(report.validRecords.map(\.record.key.kind))
        #expect(kinds == ["agreement", "news"])
        #expect(report.validRecords.contains { $0.record.key == RecordKey(kind: "agreement", id: "us-japan-hns-fy2021") })
        // Rewriting each record in the house style gives back the bytes on disk.
        for located in report.validRecords {
            let bytes = try FileReader.readRegularFile(located.path)
            let text = String(decoding: bytes, as: UTF8.self)
            if located.path.hasSuffix(".jsonl") {
                let line = text.split(separator: "\n", omittingEmptySubsequences: false)[located.line - 1]
                #expect(JSONWriter.line(.object(located.record.object)) == line)
            } else {
                #expect(JSONWriter.pretty(.object(located.record.object)) == text)
            }
        }
    }

    @Test func walksNestedFoldersAndSkipsIgnoredFiles() throws {
        let folder = try TemporaryFolder()
        try folder.write("a/b/c/deep.json", goodNews)
        try folder.write("top.jsonl", goodNews.replacingOccurrences(of: "n1", with: "n2") + "\n")
        try folder.write(".hidden/bad.json", "{")
        try folder.write("a/.bad.json", "{")
        try folder.write("a/bad.json~", "{")
        try folder.write("a/bad.json.swp", "{")
        try folder.write("a/#bad.json#", "{")
        try folder.write("drafts/bad.json", "{")
        try folder.write("notes.txt", "not a record")
        let report = RecordValidator(schemas: schemas, ignore: IgnoreRules(globs: ["drafts/**"])).validate(paths: [folder.path])
        #expect(report.problems == [])
        #expect(report.filesChecked == 2)
        #expect(Set(report.validRecords.map(\.record.key.id)) == ["n1", "n2"])
    }

    @Test func duplicatesAcrossFilesNameBothPlaces() throws {
        let folder = try TemporaryFolder()
        let first = try folder.write("one.json", goodNews)
        let second = try folder.write("set.jsonl", "\n" + goodNews + "\n")
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.validRecords.isEmpty)
        #expect(
            report.problems.map(\.description) == [
                "\(first):1:1: duplicate record news/n1, also defined at \(second):2; keep one and remove the other",
                "\(second):2:1: duplicate record news/n1, also defined at \(first):1; keep one and remove the other",
            ])
    }

    @Test func schemaErrorsPointAtTheField() throws {
        let folder = try TemporaryFolder()
        let pretty = try folder.write(
            "a.json",
            """
            {
              "kind": "agreement",
              "id": "x",
              "title": "t",
              "parties": [
                "US",
                7
              ],
              "status": "agreed",
              "value": {
                "amount": -1
              }
            }

            """)
        let lines = try folder.write(
            "b.jsonl", goodNews + "\n" + #"{"kind": "news", "id": "n9", "headline": "h", "source": "s", "published": "2021-02-30"}"# + "\n")
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(
            report.problems.map(\.description) == [
                "\(pretty):7:5: /parties/1: must be a string, not an integer",
                "\(pretty):11:15: /value/amount: must be >= 0",
                "\(lines):2:75: /published: matches none of the allowed forms (\"2021-02-30\" is not a valid date (YYYY-MM-DD); \"2021-02-30\" is not a valid date-time (YYYY-MM-DDTHH:MM:SSZ))",
            ])
        #expect(report.validRecords.map(\.record.key.id) == ["n1"])
    }

    @Test func missingRequiredFieldPointsAtItsObject() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("a.json", "\n\n  {\"kind\": \"news\", \"id\": \"x\", \"source\": \"s\", \"published\": \"2021-01-01\"}")
        let report = RecordValidator(schemas: schemas).validate(paths: [path])
        #expect(report.problems.map(\.description) == ["\(path):3:3: /headline: required field is missing"])
    }

    @Test func oversizedFifoAndOutsideSymlinkAreReportedNotRead() throws {
        let folder = try TemporaryFolder()
        let outside = try TemporaryFolder()
        let target = try outside.write("secret.json", goodNews)
        try folder.write("root/big.json", "{\"kind\": \"news\", \"id\": \"b\", \"body\": \"\(String(repeating: "x", count: 5000))\"}")
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/root/link.json", withDestinationPath: target)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/root/inside.json", withDestinationPath: folder.path + "/root/ok.json")
        try folder.write("root/ok.json", goodNews)
        #expect(mkfifo(folder.path + "/root/pipe.json", 0o644) == 0)
        let root = folder.path + "/root"
        let report = RecordValidator(schemas: schemas, maxRecordBytes: 1000).validate(paths: [root])
        let reasons = Dictionary(report.problems.map { (($0.path as NSString).lastPathComponent, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(reasons["big.json"]?.contains("over max_record_bytes (1000)") == true)
        #expect(reasons["pipe.json"]?.contains("not a regular file") == true)
        #expect(reasons["link.json"]?.contains("symlink leads outside the root") == true)
        #expect(reasons["inside.json"] == nil, "a link to a file inside the root is reached through its target")
        #expect(report.validRecords.map(\.record.key.id) == ["n1"])
    }

    @Test func invalidUTF8AndDeepNestingAreCleanErrors() throws {
        let folder = try TemporaryFolder()
        try folder.write("utf8.json", [0x7B, 0x22, 0x6B, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        try folder.write("deep.json", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(
            report.problems.map(\.reason).sorted() == [
                "invalid UTF-8 byte 0xFF in a string; save the file as UTF-8",
                "nesting deeper than 64 levels",
            ])
    }

    @Test func explicitFilesAreCheckedEvenWithOtherNames() throws {
        let folder = try TemporaryFolder()
        let text = try folder.write("notes.txt", "x")
        let report = RecordValidator(schemas: schemas).validate(paths: [text])
        #expect(report.problems.map(\.reason) == ["not a record file; record files end in .json or .jsonl"])
    }
}

@Suite("Validating hostile folders")
struct HostileFolderTests {
    let schemas: SchemaSet
    let goodNews = #"{"kind": "news", "id": "n1", "headline": "h", "published": "2021-01-28", "source": "s"}"#

    init() throws {
        schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
    }

    @Test func theSameFileNamedTwiceIsNotADuplicate() throws {
        let folder = try TemporaryFolder()
        let file = try folder.write("a.json", goodNews)
        let report = RecordValidator(schemas: schemas).validate(paths: [file, file, folder.path, folder.path + "/"])
        #expect(report.problems == [])
        #expect(report.validRecords.count == 1)
    }

    @Test func aLinkInsideTheRootToAnUncheckedFileIsReported() throws {
        let folder = try TemporaryFolder()
        try folder.write("notes.txt", "{ not json")
        try folder.write(".drafts/a.json", "{ not json")
        try FileManager.default.createSymbolicLink(atPath: folder.child("link.json"), withDestinationPath: folder.child("notes.txt"))
        try FileManager.default.createSymbolicLink(atPath: folder.child("draft.json"), withDestinationPath: folder.child(".drafts/a.json"))
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.problems.count == 2)
        #expect(report.problems.allSatisfy { $0.reason.contains("which is not a synced record file") })
    }

    @Test func namesThatAreNotUTF8AreReported() throws {
        let folder = try TemporaryFolder()
        let name = folder.path + "/bad\u{FFFD}"
        var bytes = Array(folder.path.utf8) + Array("/bad".utf8) + [0xFF] + Array(".json".utf8) + [0]
        let fd = bytes.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        #expect(fd >= 0)
        close(fd)
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.reason.contains("not valid UTF-8") == true)
        _ = name
    }

    @Test func thousandsOfInvalidLinesAreReportedInOnePass() throws {
        let folder = try TemporaryFolder()
        let line = #"{"kind": "news", "id": "x"}"#
        let text = (0..<10_000).map { line.replacingOccurrences(of: "\"x\"", with: "\"x\($0)\"") }.joined(separator: "\n")
        try folder.write("many.jsonl", text)
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.problems.count == 30_000)  // headline, published, source missing on each
        #expect(report.problems.last?.line == 10_000)
    }

    @Test func aDuplicateIsReportedEvenWhenOneCopyIsInvalid() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.json", goodNews)
        try folder.write("b.json", #"{"kind": "news", "id": "n1"}"#)
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.problems.count == 2)
        #expect(report.problems.allSatisfy { $0.reason.hasPrefix("duplicate record news/n1") })
    }
}

@Suite("Walking large folders")
struct LargeFolderTests {
    /// readdir's records are as long as their names; copying a fixed 256-byte name out
    /// of one near the end of the kernel's buffer read past it and crashed (seen with
    /// 4,000 files). Names of every length put records at every offset.
    @Test func namesOfEveryLengthAreReadInPlace() throws {
        let folder = try TemporaryFolder()
        let lengths = (0..<3000).map { 1 + $0 % 240 }
        for (index, length) in lengths.enumerated() {
            let stem = String(repeating: "n", count: max(1, length - String(index).count - 5)) + String(index)
            _ = FileManager.default.createFile(atPath: folder.child(stem + ".json"), contents: nil)
        }
        let walked = RecordTreeWalker().walk(root: folder.path)
        #expect(walked.files.count == 3000)
        #expect(walked.problems.isEmpty)
    }
}

@Suite("Dataset files past the size bound")
struct DatasetFileBoundTests {
    @Test func aHugeJSONLFileIsReportedNotRead() throws {
        let folder = try TemporaryFolder()
        // Sparse: the size is what matters, and the file is never read.
        let path = try folder.write("huge.jsonl", "")
        #expect(truncate(path, off_t(RecordFileParser.maxDatasetFileBytes + 1)) == 0)
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        let report = RecordValidator(schemas: schemas).validate(paths: [folder.path])
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.reason.contains(".jsonl file is \(RecordFileParser.maxDatasetFileBytes + 1) bytes") == true)
    }
}
