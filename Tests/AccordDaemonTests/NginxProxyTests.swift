import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The README's reverse-proxy example (`config/nginx-accordhub.conf`) run with real
/// nginx: TLS at nginx with a private CA, the hub behind it on loopback with a token,
/// a daemon syncing both ways through it (long-polls included).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx"), "needs nginx (apt-get install nginx-light)"))
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
        var server = try String(contentsOfFile: BuiltProducts.repositoryRoot + "/config/nginx-accordhub.conf", encoding: .utf8)
        for (from, to) in [
            ("listen 443 ssl http2;", "listen 127.0.0.1:\(port) ssl http2;"), ("/etc/ssl/accord/hub.crt", certificate.certificate),
            ("/etc/ssl/accord/hub.key", certificate.key), ("127.0.0.1:8480", "127.0.0.1:\(hub.port)"),
        ] {
            #expect(server.contains(from), "the example no longer has \(from)")
            server = server.replacingOccurrences(of: from, with: to)
        }
        let temp = folder.child("nginx-temp")
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let main = """
            daemon off;
            master_process off;
            pid \(folder.child("nginx.pid"));
            error_log \(folder.child("nginx-error.log")) warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
            \(server)
            }
            """
        let nginx = try ChildProcess("/usr/sbin/nginx", ["-p", folder.path, "-c", try folder.write("nginx.conf", main)], logFolder: folder.path)
        defer { nginx.signal(SIGTERM) }
        #expect(
            try await eventuallyAsync(timeout: 15) {
                let health = try ChildProcess(
                    "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.certificate, "https://127.0.0.1:\(port)/v1/health"],
                    logFolder: folder.path)
                _ = try await health.waitForExit(timeout: 10)
                return health.standardOutput == "200"
            }, "nginx did not come up: \((try? String(contentsOfFile: folder.child("nginx-error.log"), encoding: .utf8)) ?? "")")

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
        let refused = try ChildProcess(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.certificate, "https://127.0.0.1:\(port)/v1/changes"],
            logFolder: folder.path)
        _ = try await refused.waitForExit(timeout: 10)
        #expect(refused.standardOutput == "401")
    }
}
