import AccordTestSupport
import Foundation
import Testing

/// Moving a team's hub from SQLite to PostgreSQL (CONTRACT 8.5, README): stop the
/// hub, `accordhub copy`, start it on the database at the same address. The daemon
/// carries on from its cursor: nothing is pushed again, and edits flow both ways.
/// Needs its own database, so it runs with the restart test (`ACCORD_TEST_POSTGRES_DIR`).
@Suite(.enabled(if: TestPostgres.clusterFolder != nil, "needs ACCORD_TEST_POSTGRES_DIR"))
struct PostgresMoveTests {
    static func record(_ id: String, status: String = "negotiating") -> String {
        #"{"kind": "agreement", "id": "\#(id)", "title": "HNS", "parties": ["United States", "Japan"], "status": "\#(status)"}"# + "\n"
    }

    static func lastSeq(_ hub: HubLauncher) async throws -> Int {
        let response = try await hub.client.request("GET", "/v1/changes?since=0&limit=10000")
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return try #require((object?["last_seq"] as? NSNumber)?.intValue)
    }

    @Test func aDaemonCarriesOnAfterItsHubMovesToPostgreSQL() async throws {
        let folder = try TemporaryFolder()
        let sqlite = try HubLauncher(folder: folder)
        let daemon = try DaemonLauncher(hubPort: sqlite.port)
        for index in 0..<5 { try daemon.write("agreement/a\(index).json", Self.record("a\(index)")) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        let before = try await Self.lastSeq(sqlite)
        #expect(before == 5)
        sqlite.process.signal(SIGTERM)
        #expect(try await sqlite.process.waitForExit(timeout: 15) == 0)

        let name = "move\(UInt32.random(in: 0..<UInt32.max))"
        let created = try ProgramRun.run(
            BuiltProducts.repositoryRoot + "/scripts/postgres-cluster.sh", ["createdb", try #require(TestPostgres.clusterFolder), name])
        #expect(created.status == 0, "\(created.stderr)")
        let url = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let copy = try ProgramRun.run(try BuiltProducts.path(of: "accordhub"), ["copy", "--from", sqlite.databasePath, "--to", url])
        #expect(copy.status == 0 && copy.stdout.contains("default: 5 revisions, 5 records"), "\(copy.stdout) \(copy.stderr)")
        // Run again (as after a copy stopped part-way), what arrived whole is skipped.
        let again = try ProgramRun.run(try BuiltProducts.path(of: "accordhub"), ["copy", "--from", sqlite.databasePath, "--to", url])
        #expect(again.status == 0 && again.stdout.contains("default: already copied (last seq 5), skipped"), "\(again.stdout) \(again.stderr)")

        let postgres = try HubLauncher(folder: folder, database: url, port: sqlite.port)
        // The daemon, never restarted, settles against the new hub without a push.
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(try await Self.lastSeq(postgres) == before)
        // And carries on: its edit is seq 6; the hub's change reaches its file.
        try daemon.write("agreement/a0.json", Self.record("a0", status: "signed"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await Self.lastSeq(postgres) == before + 1)
        let current = try await postgres.client.request("GET", "/v1/records/agreement/a1")
        let put = try await postgres.client.request(
            "PUT", "/v1/records/agreement/a1", headers: ["If-Match": try #require(current.header("ETag"))],
            json: #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "expired"}"#)
        #expect(put.status == 200)
        #expect(await eventually(timeout: 20) { daemon.read("agreement/a1.json")?.contains("expired") == true })
    }

    static let fields = #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "signed"}"#

    /// A target whose last seq equals the source's but holds other records (a hub
    /// started on it too early) is refused, not taken as already copied.
    @Test func aTargetWithOtherRecordsAtTheSameSeqIsRefused() async throws {
        let folder = try TemporaryFolder()
        let sqlite = try HubLauncher(folder: folder)
        for index in 0..<3 {
            let put = try await sqlite.client.request("PUT", "/v1/records/agreement/real-\(index)", headers: ["If-None-Match": "*"], json: Self.fields)
            #expect(put.status == 201)
        }
        sqlite.process.signal(SIGTERM)
        #expect(try await sqlite.process.waitForExit(timeout: 15) == 0)
        let name = "other\(UInt32.random(in: 0..<UInt32.max))"
        let created = try ProgramRun.run(
            BuiltProducts.repositoryRoot + "/scripts/postgres-cluster.sh", ["createdb", try #require(TestPostgres.clusterFolder), name])
        let url = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let early = try HubLauncher(folder: try TemporaryFolder(), database: url)
        for index in 0..<3 {
            let put = try await early.client.request("PUT", "/v1/records/agreement/smoke-\(index)", headers: ["If-None-Match": "*"], json: Self.fields)
            #expect(put.status == 201)
        }
        early.process.signal(SIGTERM)
        _ = try await early.process.waitForExit(timeout: 15)
        let copy = try ProgramRun.run(try BuiltProducts.path(of: "accordhub"), ["copy", "--from", sqlite.databasePath, "--to", url])
        #expect(copy.status == 1 && copy.stderr.contains("dataset default already has records"), "\(copy.stdout) \(copy.stderr)")
        #expect(!copy.stdout.contains("already copied"))
    }
}
