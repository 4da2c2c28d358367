import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

/// A page the feed read before a push moved a base (here, a merge of both sides'
/// edits) must not be applied afterwards: it holds the hub's version the merge
/// replaced, and would put it into the file until the next page.
@Suite("A feed page read before a push")
struct StalePageTests {
    @Test func isNotAppliedOverTheMergeThePushMade() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (a, b) = try await Replica.pairAgreeingOnHNS(hub, http)
        try a.write("hns.json", agreement("hns", title: "X"))
        try await a.sync()
        try b.write("agreement/hns.json", agreement("hns", status: "signed"))
        // The feed reads A's version while B's edit waits to be pushed.
        let since = try b.store.cursor()
        let movedBefore = await b.engine.basesMoved
        let page = try await b.engine.hub.changes(since: since, limit: 500, waitSeconds: 0, fields: true)
        #expect(page.changes.count == 1)
        _ = try await b.engine.scan()
        _ = try await b.engine.push()
        _ = try await b.engine.push()
        let merged = agreement("hns", title: "X", status: "signed")
        #expect(b.read("agreement/hns.json") == merged, "the push merged both edits")
        #expect(try b.store.pendingOperations([RecordKey(kind: "agreement", id: "hns")]).isEmpty, "and sent the merge")
        let report = try await b.engine.apply(page, since: since, basesMoved: movedBefore)
        #expect(report == SyncReport())
        #expect(b.read("agreement/hns.json") == merged, "the merge stays in the file")
        try await b.sync()
        #expect(b.read("agreement/hns.json") == merged)
        try await a.sync()
        #expect(a.read("hns.json") == merged)
    }
}

extension StalePageTests {
    /// The echo of this root's own push, read before its next push of the same record:
    /// applied, it would put the first push's version back into the file.
    @Test func ownEarlierPushIsNotAppliedOverTheNextOne() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let (_, b) = try await Replica.pairAgreeingOnHNS(hub, http)
        let since = try b.store.cursor()
        try b.write("agreement/hns.json", agreement("hns", status: "signed"))
        _ = try await b.engine.scan()
        _ = try await b.engine.push()
        let movedBefore = await b.engine.basesMoved
        let page = try await b.engine.hub.changes(since: since, limit: 500, waitSeconds: 0, fields: true)
        try b.write("agreement/hns.json", agreement("hns", status: "in_force"))
        _ = try await b.engine.scan()
        _ = try await b.engine.push()
        _ = try await b.engine.apply(page, since: since, basesMoved: movedBefore)
        #expect(b.read("agreement/hns.json") == agreement("hns", status: "in_force"), "the later push stays in the file")
    }
}
