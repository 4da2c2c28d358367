import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

/// One replica: its own root, its own state database, the shared hub.
struct Replica {
    let folder: TemporaryFolder
    let engine: SyncEngine
    let store: StateStore
    var root: String { folder.child("root") }

    init(
        hub: HubLauncher, http: HTTPClient, policy: ConflictPolicy = .merge, port: Int? = nil, retry: RetryPolicy = RetryPolicy(),
        scanBatchSize: Int = 2000, clock: any SyncClock = WallClock()
    ) throws {
        folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.child("root"), withIntermediateDirectories: true)
        store = try StateStore(path: folder.child("state.db"))
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        var settings = SyncSettings(root: folder.child("root"), schemas: schemas, policy: policy, retry: retry)
        settings.scanBatchSize = scanBatchSize
        engine = try SyncEngine(
            settings: settings,
            store: store, hub: HubClient(baseURL: "http://127.0.0.1:\(port ?? hub.port)", token: nil, http: http), clock: clock)
    }

    func write(_ relative: String, _ text: String) throws {
        try folder.write("root/" + relative, text)
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    /// The record's fields as found anywhere in the root, via a real scan.
    func fields(_ key: RecordKey) throws -> JSONObject? {
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        let report = RecordValidator(schemas: schemas).validate(paths: [root])
        return report.validRecords.first { $0.record.key == key }?.record.fields
    }

    @discardableResult
    func sync() async throws -> SyncReport { try await engine.syncOnce() }

    /// Two replicas of one hub that agree on `agreement/hns` as A first wrote it.
    static func pairAgreeingOnHNS(_ hub: HubLauncher, _ http: HTTPClient) async throws -> (a: Replica, b: Replica) {
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        return (a, b)
    }
}

func agreement(_ id: String, title: String = "HNS FY2021", status: String = "negotiating") -> String {
    JSONWriter.pretty(
        .object(
            Record(
                key: RecordKey(kind: "agreement", id: id),
                fields: [
                    "title": .string(title), "parties": .array([.string("United States"), .string("Japan")]), "status": .string(status),
                ]
            ).object))
}

@Suite("Two replicas through the real hub")
struct TwoReplicaTests {
    let key = RecordKey(kind: "agreement", id: "hns")

    @Test func createEditDeleteFlowBothWays() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        try a.write("agreements/hns.json", agreement("hns"))
        #expect(try await a.sync().pushed == 1)
        #expect(try await b.sync().pulled == 1)
        #expect(b.read("agreement/hns.json") == agreement("hns"), "a record with no home lands in kind/id.json")
        // B edits; A receives it in its own file.
        try b.write("agreement/hns.json", agreement("hns", status: "extended"))
        try await b.sync()
        try await a.sync()
        #expect(a.read("agreements/hns.json") == agreement("hns", status: "extended"))
        // Nothing more to do on either side: no echo loop.
        #expect(try await a.sync() == SyncReport())
        #expect(try await b.sync() == SyncReport())
        // A deletes; B's file goes.
        try FileManager.default.removeItem(atPath: a.root + "/agreements/hns.json")
        try await a.sync()
        try await b.sync()
        #expect(b.read("agreement/hns.json") == nil)
        let revisions = try await RawHTTPClient(port: hub.port).request("GET", "/v1/records/agreement/hns/revisions")
        #expect(try JSONParser.parse(revisions.body).objectValue?["revisions"]?.arrayValue?.count == 3, "create, edit, delete: each once")
    }

    @Test func jsonlLineEditsAndMovesFlow() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        let line1 = #"{"kind": "news", "id": "n1", "headline": "one", "published": "2021-01-28", "source": "s"}"#
        let line2 = #"{"kind": "news", "id": "n2", "headline": "two", "published": "2021-01-28", "source": "s"}"#
        try a.write("set.jsonl", line1 + "\n" + line2 + "\n")
        try await a.sync()
        try await b.sync()
        #expect(try b.fields(RecordKey(kind: "news", id: "n2"))?["headline"] == .string("two"))
        // B edits n2 in its own file; A's .jsonl line changes in place.
        try b.write("news/n2.json", b.read("news/n2.json")!.replacingOccurrences(of: "\"two\"", with: "\"TWO\""))
        try await b.sync()
        try await a.sync()
        #expect(a.read("set.jsonl") == line1 + "\n" + line2.replacingOccurrences(of: "\"two\"", with: "\"TWO\"") + "\n")
        // Moving a record to another file is not a change.
        try FileManager.default.removeItem(atPath: a.root + "/set.jsonl")
        try a.write("moved/one.json", line1)
        try a.write("moved/two.json", line2.replacingOccurrences(of: "\"two\"", with: "\"TWO\""))
        let moved = try await a.sync()
        #expect(moved.pushed == 0 && moved.queued == 0)
    }

    @Test func differentFieldsMerge() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        try a.write("hns.json", agreement("hns", title: "HNS FY2021 (extended)"))
        try b.write("agreement/hns.json", agreement("hns", status: "extended"))
        try await a.sync()
        let report = try await b.sync()
        #expect(report.merged >= 1 && report.conflicts == 0)
        try await a.sync()
        let expected: JSONObject = try #require(try JSONParser.parse(agreement("hns", title: "HNS FY2021 (extended)", status: "extended")).objectValue)
            .removing(["kind", "id"])
        #expect(try a.fields(key) == expected)
        #expect(try b.fields(key) == expected)
        #expect(try a.store.openConflicts().isEmpty && b.store.openConflicts().isEmpty)
    }

    @Test("the same field under each policy", arguments: [ConflictPolicy.merge, .preferLocal, .preferRemote, .newest, .manual])
    func sameField(_ policy: ConflictPolicy) async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        // B's clock runs a minute ahead, so its edit is the newer one by construction,
        // not by how fast this test runs.
        let b = try Replica(hub: hub, http: http, policy: policy, clock: ManualClock(WallClock().now() + 60))
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        try a.write("hns.json", agreement("hns", status: "agreed"))
        try await a.sync()  // the hub takes A's value first
        try b.write("agreement/hns.json", agreement("hns", status: "signed"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: b.root + "/agreement/hns.json")
        try await b.sync()
        try await a.sync()
        let statusA = try a.fields(key)?["status"]?.stringValue
        let statusB = try b.fields(key)?["status"]?.stringValue
        switch policy {
        case .merge, .preferRemote:
            #expect(statusA == "agreed" && statusB == "agreed")
            #expect(try b.store.openConflicts().count == (policy == .merge ? 1 : 0))
            if policy == .merge { #expect(try b.store.openConflicts().first?.local == .string("signed"), "the local value is kept in the conflict") }
        case .preferLocal, .newest:
            #expect(statusA == "signed" && statusB == "signed")
        case .manual:
            #expect(statusA == "agreed", "held: nothing pushed")
            #expect(statusB == "signed", "held: nothing overwritten")
            #expect(try b.store.openConflicts().count == 1)
        }
    }

    @Test func newestKeepsTheHubsValueWhenItIsNewer() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http, policy: .newest)
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        try b.write("agreement/hns.json", agreement("hns", status: "signed"))  // older edit, not yet synced
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: b.root + "/agreement/hns.json")
        try a.write("hns.json", agreement("hns", status: "agreed"))
        try await a.sync()
        try await b.sync()
        #expect(try b.fields(key)?["status"] == .string("agreed"))
    }

    @Test func aDuplicateFoundAfterItsFirstCopyWasBatchedIsNotPushed() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http, scanBatchSize: 1)
        try a.write("a.json", agreement("hns"))
        try a.write("b.json", agreement("other"))
        try a.write("c.json", agreement("hns", status: "signed"))
        let (queued, problems) = try await a.engine.scan()
        #expect(queued == 1, "only agreement/other")
        #expect(try a.store.pendingOperation(key) == nil)
        #expect(problems.filter { $0.reason.hasPrefix("duplicate record agreement/hns") }.count == 2)
        try await a.sync()
        #expect(try await RawHTTPClient(port: hub.port).request("GET", "/v1/records/agreement/hns").status == 404)
    }

    @Test func aDeleteAgainstAnEditKeepsTheEdit() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let a = try Replica(hub: hub, http: http)
        let b = try Replica(hub: hub, http: http)
        try a.write("hns.json", agreement("hns"))
        try await a.sync()
        try await b.sync()
        try FileManager.default.removeItem(atPath: a.root + "/hns.json")
        try b.write("agreement/hns.json", agreement("hns", status: "extended"))
        try await b.sync()  // the edit reaches the hub first
        try await a.sync()  // A's delete meets the edit: the edit wins
        try await b.sync()
        #expect(try a.fields(key)?["status"] == .string("extended"))
        #expect(try b.fields(key)?["status"] == .string("extended"))
    }
}
