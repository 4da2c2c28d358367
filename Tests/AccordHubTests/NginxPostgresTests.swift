import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The README's example for several hubs (`config/nginx-accordhubs-postgres.conf`) run
/// with real nginx: TLS at nginx with a private CA, two hubs on one PostgreSQL database
/// behind it, a daemon syncing through it; one hub is killed and the daemon, which
/// knows only nginx, carries on both ways.
@Suite(
    .enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: NginxLauncher.binary), "needs nginx (apt-get install nginx-light)"))
struct NginxPostgresTests {
    static func record(_ id: String, status: String = "negotiating") -> String {
        #"{"kind": "agreement", "id": "\#(id)", "title": "HNS", "parties": ["United States", "Japan"], "status": "\#(status)"}"# + "\n"
    }

    @Test func aDaemonSyncsThroughNginxWhileOneOfTwoHubsDies() async throws {
        let ca = try PrivateCA()
        let certificate = try ca.issue("proxy")
        let folder = try TemporaryFolder()
        let dataset = "n\(UInt32.random(in: 0..<UInt32.max))"
        let hubConfig = try folder.write(
            "hub.toml",
            "[[datasets]]\nname = \"\(dataset)\"\n[[tokens]]\nname = \"team\"\nsha256 = \"\(ContentHash.hex(Array("team-token".utf8)))\"\naccess = \"rw\"\n")
        let token = try folder.write("token", "team-token\n")
        let url = try #require(TestPostgres.url)
        let hubs = try (0..<2).map { _ in try HubLauncher(arguments: ["--config", hubConfig], folder: folder, database: url) }
        let port = try LoopbackSocket.freePort()
        let server = try NginxLauncher.example(
            "config/nginx-accordhubs-postgres.conf",
            replacing: [
                ("listen 443 ssl http2;", "listen 127.0.0.1:\(port) ssl http2;"), ("/etc/ssl/accord/hub.crt", certificate.certificate),
                ("/etc/ssl/accord/hub.key", certificate.key), ("127.0.0.1:8480", "127.0.0.1:\(hubs[0].port)"),
                ("127.0.0.1:8481", "127.0.0.1:\(hubs[1].port)"),
            ])
        let nginx = try await NginxLauncher(server: server, healthURL: "https://127.0.0.1:\(port)/v1/health", caFile: ca.certificate)
        let daemon = try DaemonLauncher(
            hubPort: port, hubScheme: "https",
            extraConfig: "dataset = \"\(dataset)\"\ntoken_file = \"\(token)\"\n[tls]\nca_file = \"\(ca.certificate)\"\n")
        let auth = ["Authorization": "Bearer team-token"]
        for index in 0..<20 { try daemon.write("agreement/a\(index).json", Self.record("a\(index)")) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)

        hubs[0].process.signal(SIGKILL)
        _ = try await hubs[0].process.waitForExit(timeout: 10)
        // Through the hub that is left: the daemon's edits arrive, and a change made on
        // that hub reaches the daemon's file through its long-poll.
        for index in 20..<40 { try daemon.write("agreement/a\(index).json", Self.record("a\(index)")) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        let feed = try await hubs[1].client.request("GET", "/v1/datasets/\(dataset)/changes?since=0&limit=1000", headers: auth)
        let changes = (try JSONSerialization.jsonObject(with: Data(feed.body)) as? [String: Any])?["changes"] as? [Any]
        #expect(changes?.count == 40)
        let current = try await hubs[1].client.request("GET", "/v1/datasets/\(dataset)/records/agreement/a3", headers: auth)
        let put = try await hubs[1].client.request(
            "PUT", "/v1/datasets/\(dataset)/records/agreement/a3", headers: auth.merging(["If-Match": try #require(current.header("ETag"))]) { a, _ in a },
            json: #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "signed"}"#)
        #expect(put.status == 200)
        #expect(await eventually(timeout: 30) { daemon.read("agreement/a3.json")?.contains("signed") == true })
        withExtendedLifetime(nginx) {}
    }
}
