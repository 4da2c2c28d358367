import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

@Suite("Sync through a faulty network")
struct FaultToleranceTests {
    /// Syncs both replicas until neither has work left and they hold the same records.
    func converge(_ replicas: [Replica], deadline: Duration = .seconds(90)) async throws {
        let end = ContinuousClock.now.advanced(by: deadline)
        while ContinuousClock.now < end {
            for replica in replicas { _ = try? await replica.sync() }
            var pending = 0
            for replica in replicas { pending += try replica.store.pendingCount() }
            let views = try replicas.map { try snapshot($0) }
            if pending == 0, views.dropFirst().allSatisfy({ $0 == views[0] }) {
                // One more quiet round on each side: nothing may change.
                for replica in replicas { _ = try? await replica.sync() }
                if try replicas.map({ try snapshot($0) }) == views { return }
            }
            try await Task.sleep(for: .milliseconds(20))  // let backoff timers pass
        }
        throw TestSupportError("replicas did not converge within \(deadline)")
    }

    func snapshot(_ replica: Replica) throws -> [RecordKey: JSONObject] {
        let schemas = try SchemaDirectoryForTests.load()
        var result: [RecordKey: JSONObject] = [:]
        for located in RecordValidatorForTests.validate(replica.root, schemas) { result[located.record.key] = located.record.fields }
        return result
    }

    @Test func thirtyPercentFaultsConvergeWithoutDuplicatesOrLoss() async throws {
        let hub = try HubLauncher()
        let proxy = try FaultProxy(upstreamPort: hub.port, rates: .init(faultRate: 0.3), seed: 42)
        let http = HTTPClient()
        defer { http.shutdown() }
        let retry = RetryPolicy(baseDelayMilliseconds: 5, maxDelayMilliseconds: 100)
        let a = try Replica(hub: hub, http: http, port: proxy.port, retry: retry)
        let b = try Replica(hub: hub, http: http, port: proxy.port, retry: retry)
        for index in 0..<10 {
            try a.write("agreements/a\(index).json", agreement("a\(index)"))
            try b.write(
                "news.jsonl",
                (0..<10).map { #"{"kind": "news", "id": "b\#($0)", "headline": "h\#($0)", "published": "2021-01-28", "source": "s"}"# }.joined(separator: "\n")
                    + "\n")
        }
        try await converge([a, b])
        #expect(try snapshot(a).count == 20)

        // A edits statuses, B edits titles; a0 gets both (different fields merge).
        for index in 0..<5 { try a.write("agreements/a\(index).json", agreement("a\(index)", status: "extended")) }
        for index in [0, 5, 6, 7, 8, 9] {
            let path = index < 10 ? "agreement/a\(index).json" : ""
            try b.write(path, agreement("a\(index)", title: "title by B"))
        }
        try await converge([a, b])

        let final = try snapshot(a)
        #expect(try snapshot(b) == final)
        for index in 0..<10 {
            let fields = try #require(final[RecordKey(kind: "agreement", id: "a\(index)")])
            #expect(fields["status"] == .string(index < 5 ? "extended" : "negotiating"), "a\(index): A's edit lost")
            #expect(fields["title"] == .string(index == 0 || index >= 5 ? "title by B" : "HNS FY2021"), "a\(index): B's edit lost")
        }
        // Every operation reached the hub once: creates make one revision, each edit one more.
        let client = RawHTTPClient(port: hub.port)
        for index in 0..<10 {
            let history = try await client.request("GET", "/v1/records/agreement/a\(index)/revisions")
            let count = try JSONParser.parse(history.body).objectValue?["revisions"]?.arrayValue?.count ?? 0
            #expect(count == (index == 0 ? 3 : index < 5 || index >= 5 ? 2 : 1), "a\(index) has \(count) revisions")
        }
        for index in 0..<10 {
            let history = try await client.request("GET", "/v1/records/news/b\(index)/revisions")
            #expect(try JSONParser.parse(history.body).objectValue?["revisions"]?.arrayValue?.count == 1)
        }
        #expect(proxy.injected.keys.count > 3, "faults of several kinds were injected: \(proxy.injected)")
        #expect(try a.store.openConflicts().isEmpty && b.store.openConflicts().isEmpty)
    }

    @Test func aHubThatIsDownKeepsWorkOnDiskUntilItReturns() async throws {
        let hub = try HubLauncher()
        let proxy = try FaultProxy(upstreamPort: hub.port, rates: .init(faultRate: 1, faults: [.dropBefore]))
        let http = HTTPClient()
        defer { http.shutdown() }
        let retry = RetryPolicy(baseDelayMilliseconds: 5, maxDelayMilliseconds: 50)
        let a = try Replica(hub: hub, http: http, port: proxy.port, retry: retry)
        for index in 0..<20 { try a.write("agreements/a\(index).json", agreement("a\(index)")) }
        _ = try? await a.sync()
        #expect(try a.store.pendingCount() == 20, "the work waits in the outbox on disk")
        proxy.setRates(.init(faultRate: 0))
        let b = try Replica(hub: hub, http: http, port: proxy.port, retry: retry)
        try await converge([a, b])
        #expect(try snapshot(b).count == 20)
    }
}

/// Small wrappers so the fault tests read the roots the way a user would.
enum SchemaDirectoryForTests {
    static func load() throws -> SchemaSet { try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas") }
}

enum RecordValidatorForTests {
    static func validate(_ root: String, _ schemas: SchemaSet) -> [LocatedRecord] {
        RecordValidator(schemas: schemas).validate(paths: [root]).validRecords
    }
}
