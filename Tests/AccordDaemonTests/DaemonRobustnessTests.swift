import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// Defects found by an adversarial review of the release binaries, each turned into
/// a test against the real `accordd`.
@Suite(.serialized) struct DaemonRobustnessTests {
    /// Runs curl against the control socket: status code and body.
    func curl(_ daemon: DaemonLauncher, _ method: String, _ target: String) throws -> (status: Int, body: String) {
        let child = try ChildProcess(
            "/usr/bin/curl", ["-s", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--unix-socket", daemon.socket, "http://accordd" + target],
            logFolder: daemon.folder.path)
        _ = try child.waitForExit(timeout: 30)
        let output = child.standardOutput
        let status = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (status, output)
    }

    @Test func hostileQueriesGetAnswersAndTheDaemonStaysUp() async throws {
        let hub = try HubLauncher()
        let port = try LoopbackSocket.freePort()
        let a = try DaemonLauncher(hubPort: hub.port, extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"")
        #expect(try curl(a, "GET", "/metrics?=").status == 200)
        #expect(try await RawHTTPClient(port: port).request("GET", "/metrics?=").status == 200)
        for target in ["/v1/events?limit=1e300", "/v1/events?limit=nan", "/v1/events?limit=-5", "/v1/events?limit=1.5"] {
            #expect(try curl(a, "GET", target).status == 400, "\(target)")
        }
        #expect(try curl(a, "GET", "/v1/events?limit=3").status == 200)
        for target in ["/v1/sync?wait=1&timeout=inf", "/v1/sync?wait=1&timeout=nan", "/v1/sync?wait=1&timeout=1e300"] {
            #expect(try curl(a, "POST", target).status == 400, "\(target)")
        }
        #expect(a.process.isRunning)
        #expect(try await a.ctl(["status"]).code == 0)
    }

    @Test func idleClientsOnTheMetricsPortCannotLockOutTheSocket() async throws {
        let hub = try HubLauncher()
        let port = try LoopbackSocket.freePort()
        let a = try DaemonLauncher(hubPort: hub.port, extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"")
        // More idle connections than the old shared cap of 64, all on the metrics port.
        var idle: [Int32] = []
        defer { for fd in idle { close(fd) } }
        for _ in 0..<80 {
            idle.append(try LoopbackSocket.connect(port: port))
        }
        // The socket has its own budget: accordctl works while the flood holds.
        let status = try await a.ctl(["status"])
        #expect(status.code == 0, "\(status.err)")
        #expect(a.process.isRunning)
    }

    @Test func pauseSurvivesAKill() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        #expect(try await a.ctl(["pause"]).code == 0)
        a.process.signal(SIGKILL)
        _ = try await a.process.waitForExit(timeout: 10)
        try a.restart()
        #expect(try a.status()["state"] as? String == "paused")
        try a.write("p.json", agreementText("p"))
        _ = try await a.ctl(["sync", "--wait", "--timeout", "3"])
        #expect(try await hubRecord(hub, "p") == nil, "a paused daemon talks to nobody, even after a restart")
        #expect(try await a.ctl(["resume"]).code == 0)
        #expect(try await eventuallyAsync { try await hubStatus(hub, "p") == "negotiating" })
    }

    /// After a restart with the hub away, status says when the daemon last synced, not
    /// "never".
    @Test func theLastSyncSurvivesARestart() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        try a.write("s.json", agreementText("s"))
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        let synced = try #require(try a.status()["last_sync"] as? String)
        a.process.signal(SIGTERM)
        #expect(try await a.process.waitForExit(timeout: 30) == 0)
        hub.process.signal(SIGKILL)
        _ = try await hub.process.waitForExit(timeout: 10)
        try a.restart()
        #expect(try a.status()["last_sync"] as? String == synced)
        let shown = try await a.ctl(["status"])
        #expect(!shown.out.contains("never"), "\(shown.out)")
    }

    @Test func aDownHubCostsNoCPUAndShowsOffline() async throws {
        let hub = try HubLauncher()
        let port = hub.port
        hub.process.signal(SIGKILL)
        _ = try await hub.process.waitForExit(timeout: 10)
        let a = try DaemonLauncher(hubPort: port)
        try a.write("d.json", agreementText("d"))
        #expect(await eventually { (try? a.status()["state"] as? String) == "offline" })
        // A three-second window of a daemon whose pulls and pushes all fail: the window
        // is the measurement, not a wait for something.
        let before = try a.process.cpuSeconds()
        try await Task.sleep(for: .seconds(3))
        let used = try a.process.cpuSeconds() - before
        #expect(used < 0.3, "a daemon facing a dead hub must back off, not spin: \(used) CPU-s in 3 s")
        #expect(try a.status()["pending"] as? Int == 1)
    }

    @Test func aRevokedTokenIsAskedAgainOnlyAfterABackoff() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write(
            "hub.toml", "[[tokens]]\nname = \"alice\"\nsha256 = \"\(ContentHash.hex(Array("right".utf8)))\"\naccess = \"rw\"\n")
        let hub = try HubLauncher(arguments: ["--config", config])
        let proxy = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 0))
        let token = try folder.write("token", "wrong\n")
        let a = try DaemonLauncher(hubPort: proxy.port, extraConfig: "token_file = \"\(token)\"")
        try a.write("t.json", agreementText("t"))
        #expect(await eventually { (try? a.status()["state"] as? String) == "offline" })
        let error = try a.status()["last_error"] as? String ?? ""
        #expect(error.contains("401"), "\(error)")
        // Requests counted over a three-second window: the window is the measurement.
        let before = proxy.injected.values.reduce(0, +)
        try await Task.sleep(for: .seconds(3))
        let sent = proxy.injected.values.reduce(0, +) - before
        #expect(sent < 60, "\(sent) requests in 3 s with a refused token")
    }

    @Test func pulledRecordsTakeTheConfiguredModes() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let b = try DaemonLauncher(hubPort: hub.port, extraConfig: "file_mode = \"0660\"\ndir_mode = \"2770\"")
        try a.write("m.json", agreementText("m"))
        #expect(await eventually { b.read("agreement/m.json") != nil })
        var info = stat()
        stat(b.root + "/agreement/m.json", &info)
        #expect(info.st_mode & 0o7777 == 0o660)
        stat(b.root + "/agreement", &info)
        #expect(info.st_mode & 0o7777 == 0o2770)
    }

    @Test func aMassDeleteHoldSurvivesARestartAndNothingIsPulledIntoTheRoot() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        for index in 0..<3 { try a.write("r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        for index in 0..<3 { try FileManager.default.removeItem(atPath: a.root + "/r\(index).json") }
        #expect(await eventually { (try? a.status()["held_deletions"] as? Int) == 3 })
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/newonhub", headers: ["If-None-Match": "*"],
            json: #"{"title": "n", "parties": ["a", "b"], "status": "negotiating"}"#)
        #expect(put.status == 201)
        a.process.signal(SIGKILL)
        _ = try await a.process.waitForExit(timeout: 10)
        try a.restart()
        // From the first answer on: still held, nothing deleted, nothing written in.
        #expect(try a.status()["hold_reason"] as? String != nil)
        _ = try await a.ctl(["sync", "--wait", "--timeout", "3"])
        #expect(try a.status()["held_deletions"] as? Int == 3)
        for index in 0..<3 { #expect(try await hubStatus(hub, "r\(index)") == "negotiating") }
        #expect(a.read("agreement/newonhub.json") == nil, "the hub's records were written into an emptied root")
    }

    @Test func aHungHubShowsOfflineWithin10SecondsWhileWorkWaits() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        try a.write("h.json", agreementText("h"))
        #expect(try await eventuallyAsync { try await hubStatus(hub, "h") == "negotiating" })
        // Stopped, not dead: the kernel still accepts and acknowledges, nobody answers.
        hub.process.signal(SIGSTOP)
        defer { hub.process.signal(SIGCONT) }
        try a.write("h.json", agreementText("h", status: "signed"))
        let start = Date()
        #expect(await eventually(timeout: 10) { (try? a.status()["state"] as? String) == "offline" })
        #expect(Date().timeIntervalSince(start) < 10.5)
        hub.process.signal(SIGCONT)
        #expect(try await eventuallyAsync(timeout: 40) { try await hubStatus(hub, "h") == "signed" })
    }

    @Test func aPushRefusedForItsTokenGoesOnceTheTokenIsFixed() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write(
            "hub.toml", "[[tokens]]\nname = \"alice\"\nsha256 = \"\(ContentHash.hex(Array("right".utf8)))\"\naccess = \"rw\"\n")
        let hub = try HubLauncher(arguments: ["--config", config])
        let token = try folder.write("token", "wrong\n")
        let a = try DaemonLauncher(hubPort: hub.port, extraConfig: "token_file = \"\(token)\"")
        try a.write("t.json", agreementText("t"))
        #expect(await eventually { (try? a.status()["last_error"] as? String)?.contains("401") == true })
        _ = try folder.write("token", "right\n")
        a.process.signal(SIGHUP)
        // No operator action beyond fixing the token: the waiting change goes.
        #expect(
            try await eventuallyAsync(timeout: 40) {
                try await hub.client.request("GET", "/v1/records/agreement/t", headers: ["Authorization": "Bearer right"]).status == 200
            })
    }
}
