import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The real hub with its default limits under idle connections, long-polls past the
/// cap, slow clients and an unauthenticated 100 MB PUT, all at once, while a real
/// daemon syncs through it. Speed is measured by `accord-bench hubload`; this checks
/// that everything is answered as the contract says and memory stays bounded.
@Suite struct HubUnderLoadTests {
    @Test func theHubKeepsServingADaemonUnderHostileLoad() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write(
            "hub.toml", "[[tokens]]\nname = \"team\"\nsha256 = \"\(ContentHash.hex(Array("team-token".utf8)))\"\naccess = \"rw\"\n")
        let token = try folder.write("token", "team-token\n")
        let hub = try HubLauncher(arguments: ["--config", config], folder: folder)
        let load = HubLoad(port: hub.port)
        defer { load.stop() }

        try load.openIdle(300)
        try load.startSlowClients(20, token: "team-token")
        // 600 long-polls against a cap of 512 (the default): 88 get 503 at once.
        try load.startLongPolls(600, since: 0, token: "team-token")
        #expect(await eventually(timeout: 30) { load.longPollAnswers(status: 503) == 600 - 512 }, "\(load.longPollAnswers(status: 503))")
        let huge = try load.unauthenticatedHugePut()
        #expect(huge.statusLine.hasPrefix("HTTP/1.1 401"), "\(huge)")
        #expect(huge.bytesSent < 100 << 20, "answered before the body was read")

        // The daemon's own long-poll finds the cap full: the hub is busy, not unreachable.
        let daemon = try DaemonLauncher(hubPort: hub.port, extraConfig: "token_file = \"\(token)\"")
        #expect(await eventually(timeout: 30) { daemon.process.standardError.contains("the hub is busy") })
        #expect((try daemon.status()["state"] as? String) != "offline")
        #expect(!daemon.process.standardError.contains("unreachable"), "\(daemon.process.standardError)")
        for index in 0..<200 { try daemon.write("agreement/load-\(index).json", agreementText("load-\(index)")) }
        for _ in 0..<20 {
            #expect(try await hub.client.request("GET", "/v1/health").status == 200)
        }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        let feed = try await hub.client.request("GET", "/v1/changes?since=0&limit=1000", headers: ["Authorization": "Bearer team-token"])
        let changes = (try JSONParser.parse(feed.body).objectValue?["changes"]?.arrayValue ?? []).count
        #expect(changes == 200)
        // The waiting long-polls were answered by the first commit.
        #expect(await eventually(timeout: 30) { load.longPollAnswers(status: 200) == 512 })
        let rss = try Self.residentMiB(hub.process.pid)
        #expect(rss < 200, "hub RSS \(rss) MiB under load")
    }

    static func residentMiB(_ pid: pid_t) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { throw TestSupportError("no VmRSS for \(pid)") }
        return kilobytes / 1024
    }
}
