import AccordCore
import AccordHTTP
import AccordStore
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordSync

/// No single hub change stops the feed, and none is lost: one that cannot be applied
/// is kept, reported, retried, and arrives once its cause is gone.
@Suite("Hub changes that cannot be applied yet")
struct UnappliedChangeTests {
    /// Retries due at once, so the tests need not wait out a backoff.
    static let quickRetry = RetryPolicy(baseDelayMilliseconds: 1, maxDelayMilliseconds: 1)

    func news(_ id: String) -> String {
        JSONWriter.pretty(
            .object(
                Record(
                    key: RecordKey(kind: "news", id: id),
                    fields: ["headline": .string("h"), "published": .string("2021-01-28"), "source": .string("s")]
                ).object))
    }

    @Test func aFailedWriteIsKeptAndArrivesOnceTheCauseIsGone() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http, retry: Self.quickRetry)
        // A file where B's `agreement` folder would go: the pull cannot write there.
        try b.write("agreement", "not a folder")
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try a.write("n1.json", news("n1"))
        try await a.sync()
        let report = try await b.sync()
        #expect(report.unapplied >= 1)
        // The feed went on past it: the later news record arrived, and the cursor moved.
        #expect(b.read("news/n1.json") != nil)
        #expect(try b.store.cursor() == 2)
        let (list, count) = try await b.engine.unappliedChanges(limit: 10)
        #expect(count == 1)
        #expect(list.first?.key == RecordKey(kind: "agreement", id: "hns"))
        #expect(list.first?.lastError.contains("file where a folder should be") == true, "\(list)")
        #expect(try b.store.events(limit: 20).contains { $0.type == "deferred" && $0.record == "agreement/hns" })
        // The cause goes; the next round brings the record with no operator action.
        try FileManager.default.removeItem(atPath: b.root + "/agreement")
        try await b.sync()
        #expect(b.read("agreement/hns.json") == agreement("hns"))
        #expect(try await b.engine.unappliedChanges(limit: 10).count == 0)
        // Nothing was pushed back by B: the hub still holds one revision.
        #expect(try await b.engine.hub.record(RecordKey(kind: "agreement", id: "hns"))?.rev.hasPrefix("1-") == true)
    }

    @Test func aRecordHeldTwiceLocallyIsNeitherDeletedNorOverwritten() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http, retry: Self.quickRetry)
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        let text = try #require(b.read("agreement/hns.json"))
        try b.write("copy/hns.json", text)  // the same kind/id twice: invalid
        try await b.sync()
        try FileManager.default.removeItem(atPath: a.root + "/hns.json")
        try await a.sync()
        let report = try await b.sync()
        #expect(report.unapplied >= 1)
        #expect(b.read("agreement/hns.json") == text, "the hub's delete must not touch an invalid record")
        #expect(b.read("copy/hns.json") == text)
        #expect(try await b.engine.unappliedChanges(limit: 10).list.first?.lastError.contains("defined twice") == true)
        // The duplicate is fixed: the held delete now applies to the one copy left.
        try FileManager.default.removeItem(atPath: b.root + "/copy/hns.json")
        try await b.sync()
        #expect(b.read("agreement/hns.json") == nil)
        #expect(try await b.engine.unappliedChanges(limit: 10).count == 0)
    }

    /// A record an older hub accepted deeper than 64 levels is refused with a reason;
    /// the change after it still arrives.
    @Test func aPoisonedRecordDoesNotStopTheFeed() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        try a.write("deep.json", agreement("deep"))
        try await a.sync()
        try a.write("n1.json", news("n1"))
        try await a.sync()
        // Make the first record deep, as a hub before the limit could have stored it.
        hub.process.signal(SIGTERM)
        _ = try await hub.process.waitForExit(timeout: 20)
        let deep =
            #"{"title": "t", "parties": ["a", "b"], "status": "agreed", "x": "# + String(repeating: "[", count: 120)
            + String(repeating: "]", count: 120) + "}"
        let database = try DatabaseQueue(path: hub.databasePath)
        try await database.write { db in
            try db.execute(sql: "UPDATE records SET fields = ? WHERE id = 'deep'", arguments: [deep])
            try db.execute(sql: "UPDATE revisions SET fields = ? WHERE id = 'deep'", arguments: [deep])
        }
        try database.close()
        try hub.restart()
        let b = try Replica(hub: hub, http: http, retry: Self.quickRetry)
        let report = try await b.sync()
        #expect(report.unapplied >= 1)
        #expect(b.read("news/n1.json") != nil, "the change after the poisoned one arrived")
        #expect(b.read("agreement/deep.json") == nil)
        let entry = try #require(try await b.engine.unappliedChanges(limit: 10).list.first)
        #expect(entry.lastError.contains("nests 121 levels, over 64"), "\(entry.lastError)")
    }
}
