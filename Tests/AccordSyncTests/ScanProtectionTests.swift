import AccordCore
import AccordHTTP
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

#if canImport(Glibc)
    import Glibc
#endif

/// What the root hides is not a deletion: records behind a symlinked or unreadable
/// folder, a FIFO or a broken link, and records in files the ignore globs exclude.
/// Found by an adversarial review, where each of these deleted records on the hub.
@Suite("Scans: hidden is not deleted")
struct ScanProtectionTests {
    func news(_ id: String, headline: String = "h") -> String {
        JSONWriter.pretty(
            .object(
                Record(
                    key: RecordKey(kind: "news", id: id),
                    fields: ["headline": .string(headline), "published": .string("2021-01-28"), "source": .string("s")]
                ).object))
    }

    func liveOnHub(_ replica: Replica, _ id: String) async throws -> Bool {
        try await replica.engine.hub.record(RecordKey(kind: "news", id: id))?.deleted == false
    }

    @Test func aFolderSwappedForALinkOutOfTheRootDeletesNothing() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        for index in 0..<3 { try a.write("sub/s\(index).json", news("s\(index)")) }
        try a.write("keep.json", news("keep"))
        try await a.sync()
        let elsewhere = try TemporaryFolder()
        try FileManager.default.moveItem(atPath: a.root + "/sub", toPath: elsewhere.child("sub"))
        try FileManager.default.createSymbolicLink(atPath: a.root + "/sub", withDestinationPath: elsewhere.child("sub"))
        try await a.sync()
        for index in 0..<3 { #expect(try await liveOnHub(a, "s\(index)"), "s\(index) was deleted on the hub") }
        #expect(await a.engine.problems.contains { $0.path == "sub" && $0.reason.contains("outside the root") })
    }

    @Test func aFIFOOrABrokenLinkInPlaceOfAFileDeletesNothing() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        try a.write("f.json", news("f"))
        try a.write("l.json", news("l"))
        try await a.sync()
        try FileManager.default.removeItem(atPath: a.root + "/f.json")
        #expect(mkfifo(a.root + "/f.json", 0o644) == 0)
        try FileManager.default.removeItem(atPath: a.root + "/l.json")
        try FileManager.default.createSymbolicLink(atPath: a.root + "/l.json", withDestinationPath: "/nonexistent/l.json")
        try await a.sync()
        #expect(try await liveOnHub(a, "f"))
        #expect(try await liveOnHub(a, "l"))
    }

    @Test func ignoringAFileStopsSyncingItWithoutDeletingItForEveryone() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http, retry: RetryPolicy(baseDelayMilliseconds: 1, maxDelayMilliseconds: 1))
        try a.write("draft-1.json", news("draft-1"))
        try await a.sync()
        var settings = await a.engine.settings
        settings.ignore = IgnoreRules(globs: ["draft-*"])
        await a.engine.reconfigure(settings)
        try await a.sync()
        #expect(try await liveOnHub(a, "draft-1"), "an ignored file is not a deletion")
        // A replica that ignores the name does not write the hub's record there.
        var bSettings = await b.engine.settings
        bSettings.ignore = IgnoreRules(globs: ["draft-*"])
        await b.engine.reconfigure(bSettings)
        let report = try await b.sync()
        #expect(report.unapplied >= 1)
        #expect(b.read("news/draft-1.json") == nil)
        #expect(try await b.engine.unappliedChanges(limit: 5).list.first?.lastError.contains("ignore") == true)
        #expect(try await liveOnHub(a, "draft-1"))
    }

    @Test func editingOneCopyOfADuplicatePushesNothing() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        try a.write("z.json", news("z", headline: "orig"))
        try await a.sync()
        try a.write("copy.json", news("z", headline: "orig"))
        try await a.engine.scan(paths: ["copy.json"])
        try a.write("copy.json", news("z", headline: "CHANGED"))
        let result = try await a.engine.scan(paths: ["copy.json"])
        #expect(result.queued == 0 && result.fullScan != nil)
        _ = try await a.engine.push()
        #expect(try await a.engine.hub.record(RecordKey(kind: "news", id: "z"))?.fields["headline"] == .string("orig"))
    }

    @Test func aFolderMovedOutOfTheRootIsNoticedAtOnce() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        for index in 0..<30 { try a.write("all/r\(index).json", news("r\(index)")) }
        for index in 0..<3 { try a.write("sub2/m\(index).json", news("m\(index)")) }
        try await a.sync()
        let away = try TemporaryFolder()
        try FileManager.default.moveItem(atPath: a.root + "/sub2", toPath: away.child("sub2"))
        // The watcher names only the folder; the fast path must not shrug it off.
        let result = try await a.engine.scan(paths: ["sub2"])
        #expect(result.fullScan != nil && result.queued == 3)
    }

    @Test func anEditThatRestoresTheMtimeIsStillSeen() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        try a.write("t.json", news("t", headline: "abc"))
        try await a.sync()
        let path = a.root + "/t.json"
        var before = stat()
        stat(path, &before)
        // Same size, same inode, mtime put back: as cp -p or rsync -t leave it.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "abc", with: "xyz")
        try handle.seek(toOffset: 0)
        handle.write(Data(text.utf8))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        #expect(try await a.engine.scan().queued == 1)
    }

    @Test func aFileThisReplicaWroteFromTheHubTakesTheFastPath() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        try a.write("z.json", news("z", headline: "one"))
        try await a.sync()
        try await b.sync()
        try a.write("z.json", news("z", headline: "two"))
        try await a.sync()
        try await b.sync()
        #expect(b.read("news/z.json")?.contains("two") == true)
        // The watcher then names the file b wrote itself: unchanged since b wrote it,
        // it must not cost a scan of the whole root.
        let result = try await b.engine.scan(paths: ["news/z.json"])
        #expect(result.fullScan == nil && result.queued == 0)
    }
}
