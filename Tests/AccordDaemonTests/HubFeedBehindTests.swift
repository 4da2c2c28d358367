import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// A hub whose feed the daemon cannot follow (its database restored from an older
/// backup, whose feed ends before the cursor, or another database at the same
/// address, whose feed ID differs) would get new changes with seqs the daemon has
/// passed: it must say so, not skip them in silence, and send it nothing.
struct HubFeedBehindTests {
    @Test func anotherDatabasePastTheCursorIsReportedAndNothingIsSkippedSilently() async throws {
        let first = try HubLauncher()
        let daemon = try DaemonLauncher(hubPort: first.port)
        for id in ["a1", "a2", "a3"] { try daemon.write("agreement/\(id).json", agreementText(id)) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)

        // Another database at the same address, which others write past the cursor:
        // by its seqs alone it looks caught up.
        first.process.signal(SIGTERM)
        _ = try await first.process.waitForExit(timeout: 30)
        let second = try HubLauncher(arguments: ["--log-level", "debug"], port: first.port)
        try await second.createAgreements(["restored", "other1", "other2", "other3"])

        let said = await eventually(timeout: 30) {
            ((try? daemon.status())?["last_error"] as? String)?.contains("that this root synced with") == true
        }
        #expect(said, "status: \(String(describing: try? daemon.status()))")
        // Such a hub answers a long-poll at once (it has a change past the cursor). The daemon must back off (1, 2, 4 …
        // s) as from a hub that is away, not ask again at once: it once sent hundreds
        // of requests a second. The next two feed requests in the hub's request log
        // (debug level: a line per request) must be at least a second apart in all.
        func feedRequests() -> Int {
            (second.process.standardError + second.process.standardOutput).split(separator: "\n").filter { $0.contains("/changes") }.count
        }
        let before = feedRequests()
        #expect(before >= 1, "the hub's log shows no feed request: the count below would see nothing")
        let start = Date()
        #expect(await eventuallyAsync(timeout: 60) { feedRequests() >= before + 2 }, "the daemon stopped asking the feed")
        let took = Date().timeIntervalSince(start)
        #expect(took >= 1, "the daemon asked the feed twice in \(took) s")
        for id in ["restored", "other3"] { #expect(daemon.read("agreement/\(id).json") == nil) }
        #expect(daemon.read("agreement/a1.json") != nil, "nothing local is touched")

        // Nothing is pushed to it either: that hub lacks a1, so an edit sent to it
        // would come back as a 412 with another state than the root's base. A manual
        // sync fails and the edit waits in the outbox.
        try daemon.write("agreement/a1.json", agreementText("a1", status: "signed"))
        let synced = try await daemon.ctl(["sync", "--wait", "--timeout", "10"])
        #expect(synced.code != 0, "a sync against another database succeeded: \(synced.out)")
        let onHub = try await second.client.request("GET", "/v1/records/agreement/a1")
        #expect(onHub.status == 404, "the edit was sent to another database: \(onHub.status)")
        #expect((try daemon.status()["pending"] as? Int) == 1, "status: \(String(describing: try? daemon.status()))")
        #expect(daemon.read("agreement/a1.json")?.contains("signed") == true)
    }

    @Test func editsMadeWhileTheDaemonWasDownWaitForALookAtTheFeed() async throws {
        let first = try HubLauncher()
        let backup = try await first.backup()
        let daemon = try DaemonLauncher(hubPort: first.port)
        for id in ["b1", "b2", "b3"] { try daemon.write("agreement/\(id).json", agreementText(id)) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)

        // While the daemon is down: a record is edited and one is made, and the hub's
        // database is replaced by an older backup, which has taken one change since.
        daemon.process.signal(SIGTERM)
        #expect(try await daemon.process.waitForExit(timeout: 30) == 0)
        try daemon.write("agreement/b1.json", agreementText("b1", status: "signed"))
        try daemon.write("agreement/b4.json", agreementText("b4"))
        first.process.signal(SIGTERM)
        _ = try await first.process.waitForExit(timeout: 30)
        let second = try HubLauncher(database: backup, port: first.port)
        try await second.createAgreements(["restored"])

        // The first thing a daemon does after a start is push what waits: it must look
        // at the feed first, or b4 (a create, which any hub takes) would land on a hub
        // whose feed the cursor has passed.
        try daemon.restart()
        let said = await eventually(timeout: 30) {
            ((try? daemon.status())?["last_error"] as? String)?.contains("the hub's changes feed ends at seq 1, before this root's cursor 3") == true
        }
        #expect(said, "status: \(String(describing: try? daemon.status()))")
        for id in ["b1", "b4"] {
            let onHub = try await second.client.request("GET", "/v1/records/agreement/\(id)")
            #expect(onHub.status == 404, "\(id) was sent to the hub that is behind: \(onHub.status)")
        }
        #expect((try daemon.status()["pending"] as? Int) == 2, "status: \(String(describing: try? daemon.status()))")
        // The loop does not spin on the held operations while it waits (a held push is
        // not a due one). A three-second window: the window is the measurement.
        let before = try daemon.process.cpuSeconds()
        try await Task.sleep(for: .seconds(3))
        let used = try daemon.process.cpuSeconds() - before
        #expect(used < 0.3, "the daemon used \(used) CPU-s in 3 s while its pushes were held")
    }

    /// The hub's database is restored, while the daemon runs, from a backup older than
    /// the daemon's cursor, and the restored database has taken writes past that
    /// cursor before the daemon reaches it again: its feed ID is the same and its
    /// feed long enough. Having lost the hub, the daemon looks up its anchor before it
    /// takes anything from it.
    @Test func aBackupRestoredPastTheCursorWhileTheDaemonRunsIsFound() async throws {
        let first = try HubLauncher()
        let daemon = try DaemonLauncher(hubPort: first.port)
        try daemon.write("agreement/c1.json", agreementText("c1"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        let backup = try await first.backup()
        for id in ["c2", "c3"] { try daemon.write("agreement/\(id).json", agreementText(id)) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)

        // Restored where the daemon cannot see it, written past the cursor (3), then
        // served at the hub's address.
        first.process.signal(SIGTERM)
        _ = try await first.process.waitForExit(timeout: 30)
        let staging = try HubLauncher(database: backup)
        try await staging.createAgreements(["x1", "x2", "x3"])
        staging.process.signal(SIGTERM)
        _ = try await staging.process.waitForExit(timeout: 30)
        let second = try HubLauncher(database: backup, port: first.port)

        let said = await eventually(timeout: 60) {
            ((try? daemon.status())?["last_error"] as? String)?.contains("at seq 3, which this root applied") == true
        }
        #expect(said, "status: \(String(describing: try? daemon.status()))")
        #expect(daemon.read("agreement/x3.json") == nil, "a change from the restored hub was applied")
        try daemon.write("agreement/c1.json", agreementText("c1", status: "signed"))
        let synced = try await daemon.ctl(["sync", "--wait", "--timeout", "10"])
        #expect(synced.code != 0, "a sync against a restored hub past the cursor succeeded: \(synced.out)")
        let onHub = try await second.client.request("GET", "/v1/records/agreement/c1")
        #expect(onHub.status == 200 && !String(decoding: onHub.body, as: UTF8.self).contains("signed"), "the edit was sent to the restored hub")
    }

    /// The same restore seen through a proxy that moves to the restored hub, with no
    /// failure in between (a load balancer, a promoted standby): the daemon never
    /// loses the hub, and it is the hub's word on the write at the page's `since`
    /// (`Accord-Since-Rev`) that finds it, on the first page.
    @Test func aRestoredBackupBehindAProxyIsFoundWithoutALoss() async throws {
        // The backup is taken before the daemon starts, so it never sees a hub go.
        let first = try HubLauncher()
        try await first.createAgreements(["p1"])
        let backup = try await first.backup()
        let proxy = try FaultProxy(upstreamPort: first.port, rates: FaultProxy.Rates(faultRate: 0, faults: []))
        defer { proxy.stop() }
        let daemon = try DaemonLauncher(hubPort: proxy.port)
        for id in ["p2", "p3"] { try daemon.write("agreement/\(id).json", agreementText(id)) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(daemon.read("agreement/p1.json") != nil)

        // The restored copy, written to up to seq 5; new requests go to it, while a
        // long-poll in flight stays with the first hub, which answers it with one
        // more change: the daemon has no failure to see at any point.
        let second = try HubLauncher(database: backup)
        try await second.createAgreements(["x1", "x2", "x3", "x4"])
        proxy.setUpstream(port: second.port)
        try await first.createAgreements(["y1"])

        let said = await eventually(timeout: 60) {
            ((try? daemon.status())?["last_error"] as? String)?.contains("which this root applied") == true
        }
        #expect(said, "status: \(String(describing: try? daemon.status()))")
        #expect(daemon.read("agreement/x4.json") == nil, "a change from the restored hub was applied")
        try daemon.write("agreement/p2.json", agreementText("p2", status: "signed"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "10"]).code != 0)
        #expect(try await second.client.request("GET", "/v1/records/agreement/p2").status == 404, "the edit was sent to the restored hub")
    }

    /// A paused daemon asks the hub nothing, so it cannot see it replaced: on resume it
    /// looks at the feed before it pushes the edits made meanwhile.
    @Test func aResumedDaemonLooksBeforeItPushes() async throws {
        let first = try HubLauncher()
        let daemon = try DaemonLauncher(hubPort: first.port)
        try daemon.write("agreement/r1.json", agreementText("r1"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(try await daemon.ctl(["pause"]).code == 0)
        first.process.signal(SIGTERM)
        _ = try await first.process.waitForExit(timeout: 30)
        let second = try HubLauncher(port: first.port)
        try daemon.write("agreement/r2.json", agreementText("r2"))
        #expect(try await daemon.ctl(["resume"]).code == 0)
        let said = await eventually(timeout: 30) {
            ((try? daemon.status())?["last_error"] as? String)?.contains("that this root synced with") == true
        }
        #expect(said, "status: \(String(describing: try? daemon.status()))")
        #expect(try await second.client.request("GET", "/v1/records/agreement/r2").status == 404, "the edit went to another database")
        #expect((try daemon.status()["pending"] as? Int) == 1)
    }

    /// A balancer flapping between the right hub and another database: the daemon is
    /// refused and taken again page after page. The journal says it once, not on every
    /// flip (it once wrote three lines a second), and the flips still go to debug.
    @Test func aHubFlappingBetweenTwoFeedsIsSaidOnceNotOnEveryFlip() async throws {
        let hub = try HubLauncher()
        let proxy = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 0))
        defer { proxy.stop() }
        let daemon = try DaemonLauncher(hubPort: proxy.port, extraConfig: "[log]\nlevel = \"debug\"")
        try daemon.write("agreement/f0.json", agreementText("f0"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        proxy.setRates(FaultProxy.Rates(faultRate: 0.5, faults: [.replaceHeader(name: "Accord-Feed-Id", value: "another-feed")]))
        func lines(_ level: Int, _ text: String) -> Int {
            daemon.process.standardError.split(separator: "\n").filter { $0.hasPrefix("<\(level)>") && $0.contains(text) }.count
        }
        // Writes elsewhere answer the daemon's long-polls, page after page, until it has
        // been refused and taken again several times.
        var written = 0
        while lines(7, "not syncing with the hub") < 3 && written < 30 {
            try await hub.createAgreements(["w\(written)"])
            written += 1
            let seen = lines(7, "not syncing") + lines(4, "not syncing") + lines(7, "reachable again") + lines(5, "reachable again")
            _ = await eventually(timeout: 3) {
                lines(7, "not syncing") + lines(4, "not syncing") + lines(7, "reachable again") + lines(5, "reachable again") > seen
            }
        }
        #expect(lines(7, "not syncing with the hub") >= 3, "the proxy never made the daemon flip: \(proxy.injected)")
        #expect(lines(4, "not syncing with the hub") == 1, "\(daemon.process.standardError.suffix(3000))")
        #expect(lines(5, "the hub is reachable again") <= 1)
    }
}
