import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The README's reverse-proxy example (`config/nginx-accordhub.conf`) run with real
/// nginx: TLS at nginx with a private CA, the hub behind it on loopback with a token,
/// a daemon syncing both ways through it (long-polls included).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: NginxLauncher.binary), "needs nginx (apt-get install nginx-light)"))
struct NginxProxyTests {
    @Test func aDaemonSyncsThroughTheExampleNginxConfig() async throws {
        let ca = try PrivateCA()
        let certificate = try ca.issue("proxy")
        let folder = try TemporaryFolder()
        let hubConfig = try folder.write(
            "hub.toml", "[[tokens]]\nname = \"team\"\nsha256 = \"\(ContentHash.hex(Array("team-token".utf8)))\"\naccess = \"rw\"\n")
        let token = try folder.write("token", "team-token\n")
        let hub = try HubLauncher(arguments: ["--config", hubConfig])
        let port = try LoopbackSocket.freePort()
        // The shipped server block, pointed at this hub, port and certificate.
        let server = try NginxLauncher.example(
            "config/nginx-accordhub.conf",
            replacing: [
                ("listen 443 ssl http2;", "listen 127.0.0.1:\(port) ssl http2;"), ("/etc/ssl/accord/hub.crt", certificate.certificate),
                ("/etc/ssl/accord/hub.key", certificate.key), ("127.0.0.1:8480", "127.0.0.1:\(hub.port)"),
            ])
        let nginx = try await NginxLauncher(server: server, healthURL: "https://127.0.0.1:\(port)/v1/health", caFile: ca.certificate)

        let daemon = try DaemonLauncher(
            hubPort: port, hubScheme: "https", extraConfig: "token_file = \"\(token)\"\n[tls]\nca_file = \"\(ca.certificate)\"\n")
        try daemon.write("agreement/via-nginx.json", agreementText("via-nginx"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        let stored = try await hub.client.request("GET", "/v1/records/agreement/via-nginx", headers: ["Authorization": "Bearer team-token"])
        #expect(stored.status == 200)
        // Back through the proxy, woken by the daemon's long-poll.
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/from-hub", headers: ["Authorization": "Bearer team-token", "If-None-Match": "*"],
            json: #"{"title": "Through nginx", "parties": ["A", "B"], "status": "signed"}"#)
        #expect(put.status == 201)
        #expect(await eventually(timeout: 30) { daemon.read("agreement/from-hub.json")?.contains("Through nginx") == true })
        // Without the token nginx passes the hub's 401 through.
        #expect(try await NginxLauncher.status("https://127.0.0.1:\(port)/v1/changes", caFile: ca.certificate, logFolder: folder.path) == "401")
        withExtendedLifetime(nginx) {}
    }
}
