import AccordCore
import AccordStore
import AccordTestSupport
import Foundation
import Synchronization
import Testing

@testable import AccordSync

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The writer against races, modes and sizes")
struct RecordFileWriterSafetyTests {
    func record(_ id: String, headline: String = "h") -> Record {
        Record(key: RecordKey(kind: "news", id: id), fields: ["headline": .string(headline), "published": .string("2021-01-28"), "source": .string("s")])
    }

    /// A group member swaps the `news` folder with a symlink to a folder outside the
    /// root, over and over (`renameat2(RENAME_EXCHANGE)`), while records are written:
    /// no write may ever land outside the root.
    @Test func aFolderSwappedForASymlinkNeverLeadsOutOfTheRoot() throws {
        let folder = try TemporaryFolder()
        let root = folder.child("root")
        let outside = folder.child("outside")
        try FileManager.default.createDirectory(atPath: root + "/news", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/decoy", withDestinationPath: outside)
        let writer = RecordFileWriter(root: root)
        let stop = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        let swapper = Thread {
            while !stop.load(ordering: .relaxed) {
                // news <-> decoy: half the time `news` is the symlink to `outside`.
                if exchangePaths(root + "/news", root + "/decoy") {
                    swaps.add(1, ordering: .relaxed)
                }
            }
        }
        swapper.start()
        var refused = 0
        for index in 0..<2000 {
            do {
                _ = try writer.write(record("r\(index)"), in: nil, expectedHash: nil)
            } catch {
                refused += 1
            }
        }
        stop.store(true, ordering: .relaxed)
        while !swapper.isFinished { usleep(1000) }
        #expect(swaps.load(ordering: .relaxed) > 100, "the swapper must have raced the writer")
        #expect(refused > 0, "some writes met the symlink and were refused")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, "nothing was written outside the root")
    }

    @Test func configuredModesApplyWhateverTheUmask() throws {
        let folder = try TemporaryFolder()
        let root = folder.child("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let modes = FileModes.resolve(fileMode: 0o664, dirMode: 0o2775)
        let entry = try RecordFileWriter(root: root, modes: modes).write(record("a"), in: nil, expectedHash: nil)
        #expect(mode(root + "/news") == 0o2775)
        #expect(mode(root + "/" + entry.path) == 0o664)
    }

    /// The team's folder with a default ACL: the group may read and write what the
    /// daemon makes in it, whatever the umask (a default ACL replaces it). Asking for
    /// 0644 would cap the ACL's mask at read-only.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/setfacl")))
    func aDefaultACLDecidesWhatTheGroupMayDoWithNewFilesAndFolders() throws {
        let folder = try TemporaryFolder()
        let root = folder.child("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        #expect(try Self.run("/usr/bin/setfacl", ["-m", "g:nogroup:rwX", "-d", "-m", "g:nogroup:rwX", root]).status == 0)
        let entry = try RecordFileWriter(root: root, modes: FileModes.resolve(fileMode: nil, dirMode: nil)).write(record("a"), in: nil, expectedHash: nil)
        let fileACL = try Self.run("/usr/bin/getfacl", ["--omit-header", root + "/" + entry.path]).output
        #expect(fileACL.contains("group:nogroup:rw") && fileACL.contains("mask::rw-"), "\(fileACL)")
        let folderACL = try Self.run("/usr/bin/getfacl", ["--omit-header", root + "/news"]).output
        #expect(folderACL.contains("default:group:nogroup:rwx") && folderACL.contains("mask::rwx"), "\(folderACL)")
    }

    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let run = try ProgramRun.run(path, arguments)
        return (run.status, run.stdout)
    }

    @Test func aReplacedFileKeepsItsBitsButNeverSetuidOrSetgid() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("news/a.json", JSONWriter.pretty(.object(record("a").object)))
        chmod(path, 0o6640)
        let hash = ContentDigest(of: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        _ = try RecordFileWriter(root: folder.path).write(record("a", headline: "new"), in: "news/a.json", expectedHash: hash)
        #expect(mode(path) == 0o640)
        // With file_mode set, the configured bits are added: a group member can edit it.
        let hash2 = ContentDigest(of: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let writer = RecordFileWriter(root: folder.path, modes: FileModes(file: 0o664, folder: 0o775, fileExact: true, folderExact: true))
        _ = try writer.write(record("a", headline: "newer"), in: "news/a.json", expectedHash: hash2)
        #expect(mode(path) == 0o664)
    }

    @Test func theHouseStyleGivesWayToCompactAtTheLimitAndNeverPastIt() throws {
        let folder = try TemporaryFolder()
        // Deep nesting makes the indented form far larger than the compact one.
        var value = JSONValue.array([.number(JSONNumber(1))])
        for _ in 0..<40 { value = .array([value, .number(JSONNumber(2))]) }
        var fields = record("deep").fields
        fields["nested"] = value
        let deep = Record(key: RecordKey(kind: "news", id: "deep"), fields: fields)
        let compact = JSONWriter.line(.object(deep.object)).utf8.count + 1
        let pretty = JSONWriter.pretty(.object(deep.object)).utf8.count
        #expect(pretty > compact * 2)
        let writer = RecordFileWriter(root: folder.path, maxRecordBytes: compact + 10)
        let entry = try writer.write(deep, in: nil, expectedHash: nil)
        #expect(entry.size == compact, "written compact: the house style would be over the limit")
        let tight = RecordFileWriter(root: folder.path, maxRecordBytes: compact - 10)
        // "other" is one byte longer than "deep".
        #expect(throws: RecordWriteError.tooLarge("news/other.json", size: compact + 1, limit: compact - 10)) {
            try tight.write(Record(key: RecordKey(kind: "news", id: "other"), fields: fields), in: nil, expectedHash: nil)
        }
        #expect(!FileManager.default.fileExists(atPath: folder.child("news/other.json")))
    }

    @Test func aFileWhereAFolderShouldBeIsAClearError() throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("news", "not a folder")
        #expect(throws: RecordWriteError.self) { try RecordFileWriter(root: folder.path).write(record("a"), in: nil, expectedHash: nil) }
        do {
            _ = try RecordFileWriter(root: folder.path).write(record("a"), in: nil, expectedHash: nil)
        } catch {
            #expect(error.description.contains("news in the root is a file where a folder should be"), "\(error)")
        }
    }

    private func mode(_ path: String) -> mode_t {
        var info = stat()
        stat(path, &info)
        return info.st_mode & 0o7777
    }
}
