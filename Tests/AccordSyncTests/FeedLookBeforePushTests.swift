import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

/// A daemon pushes before it pulls. After a start (here: the engine given another
/// hub, as a reload does) the hub may be one whose database was restored from an
/// older backup: the first push must look at its feed before it sends anything.
@Suite("The first push looks at the feed")
struct FeedLookBeforePushTests {
    @Test func aHubBehindTheCursorGetsNothing() async throws {
        let first = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: first, http: http)
        try a.write("agreement/f1.json", agreement("f1"))
        try await a.sync()
        let backup = try await first.backup()
        for id in ["f2", "f3"] { try a.write("agreement/\(id).json", agreement(id)) }
        try await a.sync()
        #expect(try await a.engine.cursor() == 3)

        // The older backup, restored at another address, which has taken one change:
        // the same feed, ending before the cursor.
        let second = try HubLauncher(database: backup)
        try await second.createAgreements(["restored"])
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(second.port)", token: nil, http: http))

        // A create, which any hub would take.
        try a.write("agreement/f4.json", agreement("f4"))
        #expect(try await a.engine.scan().queued == 1)
        let report = try await a.engine.push()
        #expect(report.pushed == 0)
        #expect(report.unreachable?.contains("the hub's changes feed ends at seq 2, before this root's cursor 3") == true, "\(report)")
        #expect(await a.engine.hubBehind != nil)
        #expect(try await second.client.request("GET", "/v1/records/agreement/f4").status == 404)
        // Held with the push backoff: not due before it ends (the daemon's loop
        // would spin on it).
        let hold = try #require(await a.engine.pushHoldUntil)
        #expect(try #require(try await a.engine.nextAttemptTime()) >= hold)
    }

    /// A database made afresh at the hub's address (or another dataset's) that others
    /// have written past this root's cursor: by seqs alone it looks caught up, but
    /// every change at a seq the cursor has passed would be skipped for good. Its
    /// feed ID tells it apart: nothing is pushed to it or pulled from it.
    @Test func anotherFeedPastTheCursorGetsNothingAndGivesNothing() async throws {
        let first = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: first, http: http)
        for id in ["h1", "h2"] { try a.write("agreement/\(id).json", agreement(id)) }
        try await a.sync()
        #expect(try await a.engine.cursor() == 2)

        let second = try HubLauncher()
        try await second.createAgreements(["n1", "n2", "n3", "n4"])
        let firstID = try #require(try await first.client.request("GET", "/v1/changes").header("accord-feed-id"))
        let secondID = try #require(try await second.client.request("GET", "/v1/changes").header("accord-feed-id"))
        #expect(firstID != secondID)
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(second.port)", token: nil, http: http))

        try a.write("agreement/h3.json", agreement("h3"))
        #expect(try await a.engine.scan().queued == 1)
        let report = try await a.engine.push()
        #expect(report.pushed == 0)
        #expect(report.unreachable?.contains("the hub's changes feed is \(secondID), not \(firstID)") == true, "\(report)")
        #expect(try await second.client.request("GET", "/v1/records/agreement/h3").status == 404)

        await #expect(throws: HubError.self) { try await a.engine.pull() }
        #expect(a.read("agreement/n3.json") == nil && a.read("agreement/n4.json") == nil)
        #expect(try await a.engine.cursor() == 2)
        #expect(try a.store.feedID() == firstID)

        // Back on its own hub, all is well again.
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(first.port)", token: nil, http: http))
        try await a.engine.retryNow()
        #expect(try await a.engine.push().pushed == 1)
        #expect(await a.engine.hubBehind == nil)
    }

    /// An older backup, restored, that others have written past this root's cursor:
    /// the same feed ID and a feed long enough, but the revision this root applied
    /// last (its anchor) is not in the hub's history at its seq.
    @Test func aRestoredBackupPastTheCursorGetsNothingAndGivesNothing() async throws {
        let first = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: first, http: http)
        try a.write("agreement/k1.json", agreement("k1"))
        try await a.sync()
        let backup = try await first.backup()
        for id in ["k2", "k3"] { try a.write("agreement/\(id).json", agreement(id)) }
        try await a.sync()
        #expect(try await a.engine.cursor() == 3)
        let anchor = try #require(try a.store.feedAnchor())
        #expect(anchor.seq == 3)

        // Restored, and written to by others up to seq 4: x1 and x2 take seqs 2 and 3,
        // which this root's cursor has passed.
        let second = try HubLauncher(database: backup)
        try await second.createAgreements(["x1", "x2", "x3"])
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(second.port)", token: nil, http: http))

        try a.write("agreement/k4.json", agreement("k4"))
        #expect(try await a.engine.scan().queued == 1)
        let report = try await a.engine.push()
        #expect(report.pushed == 0)
        #expect(report.unreachable?.contains("has no revision \(anchor.rev) of \(anchor.key) at seq 3") == true, "\(report)")
        #expect(try await second.client.request("GET", "/v1/records/agreement/k4").status == 404)
        await #expect(throws: HubError.self) { try await a.engine.pull() }
        #expect(a.read("agreement/x3.json") == nil)
        #expect(try await a.engine.cursor() == 3)

        // Its own hub again: the anchor is there, pushes resume.
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(first.port)", token: nil, http: http))
        try await a.engine.retryNow()
        #expect(try await a.engine.push().pushed == 1)
        #expect(await a.engine.hubBehind == nil)
    }

    @Test func aHubThatCannotBeReachedHoldsThePushAndIsLookedAtAgain() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        try a.write("agreement/g1.json", agreement("g1"))
        try await a.sync()
        let nobody = try LoopbackSocket.freePort()
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(nobody)", token: nil, http: http))
        try a.write("agreement/g2.json", agreement("g2"))
        #expect(try await a.engine.scan().queued == 1)
        let report = try await a.engine.push()
        #expect(report.pushed == 0 && report.unreachable != nil, "\(report)")
        #expect(await a.engine.feedLooked == false)
        #expect(await a.engine.pushHoldUntil != nil)
        // Back on a hub that is caught up, the push goes.
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(hub.port)", token: nil, http: http))
        try await a.engine.retryNow()
        #expect(try await a.engine.push().pushed == 1)
        #expect(try await hub.client.request("GET", "/v1/records/agreement/g2").status == 200)
    }
}
