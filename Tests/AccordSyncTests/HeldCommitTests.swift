import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordStore
@testable import AccordSync

/// A pull whose files were written but whose state commit failed, here because
/// SQLite's `max_page_count` makes the state database full (SQLITE_FULL, as on a full
/// disk). The engine keeps that commit and makes it before anything else once it
/// can, so what the user does to the file meanwhile is measured against the version
/// the file received.
@Suite("A commit held after its files were written")
struct HeldCommitTests {
    let key = RecordKey(kind: "agreement", id: "hns")
    /// Large enough that its base cannot fit in the pages the database already has.
    let bigTitle = "X" + String(repeating: "x", count: 20_000)

    /// Makes B's state database full at its present size (`full`) or not.
    func setFull(_ replica: Replica, _ full: Bool) throws {
        try replica.store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(full ? pages : 1_000_000_000)")
        }
    }

    /// A and B agree on `hns`; A sets a long title, and B's pull writes it into the
    /// file but cannot commit it.
    func setUp(_ hub: HubLauncher, _ http: HTTPClient) async throws -> (a: Replica, b: Replica) {
        let (a, b) = try await Replica.pairAgreeingOnHNS(hub, http)
        try a.write("hns.json", agreement("hns", title: bigTitle))
        try await a.sync()
        try setFull(b, true)
        await #expect(throws: DatabaseError.self) { try await b.engine.pull() }
        #expect(b.read("agreement/hns.json") == agreement("hns", title: bigTitle), "the file was written before the commit failed")
        #expect(try b.store.base(key)?.fields["title"] == .string("HNS FY2021"), "the state still has the old base")
        return (a, b)
    }

    @Test func anEditBackToTheOldBaseIsPushedOnceTheCommitIsMade() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (a, b) = try await setUp(hub, http)
        // The user puts the old title back while the state cannot be written.
        try b.write("agreement/hns.json", agreement("hns"))
        await #expect(throws: DatabaseError.self) { try await b.sync() }
        try setFull(b, false)
        let report = try await b.sync()
        #expect(report.pushed == 1 && report.conflicts == 0, "\(report)")
        #expect(b.read("agreement/hns.json") == agreement("hns"), "the user's edit is kept")
        try await a.sync()
        #expect(a.read("hns.json") == agreement("hns"), "and reaches the other replica")
    }

    @Test func withoutAnEditTheFileKeepsTheHubsVersionAndNothingIsPushed() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http)
        try setFull(b, false)
        let report = try await b.sync()
        #expect(report.pushed == 0 && report.conflicts == 0, "\(report)")
        #expect(try b.store.base(key)?.fields["title"] == .string(bigTitle))
        #expect(try b.store.cursor() > 0)
        let revisions = try await RawHTTPClient(port: hub.port).request("GET", "/v1/records/agreement/hns/revisions")
        #expect(try JSONParser.parse(revisions.body).objectValue?["revisions"]?.arrayValue?.count == 2, "B pushed nothing back")
    }
}
