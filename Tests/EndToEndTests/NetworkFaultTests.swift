import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The hub on its own network namespace with tokens, daemons in two others, joined by
/// veth pairs: links cut silently, lossy links and a hub killed mid-burst, with real
/// TCP between them. Needs root (CI runs as root).
@Suite(.serialized, .enabled(if: NetworkLab.isAvailable, "needs root, ip and nft"))
struct NetworkFaultTests {
    /// A hub in the lab's hub namespace, listening on every address, with a token.
    final class Team {
        let lab: NetworkLab
        let hub: HubLauncher
        let daemons: [DaemonLauncher]
        let folder: TemporaryFolder

        init(daemons count: Int) throws {
            folder = try TemporaryFolder()
            lab = try NetworkLab(hostCount: count)
            let config = try folder.write(
                "hub.toml", "[[tokens]]\nname = \"team\"\nsha256 = \"\(ContentHash.hex(Array("team-token".utf8)))\"\naccess = \"rw\"\n")
            let token = try folder.write("token", "team-token\n")
            hub = try HubLauncher(
                arguments: ["--config", config], host: "0.0.0.0", wrapper: ["/usr/sbin/ip", "netns", "exec", lab.hubNamespace],
                address: lab.hubAddressFromHere)
            let port = hub.port
            daemons = try lab.hosts.map { host in
                try DaemonLauncher(hubPort: port, hubHost: host.hubAddress, extraConfig: "token_file = \"\(token)\"", wrapper: host.wrapper)
            }
        }

        /// A GET on the hub from the test's own namespace, with the token.
        func get(_ path: String) async throws -> [String: Any] {
            let response = try await hub.client.request("GET", path, headers: ["Authorization": "Bearer team-token"])
            return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
        }

        func fields(_ id: String) async throws -> [String: Any]? {
            try await get("/v1/records/agreement/\(id)")["fields"] as? [String: Any]
        }

        func revisionCount(_ id: String) async throws -> Int {
            (try await get("/v1/records/agreement/\(id)/revisions")["revisions"] as? [Any])?.count ?? 0
        }

        /// The hub's latest sequence number, from one empty page.
        func latestSeq() async throws -> Int {
            try await get("/v1/changes?since=999999999")["last_seq"] as? Int ?? 0
        }

        func recordCount() async throws -> Int {
            var since = 0
            var ids: Set<String> = []
            while true {
                let page = try await get("/v1/changes?since=\(since)&limit=1000")
                let changes = page["changes"] as? [[String: Any]] ?? []
                for change in changes { ids.insert(change["id"] as? String ?? "") }
                let last = page["last_seq"] as? Int ?? since
                if changes.isEmpty || last == since { return ids.count }
                since = last
            }
        }

        deinit {
            for daemon in daemons { daemon.process.signal(SIGKILL) }
            hub.process.signal(SIGKILL)
            lab.tearDown()
        }
    }

    @Test func aLinkCutFor15SecondsShowsOfflineThenBothEditsConverge() async throws {
        let team = try Team(daemons: 2)
        let (a, b) = (team.daemons[0], team.daemons[1])
        try a.write("hns.json", agreementText("hns"))
        #expect(await eventually(timeout: 30) { b.read("agreement/hns.json") != nil })
        try team.lab.cut(team.lab.hosts[0])
        let cutAt = Date()
        // Both sides edit different fields while A's link is dead.
        try a.write("hns.json", agreementText("hns", title: "HNS (A)"))
        try b.write("agreement/hns.json", agreementText("hns", status: "signed"))
        // A has work to push: offline within 10 s (CONTRACT 8.6), with the error.
        #expect(
            await eventually(timeout: 10) { (try? a.status()["state"] as? String) == "offline" },
            "A still says it is online: \((try? a.status()) ?? [:])\n\(a.process.standardError.suffix(3000))")
        #expect(Date().timeIntervalSince(cutAt) < 10.5)
        #expect((try a.status()["last_error"] as? String)?.isEmpty == false)
        // The link stays dead for 15 s, then comes back; nobody restarts anything.
        let remaining = 15 - Date().timeIntervalSince(cutAt)
        if remaining > 0 { usleep(useconds_t(remaining * 1_000_000)) }
        try team.lab.restore(team.lab.hosts[0])
        #expect(
            try await eventuallyAsync(timeout: 60) {
                let fields = try await team.fields("hns")
                return fields?["title"] as? String == "HNS (A)" && fields?["status"] as? String == "signed"
            })
        for daemon in [a, b] {
            #expect(await eventually(timeout: 60) { daemon.read(daemon === a ? "hns.json" : "agreement/hns.json")?.contains("HNS (A)") == true })
            #expect(await eventually(timeout: 60) { daemon.read(daemon === a ? "hns.json" : "agreement/hns.json")?.contains("signed") == true })
        }
        #expect(await eventually(timeout: 60) { (try? a.status()["state"] as? String) != "offline" })
    }

    @Test func anIdleDaemonNoticesADeadLinkWithinAMinuteAndRecovers() async throws {
        let team = try Team(daemons: 1)
        let a = team.daemons[0]
        try a.write("idle.json", agreementText("idle"))
        #expect(try await eventuallyAsync(timeout: 30) { try await team.fields("idle") != nil })
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        try team.lab.cut(team.lab.hosts[0])
        // Nothing to push: only the long-poll (and TCP keepalive) can tell.
        #expect(await eventually(timeout: 60) { (try? a.status()["state"] as? String) == "offline" })
        try team.lab.restore(team.lab.hosts[0])
        #expect(await eventually(timeout: 60) { (try? a.status()["state"] as? String) == "idle" })
    }

    @Test func fifteenPercentLossDuringABurstConvergesWithOneRevisionEach() async throws {
        let team = try Team(daemons: 2)
        let (a, b) = (team.daemons[0], team.daemons[1])
        try team.lab.loss(team.lab.hosts[0], percent: 15)
        try team.lab.loss(team.lab.hosts[1], percent: 15)
        for index in 0..<200 { try a.write("burst/r\(index).json", agreementText("r\(index)")) }
        #expect(try await eventuallyAsync(timeout: 240) { try await team.recordCount() == 200 })
        #expect(
            await eventually(timeout: 240) {
                (try? FileManager.default.contentsOfDirectory(atPath: b.root + "/agreement"))?.filter { $0.hasSuffix(".json") }.count == 200
            })
        try team.lab.restore(team.lab.hosts[0])
        try team.lab.restore(team.lab.hosts[1])
        for index in stride(from: 0, to: 200, by: 7) {
            #expect(try await team.revisionCount("r\(index)") == 1, "r\(index)")
        }
    }

    @Test func aHubKilledMidBurstLosesNoAcknowledgedWrite() async throws {
        let team = try Team(daemons: 2)
        let (a, b) = (team.daemons[0], team.daemons[1])
        // Large enough that the hub is still taking it when the kill lands: the check is
        // one cheap request, so the kill follows the first applied batch closely.
        let total = 8000
        for index in 0..<total { try a.write("burst/r\(index).json", agreementText("r\(index)")) }
        #expect(try await eventuallyAsync(timeout: 30) { try await team.latestSeq() > 0 })
        let acknowledged = try await team.latestSeq()
        team.hub.process.signal(SIGKILL)
        _ = try await team.hub.process.waitForExit(timeout: 10)
        try team.hub.restart(samePort: true)
        #expect(try await team.latestSeq() >= acknowledged, "every acknowledged write survived the kill")
        #expect(acknowledged < total, "the kill must land mid-burst")
        #expect(try await eventuallyAsync(timeout: 120) { try await team.recordCount() == total })
        #expect(
            await eventually(timeout: 180) {
                (try? FileManager.default.contentsOfDirectory(atPath: b.root + "/agreement"))?.filter { $0.hasSuffix(".json") }.count == total
            })
        for index in stride(from: 0, to: total, by: 97) {
            #expect(try await team.revisionCount("r\(index)") == 1, "r\(index)")
        }
    }
}
