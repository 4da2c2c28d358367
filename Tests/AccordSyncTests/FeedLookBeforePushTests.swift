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
        for id in ["f1", "f2", "f3"] { try a.write("agreement/\(id).json", agreement(id)) }
        try await a.sync()
        #expect(try await a.engine.cursor() == 3)

        // Another database at another address, which has taken one change.
        let second = try HubLauncher()
        let put = try await second.client.request(
            "PUT", "/v1/records/agreement/restored", headers: ["If-None-Match": "*"],
            json: #"{"title": "After the restore", "parties": ["A", "B"], "status": "signed"}"#)
        #expect(put.status == 201)
        await a.engine.reconfigure(await a.engine.settings, hub: HubClient(baseURL: "http://127.0.0.1:\(second.port)", token: nil, http: http))

        // A create, which any hub would take.
        try a.write("agreement/f4.json", agreement("f4"))
        #expect(try await a.engine.scan().queued == 1)
        let report = try await a.engine.push()
        #expect(report.pushed == 0)
        #expect(report.unreachable?.contains("the hub's changes feed ends at seq 1, before this root's cursor 3") == true, "\(report)")
        #expect(await a.engine.hubBehind != nil)
        #expect(try await second.client.request("GET", "/v1/records/agreement/f4").status == 404)
        // Held with the push backoff: not due before it ends (the daemon's loop
        // would spin on it).
        let hold = try #require(await a.engine.pushHoldUntil)
        #expect(try #require(try await a.engine.nextAttemptTime()) >= hold)
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
