import AccordTestSupport
import Foundation
import Synchronization
import Testing

/// PostgreSQL stopped and started again under two hubs while writers keep writing
/// through both (CONTRACT 8.5): while it is down the hubs answer 503 with Retry-After,
/// within their deadline; once it is back they serve again by themselves; every
/// acknowledged write is there exactly once, every retried write lands once (its
/// idempotency key makes a repeat a replay), and the feed has no gap. It stops the
/// whole cluster, so scripts/test.sh runs it on its own, with
/// `ACCORD_TEST_POSTGRES_DIR` naming the cluster's folder.
@Suite(.enabled(if: TestPostgres.clusterFolder != nil && TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_DIR"))
struct PostgresRestartTests {
    static func cluster(_ action: String) throws {
        let run = try ProgramRun.run(BuiltProducts.repositoryRoot + "/scripts/postgres-cluster.sh", [action, try #require(TestPostgres.clusterFolder)])
        guard run.status == 0 else { throw TestSupportError("postgres-cluster.sh \(action) failed: \(run.stderr)") }
    }

    static let news = #"{"headline": "Treaty signed", "published": "2024-05-01", "source": "wire"}"#

    /// What the writers saw: the records acknowledged, and any answer that was
    /// neither a success nor a 503 to retry.
    final class Tally: Sendable {
        let acknowledged = Mutex<[String]>([])
        let wrong = Mutex<[String]>([])
        let stop = Atomic<Bool>(false)
        var count: Int { acknowledged.withLock { $0.count } }
    }

    @Test func theHubsAnswer503WhileTheDatabaseIsDownAndRecoverUnderLoad() async throws {
        let folder = try TemporaryFolder()
        let dataset = "r\(UInt32.random(in: 0..<UInt32.max))"
        let config = try folder.write("hub.toml", "open = true\n[[datasets]]\nname = \"\(dataset)\"\n")
        let url = try #require(TestPostgres.url)
        let hubs = try (0..<2).map { _ in try HubLauncher(arguments: ["--config", config], folder: folder, database: url) }
        let records = "/v1/datasets/\(dataset)/records/news"
        let tally = Tally()

        // Eight writers, each creating records one after another through both hubs in
        // turn, retrying a write with its own key until it is acknowledged.
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var index = 0
                        while !tally.stop.load(ordering: .relaxed) {
                            let id = "w\(writer)-\(index)"
                            var attempt = 0
                            while true {
                                attempt += 1
                                let hub = hubs[(index + attempt) % 2]
                                let put = try? await hub.client.request(
                                    "PUT", "\(records)/\(id)", headers: ["If-None-Match": "*", "Idempotency-Key": "key-\(id)"], json: Self.news,
                                    timeout: 60)
                                if put?.status == 201 { break }
                                if let put, put.status != 503 { tally.wrong.withLock { $0.append("\(id): \(put.status) \(put.text)") } }
                                if attempt > 200 { tally.wrong.withLock { $0.append("\(id): never acknowledged") } }
                                if attempt > 200 { return }
                            }
                            tally.acknowledged.withLock { $0.append(id) }
                            index += 1
                        }
                    }
                }
            }
        }

        #expect(await eventuallyAsync(timeout: 30) { tally.count >= 40 })
        try Self.cluster("stop")
        let before = tally.count
        async let down = hubs[0].client.request(
            "PUT", "\(records)/during", headers: ["If-None-Match": "*", "Idempotency-Key": "during-1"], json: Self.news, timeout: 60)
        async let read = hubs[1].client.request("GET", "\(records)/w0-0", timeout: 60)
        let (refused, unread) = try await (down, read)
        #expect(refused.status == 503 && refused.header("Retry-After") != nil, "\(refused.status) \(refused.text)")
        #expect(unread.status == 503 && unread.header("Retry-After") != nil, "\(unread.status) \(unread.text)")

        try Self.cluster("start")
        let retried = try await eventuallyAsync(timeout: 30) {
            let put = try await hubs[0].client.request(
                "PUT", "\(records)/during", headers: ["If-None-Match": "*", "Idempotency-Key": "during-1"], json: Self.news, timeout: 30)
            return put.status == 201
        }
        #expect(retried)
        // The writers carry on through both hubs by themselves.
        #expect(await eventuallyAsync(timeout: 60) { tally.count >= before + 40 })
        tally.stop.store(true, ordering: .relaxed)
        await writers.value

        #expect(tally.wrong.withLock { $0 }.isEmpty, "\(tally.wrong.withLock { $0.prefix(5) })")
        // Creates only: one change per record, so a feed without gaps or repeats holds
        // seqs 1...last, each for another record, and exactly the acknowledged ones.
        var seen: [(seq: Int64, id: String)] = []
        var last: Int64 = 0
        repeat {
            let page = try await hubs[1].client.request("GET", "/v1/datasets/\(dataset)/changes?since=\(seen.last?.seq ?? 0)&limit=1000")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(page.body)) as? [String: Any])
            last = try #require((object["last_seq"] as? NSNumber)?.int64Value)
            let changes = object["changes"] as? [[String: Any]] ?? []
            seen += changes.compactMap { change in
                guard let seq = (change["seq"] as? NSNumber)?.int64Value, let id = change["id"] as? String else { return nil }
                return (seq, id)
            }
            if changes.isEmpty { break }
        } while (seen.last?.seq ?? 0) < last
        #expect(seen.map(\.seq) == Array(1...last), "the feed has gaps or repeats")
        let expected = Set(tally.acknowledged.withLock { $0 } + ["during"])
        #expect(seen.count == expected.count && Set(seen.map(\.id)) == expected, "feed and acknowledged writes differ")
        #expect(hubs.allSatisfy { $0.process.isRunning })
    }
}
