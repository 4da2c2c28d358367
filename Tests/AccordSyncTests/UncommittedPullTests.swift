import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

/// A pulled version whose file was written but whose state commit failed (a full disk
/// under the state database, a kill): the root holds a hub revision newer than its
/// base. When the hub then moves on, that version must be known as the hub's own and
/// give way, not meet the new one as a local edit.
@Suite("A pull written but not committed")
struct UncommittedPullTests {
    let key = RecordKey(kind: "agreement", id: "hns")

    /// Two replicas agree on `hns`; A then writes `title: "X"` (which B's file takes
    /// without B's state knowing) and then `then` (by default `title: "Y", status:
    /// "signed"`).
    func setUp(
        _ hub: HubLauncher, _ http: HTTPClient, then: (Replica) throws -> Void = { try $0.write("hns.json", agreement("hns", title: "Y", status: "signed")) }
    ) async throws -> (a: Replica, b: Replica) {
        let (a, b) = try await Replica.pairAgreeingOnHNS(hub, http)
        try a.write("hns.json", agreement("hns", title: "X"))
        try await a.sync()
        try b.write("agreement/hns.json", agreement("hns", title: "X"))
        try then(a)
        try await a.sync()
        return (a, b)
    }

    func revisionCount(_ hub: HubLauncher) async throws -> Int? {
        let revisions = try await RawHTTPClient(port: hub.port).request("GET", "/v1/records/agreement/hns/revisions")
        return try JSONParser.parse(revisions.body).objectValue?["revisions"]?.arrayValue?.count
    }

    @Test func theNextSyncTakesTheHubsVersionWithoutAConflict() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http)
        // The scan queues the file as an edit; the push meets the hub's newer version.
        let report = try await b.sync()
        #expect(report.conflicts == 0)
        #expect(b.read("agreement/hns.json") == agreement("hns", title: "Y", status: "signed"))
        #expect(try b.store.openConflicts().isEmpty)
        #expect(try await revisionCount(hub) == 3, "B pushed nothing back")
        #expect(try await b.sync() == SyncReport())
    }

    @Test func aPullBeforeAnyScanTakesTheHubsVersionToo() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http)
        // The file changed since B indexed it, so the pull holds the write back until a
        // scan has read the file; it opens no conflict meanwhile.
        let report = try await b.engine.pull()
        #expect(report.conflicts == 0)
        try await b.sync()
        #expect(try b.store.openConflicts().isEmpty)
        #expect(b.read("agreement/hns.json") == agreement("hns", title: "Y", status: "signed"))
        #expect(try await revisionCount(hub) == 3)
    }

    @Test func aRealLocalEditStillConflicts() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http)
        try b.write("agreement/hns.json", agreement("hns", title: "Z"))
        let report = try await b.sync()
        #expect(report.conflicts == 1)
        let open = try b.store.openConflicts()
        #expect(open.map(\.path) == [["title"]])
    }

    /// The hub deleted the record after the version B's file holds: no conflict is
    /// counted (a deletion never conflicts), but the stale file must not bring the
    /// record back.
    @Test func aDeletionOnTheHubIsTakenNotUndone() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http) { try FileManager.default.removeItem(atPath: $0.root + "/hns.json") }
        try await b.sync()
        #expect(b.read("agreement/hns.json") == nil)
        #expect(try await revisionCount(hub) == 3, "B pushed the stale version back over the deletion")
    }

    /// The hub set the title back to its first value: B's file, holding the version
    /// between, must give way rather than push its title back.
    @Test func aValueSetBackOnTheHubIsTakenNotUndone() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await setUp(hub, http) { try $0.write("hns.json", agreement("hns", status: "signed")) }
        try await b.sync()
        #expect(b.read("agreement/hns.json") == agreement("hns", status: "signed"))
        #expect(try await revisionCount(hub) == 3, "B pushed its stale title back")
    }
}
