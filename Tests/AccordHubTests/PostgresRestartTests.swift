import AccordTestSupport
import Foundation
import Testing

/// PostgreSQL stopped and started again under a hub (CONTRACT 8.5): while it is down
/// the hub answers 503 with Retry-After, within its deadline, and once it is back the
/// hub serves again by itself, every acknowledged write still there. It stops the
/// whole cluster, so scripts/test.sh runs it on its own, with
/// `ACCORD_TEST_POSTGRES_DIR` naming the cluster's folder.
@Suite(.enabled(if: TestPostgres.clusterFolder != nil && TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_DIR"))
struct PostgresRestartTests {
    static func cluster(_ action: String) throws {
        let run = try ProgramRun.run(BuiltProducts.repositoryRoot + "/scripts/postgres-cluster.sh", [action, try #require(TestPostgres.clusterFolder)])
        guard run.status == 0 else { throw TestSupportError("postgres-cluster.sh \(action) failed: \(run.stderr)") }
    }

    @Test func theHubAnswers503WhileTheDatabaseIsDownAndRecoversByItself() async throws {
        let folder = try TemporaryFolder()
        let dataset = "r\(UInt32.random(in: 0..<UInt32.max))"
        let config = try folder.write("hub.toml", "open = true\n[[datasets]]\nname = \"\(dataset)\"\n")
        let hub = try HubLauncher(arguments: ["--config", config], folder: folder, database: try #require(TestPostgres.url))
        let records = "/v1/datasets/\(dataset)/records/news"
        let body = #"{"headline": "Treaty signed", "published": "2024-05-01", "source": "wire"}"#
        var acknowledged: [String] = []
        for index in 0..<20 {
            let put = try await hub.client.request("PUT", "\(records)/before-\(index)", headers: ["If-None-Match": "*"], json: body)
            if put.status == 201 { acknowledged.append("before-\(index)") }
        }
        #expect(acknowledged.count == 20)

        try Self.cluster("stop")
        let down = try await hub.client.request(
            "PUT", "\(records)/during", headers: ["If-None-Match": "*", "Idempotency-Key": "during-1"], json: body, timeout: 60)
        #expect(down.status == 503 && down.header("Retry-After") != nil, "\(down.status) \(down.text)")
        #expect(try await hub.client.request("GET", "\(records)/before-0", timeout: 60).status == 503)

        try Self.cluster("start")
        // Back by itself: the retried write lands once (its key makes a repeat a replay).
        let retried = try await eventuallyAsync(timeout: 30) {
            let put = try await hub.client.request(
                "PUT", "\(records)/during", headers: ["If-None-Match": "*", "Idempotency-Key": "during-1"], json: body, timeout: 30)
            return put.status == 201
        }
        #expect(retried)
        for id in acknowledged { #expect(try await hub.client.request("GET", "\(records)/\(id)").status == 200, "\(id) lost") }
        #expect(hub.process.isRunning)
    }
}
