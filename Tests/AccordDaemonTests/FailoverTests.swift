import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// A daemon with several hubs in `remote` passes over one that answers but cannot
/// serve (here real nginx answering 503, as a proxy whose backend is gone does), not
/// only one it cannot reach.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: NginxLauncher.binary), "needs nginx (apt-get install nginx-light)"))
struct FailoverTests {
    @Test func aHubThatAnswers503IsPassedOverForTheNext() async throws {
        let port = try LoopbackSocket.freePort()
        let unavailable = try await NginxLauncher(
            server: """
                server {
                    listen 127.0.0.1:\(port);
                    location = /ping { return 200; }
                    location / { add_header Retry-After 1 always; return 503; }
                }
                """, healthURL: "http://127.0.0.1:\(port)/ping", caFile: "/dev/null")
        let hub = try HubLauncher()
        let daemon = try DaemonLauncher(hubPort: hub.port, remotes: ["http://127.0.0.1:\(port)", "http://127.0.0.1:\(hub.port)"])
        try daemon.write("agreement/past-503.json", agreementText("past-503"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(try await hub.client.request("GET", "/v1/records/agreement/past-503").status == 200)
        #expect(try daemon.status()["hub"] as? String == "http://127.0.0.1:\(hub.port)")
        // And back: a change on the hub reaches the file through the hub in use.
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/from-hub", headers: ["If-None-Match": "*"],
            json: #"{"title": "From the hub", "parties": ["A", "B"], "status": "signed"}"#)
        #expect(put.status == 201)
        #expect(await eventually(timeout: 30) { daemon.read("agreement/from-hub.json")?.contains("From the hub") == true })
        _ = unavailable
    }
}
