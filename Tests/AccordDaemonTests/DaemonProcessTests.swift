import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// A valid agreement record as its file text.
func agreementText(_ id: String, status: String = "negotiating", title: String = "HNS") -> String {
    """
    {
      "kind": "agreement",
      "id": "\(id)",
      "title": "\(title)",
      "parties": ["United States", "Japan"],
      "status": "\(status)"
    }

    """
}

/// The hub's current JSON for a record, or nil (404/410).
func hubRecord(_ hub: HubLauncher, _ id: String) async throws -> [String: Any]? {
    let response = try await hub.client.request("GET", "/v1/records/agreement/\(id)")
    guard response.status == 200 else { return nil }
    return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
}

func hubStatus(_ hub: HubLauncher, _ id: String) async throws -> String? {
    (try await hubRecord(hub, id)?["fields"] as? [String: Any])?["status"] as? String
}

/// How many records the hub's feed names.
func hubRecordCount(_ hub: HubLauncher) async throws -> Int {
    let response = try await hub.client.request("GET", "/v1/changes?since=0&limit=10000")
    guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
        throw TestSupportError("the changes feed answered \(response.status)")
    }
    return (object["changes"] as? [Any])?.count ?? 0
}

/// `accordd` as a real process, with the real hub on loopback.
@Suite(.serialized) struct DaemonProcessTests {
    @Test func editsFlowBetweenTwoDaemonsThroughTheHub() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let b = try DaemonLauncher(hubPort: hub.port)
        try a.write("agreements/hns.json", agreementText("hns"))
        #expect(try await eventuallyAsync { try await hubStatus(hub, "hns") == "negotiating" })
        #expect(await eventually { b.read("agreement/hns.json")?.contains("negotiating") == true })
        // b's own write of the pulled record does not come back as a local change: after
        // a settled sync (its rescan included), b has pulled it and pushed nothing.
        #expect(try await b.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        let echoes = try await b.ctl(["log", "-n", "20"]).out
        #expect(echoes.contains("agreement/hns pulled") && !echoes.contains("agreement/hns pushed"), "\(echoes)")
        try b.write("agreement/hns.json", agreementText("hns", status: "extended"))
        #expect(await eventually { a.read("agreements/hns.json")?.contains("extended") == true })
        // A move inside the root is not a change: the hub's rev stays.
        let rev = try await hubRecord(hub, "hns")?["rev"] as? String
        try FileManager.default.createDirectory(atPath: a.root + "/moved", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: a.root + "/agreements/hns.json", toPath: a.root + "/moved/hns.json")
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await hubRecord(hub, "hns")?["rev"] as? String == rev)
        // accordctl log shows field-level summaries.
        let log = try await b.ctl(["log", "-n", "5"])
        #expect(log.out.contains("agreement/hns pushed: status: negotiating -> extended"), "\(log.out)")
    }

    @Test func sigtermStopsWithExitZeroAndSigkillLosesNothing() async throws {
        let hub = try HubLauncher()
        // Through a proxy that forwards each request and holds its answer: once the hub
        // has any record, it has applied writes the daemon has not heard back about, and
        // the kill lands there.
        let holding = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 1, faults: [.holdAnswer]))
        defer { holding.stop() }
        let a = try DaemonLauncher(hubPort: holding.port)
        for index in 0..<300 { try a.write("bulk/r\(index).json", agreementText("r\(index)")) }
        #expect(try await eventuallyAsync { try await hubRecordCount(hub) > 0 })
        a.process.signal(SIGKILL)
        _ = try await a.process.waitForExit(timeout: 10)
        // Mid-push: the hub has taken writes that the daemon's outbox still holds.
        let unacknowledged = try StateStore(path: a.folder.child("state.db")).pendingCount()
        #expect(try await hubRecordCount(hub) > 0 && unacknowledged > 0, "the kill must land mid-push (\(unacknowledged) still queued)")
        holding.setRates(FaultProxy.Rates(faultRate: 0))
        holding.releaseHeld()
        try a.restart()
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        let changes = try await hub.client.request("GET", "/v1/changes?since=0&limit=1000")
        let list = (try JSONSerialization.jsonObject(with: Data(changes.body)) as? [String: Any])?["changes"] as? [[String: Any]] ?? []
        #expect(Set(list.compactMap { $0["id"] as? String }).count == 300)
        // Each record was created once: one revision each, whatever the kill interrupted.
        for index in [0, 150, 299] {
            let revisions = try await hub.client.request("GET", "/v1/records/agreement/r\(index)/revisions")
            let object = try JSONSerialization.jsonObject(with: Data(revisions.body)) as? [String: Any]
            #expect((object?["revisions"] as? [Any])?.count == 1)
        }
        a.process.signal(SIGTERM)
        #expect(try await a.process.waitForExit(timeout: 10) == 0)
    }

    @Test func sighupReloadsThePolicyWithoutDroppingWork() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        try a.write("hns.json", agreementText("hns"))
        #expect(try await eventuallyAsync { try await hubStatus(hub, "hns") == "negotiating" })
        try a.rewriteConfig(hubPort: hub.port, extraConfig: "conflict_policy = \"prefer-local\"")
        a.process.signal(SIGHUP)
        _ = try a.process.waitForError(containing: "policy prefer-local", timeout: 10)
        // Both sides change status while the daemon is paused: local wins now.
        #expect(try await a.ctl(["pause"]).code == 0)
        let rev = try await hubRecord(hub, "hns")?["rev"] as? String ?? ""
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/hns", headers: ["If-Match": "\"\(rev)\""],
            json: #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "agreed"}"#)
        #expect(put.status == 200)
        try a.write("hns.json", agreementText("hns", status: "signed"))
        #expect(try await a.ctl(["resume"]).code == 0)
        #expect(try await eventuallyAsync { try await hubStatus(hub, "hns") == "signed" })
        #expect(try a.status()["conflicts"] as? Int == 0)
        #expect(a.process.isRunning)
    }

    @Test func anEmptiedRootTripsTheMassDeleteGuard() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        for index in 0..<12 { try a.write("set/r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        try FileManager.default.removeItem(atPath: a.root + "/set")
        #expect(try await eventually { try a.status()["held_deletions"] as? Int == 12 })
        let status = try await a.ctl(["status"])
        #expect(status.out.contains("accordctl resume --allow-deletes"))
        // Nothing was deleted on the hub.
        for index in 0..<12 { #expect(try await hubStatus(hub, "r\(index)") == "negotiating") }
        #expect(try await a.ctl(["resume", "--allow-deletes"]).code == 0)
        #expect(
            try await eventuallyAsync {
                let first = try await hubRecord(hub, "r0")
                let last = try await hubRecord(hub, "r11")
                return first == nil && last == nil
            })
    }

    @Test func aRootThatVanishesHoldsEverythingUntilItIsBack() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port, extraConfig: "[log]\nformat = \"json\"")
        for index in 0..<3 { try a.write("r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["sync", "--wait"]).code == 0)
        // The disk goes away (moved, as an unmount would leave an empty mount point).
        try FileManager.default.moveItem(atPath: a.root, toPath: a.root + ".away")
        #expect(try await eventually { try a.status()["held_deletions"] as? Int == 3 })
        #expect((try a.status()["hold_reason"] as? String)?.contains("missing") == true)
        // A whole sync step runs with the root gone (it cannot settle cleanly; the point
        // is that it ran), and the hub still has every record.
        _ = try await a.ctl(["sync", "--wait", "--timeout", "5"])
        for index in 0..<3 { #expect(try await hubStatus(hub, "r\(index)") == "negotiating") }
        // It comes back: the hold lifts, and edits flow again (the root is watched anew).
        try FileManager.default.moveItem(atPath: a.root + ".away", toPath: a.root)
        #expect(try await eventually { try a.status()["held_deletions"] as? Int == 0 })
        try a.write("r0.json", agreementText("r0", status: "signed"))
        #expect(try await eventuallyAsync { try await hubStatus(hub, "r0") == "signed" })
        // Logs were JSON lines, as configured.
        let lines = a.process.standardError.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] })
    }

    @Test func aWatchLimitFallsBackToPeriodicScans() async throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        for index in 0..<6 { try folder.write("root/d\(index)/keep.txt", "") }
        // A user namespace has its own inotify limit: 3 watches, for a root of 7 folders.
        let a = try DaemonLauncher(
            hubPort: hub.port, folder: folder,
            wrapper: ["/usr/bin/unshare", "-Ur", "/bin/sh", "-c", "echo 3 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""])
        _ = try a.process.waitForError(containing: "fs.inotify.max_user_watches", timeout: 10)
        try a.write("d5/late.json", agreementText("late"))
        #expect(try await eventuallyAsync { try await hubStatus(hub, "late") == "negotiating" })
        #expect(a.process.isRunning)
    }

    @Test func oneDaemonPerStateDatabaseAndSocket() throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        // Same config: the state lock refuses it, naming the holder.
        let second = try ChildProcess(try BuiltProducts.path(of: "accordd"), ["--config", a.configPath], logFolder: a.folder.path)
        #expect(try second.waitForExit(timeout: 10) == 1)
        #expect(second.standardError.contains("already using the state database"), "\(second.standardError)")
        // The live socket was not taken over: accordctl still reaches the first daemon.
        #expect(try a.ctl(["status"]).code == 0)
        var info = stat()
        #expect(stat(a.socket, &info) == 0 && info.st_mode & 0o777 == 0o660)
    }

    @Test func aStaleSocketFromACrashIsReplaced() throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        a.process.signal(SIGKILL)
        _ = try a.process.waitForExit(timeout: 10)
        // kill -9 leaves the socket file behind.
        #expect(FileManager.default.fileExists(atPath: a.socket))
        try a.restart()
        #expect(try a.ctl(["status"]).code == 0)
    }

    @Test func missingStateAndSocketFoldersAreCreated() throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.child("root"), withIntermediateDirectories: true)
        let config = try folder.write(
            "d.toml",
            DaemonLauncher.config(
                root: folder.child("root"), state: folder.child("var/lib/state.db"), socket: folder.child("run/accord/c.sock"), hubPort: hub.port,
                extra: ""))
        let daemon = try ChildProcess(try BuiltProducts.path(of: "accordd"), ["--config", config], logFolder: folder.path)
        _ = try daemon.waitForError(containing: "control socket ready", timeout: 20)
        #expect(FileManager.default.fileExists(atPath: folder.child("var/lib/state.db")))
        daemon.signal(SIGTERM)
        #expect(try daemon.waitForExit(timeout: 10) == 0)
    }

    @Test func badConfigStopsStartUpWithOneLine() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("bad.toml", "root = \"/tmp\"\nconflict_polcy = \"merge\"\n")
        let daemon = try ChildProcess(try BuiltProducts.path(of: "accordd"), ["--config", path], logFolder: folder.path)
        #expect(try daemon.waitForExit(timeout: 10) == 2)
        let lines = daemon.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(path) && lines[0].contains("conflict_polcy"), "\(daemon.standardError)")
        // Under systemd the same line is an error in the journal (journalctl -p warning).
        let service = try ChildProcess(try BuiltProducts.path(of: "accordd"), ["--config", path], logFolder: folder.path, journalStderr: true)
        #expect(try service.waitForExit(timeout: 10) == 2)
        #expect(service.standardError.hasPrefix("<3>accordd: ") && service.standardError.contains("conflict_polcy"), "\(service.standardError)")
    }

    @Test func systemdReadinessStatusAndWatchdog() async throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        let listener = try DatagramListener(path: folder.child("notify.sock"))
        let a = try DaemonLauncher(
            hubPort: hub.port, folder: folder, environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000"])
        #expect(listener.wait(for: "READY=1"))
        #expect(listener.wait(for: "STATUS="))
        #expect(listener.wait(for: "WATCHDOG=1"))
        // A notify socket nobody reads (its queue full) must not stall the daemon.
        listener.stopReading()
        for index in 0..<40 { try a.write("n\(index).json", agreementText("n\(index)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        // Messages sent while the queue was full were dropped, never waited for.
        listener.drain()
        a.process.signal(SIGTERM)
        #expect(try await a.process.waitForExit(timeout: 10) == 0)
        #expect(listener.wait(for: "STOPPING=1"))
    }

    @Test func theStatusLineSaysIdleOnceASyncIsDone() async throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        let listener = try DatagramListener(path: folder.child("notify.sock"))
        let a = try DaemonLauncher(hubPort: hub.port, folder: folder, environment: ["NOTIFY_SOCKET": listener.path])
        #expect(listener.wait(for: "READY=1"))
        try a.write("s1.json", agreementText("s1"))
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(listener.wait(for: "STATUS=idle"), "systemctl status must not say syncing while the daemon is idle")
    }

    @Test func aSyncIsNotSettledWhileTheHubCannotBeReached() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        try a.write("w1.json", agreementText("w1"))
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        // Nothing waits to be pushed, but the pull fails: the hub's changes have not
        // arrived, so the sync must not say it settled.
        hub.process.signal(SIGKILL)
        _ = try await hub.process.waitForExit(timeout: 30)
        let synced = try await a.ctl(["sync", "--wait", "--timeout", "3"])
        #expect(synced.code == 1, "a sync without the hub settled: \(synced.out)")
        #expect(synced.err.contains("the hub is not syncing: hub unavailable"), "\(synced.err)")
        let status = try await a.ctl(["status"]).out
        #expect(status.contains("(not syncing: see the last error)") && status.contains("last error: hub unavailable"), "\(status)")
    }

    @Test func withoutConfiguredModesThePullsFollowTheUmask() async throws {
        // A team's service runs with UMask=0002 (or 0007): what a pull creates must be
        // editable by the group, as anything else the team's programs create.
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port, wrapper: ["/bin/sh", "-c", "umask 002; exec \"$0\" \"$@\""])
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/grouped", headers: ["If-None-Match": "*"],
            json: #"{"title": "g", "parties": ["a", "b"], "status": "negotiating"}"#)
        #expect(put.status == 201)
        #expect(await eventually(timeout: 20) { a.read("agreement/grouped.json") != nil })
        var info = stat()
        #expect(stat(a.root + "/agreement/grouped.json", &info) == 0 && info.st_mode & 0o7777 == 0o664, "file mode \(String(info.st_mode & 0o7777, radix: 8))")
        #expect(stat(a.root + "/agreement", &info) == 0 && info.st_mode & 0o7777 == 0o775, "folder mode \(String(info.st_mode & 0o7777, radix: 8))")
    }

    @Test func aPullThatCannotBeWrittenIsWarnedOnceAndRetriedOnceFixed() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        // A plain file where the pull needs its folder: the write fails, even for root.
        try a.write("agreement", "not a folder\n")
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/blocked", headers: ["If-None-Match": "*"],
            json: #"{"title": "b", "parties": ["a", "b"], "status": "negotiating"}"#)
        #expect(put.status == 201)
        func warnings() -> [Substring] {
            a.process.standardError.split(separator: "\n").filter { $0.contains("not written to the root") && $0.contains("agreement/blocked") }
        }
        #expect(await eventually(timeout: 20) { !warnings().isEmpty }, "the journal must say why: \(a.process.standardError)")
        #expect(warnings().allSatisfy { $0.hasPrefix("<4>") }, "a warning: \(warnings())")
        // Tried again (a manual sync retries at once), failing the same way: not said again.
        _ = try await a.ctl(["sync", "--wait", "--timeout", "20"])
        #expect(warnings().count == 1, "\(warnings())")
        // Fixed: a later try of its own (backoff at most 1 s here) writes it.
        try FileManager.default.removeItem(atPath: a.root + "/agreement")
        #expect(await eventually(timeout: 20) { a.read("agreement/blocked.json")?.contains("negotiating") == true })
    }

    @Test func theHubTellsSystemdItIsReady() throws {
        let folder = try TemporaryFolder()
        let listener = try DatagramListener(path: folder.child("notify.sock"))
        let hub = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            ["--listen", "127.0.0.1:0", "--open", "--db", folder.child("hub.db"), "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000"], logFolder: folder.path)
        #expect(listener.wait(for: "READY=1"))
        #expect(listener.wait(for: "WATCHDOG=1"))
        hub.signal(SIGTERM)
        #expect(try hub.waitForExit(timeout: 15) == 0)
        #expect(listener.wait(for: "STOPPING=1"))
    }

    @Test func metricsAreServedOnTheSocket() throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        try a.write("m.json", agreementText("m"))
        #expect(try a.ctl(["sync", "--wait"]).code == 0)
        let curl = try ChildProcess("/usr/bin/curl", ["-s", "--unix-socket", a.socket, "http://accordd/metrics"], logFolder: a.folder.path)
        _ = try curl.waitForExit(timeout: 10)
        let text = curl.standardOutput
        #expect(text.contains("accord_pushes_total 1"), "\(text)")
        #expect(text.contains("accord_hub_reachable 1"))
        #expect(text.contains("accord_change_to_ack_seconds_count"))
    }

    @Test func metricsListenServesMetricsOnlyOnTCP() async throws {
        let hub = try HubLauncher()
        let port = try LoopbackSocket.freePort()
        let a = try DaemonLauncher(hubPort: hub.port, extraConfig: "[metrics]\nlisten = \"127.0.0.1:\(port)\"")
        #expect(try await a.ctl(["status"]).code == 0)
        let metrics = try await RawHTTPClient(port: port).request("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.text.contains("accord_pending_operations"))
        let status = try await RawHTTPClient(port: port).request("GET", "/v1/status")
        #expect(status.status == 404)
        // Hostile bytes on the same server code get a clean refusal, and it keeps serving.
        let garbage = try await RawHTTPClient(port: port).exchange(Array("\u{01}\u{02} nonsense\r\n\r\n".utf8))
        #expect(String(decoding: garbage, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        let huge = try await RawHTTPClient(port: port).exchange(Array(("GET /metrics HTTP/1.1\r\nX: " + String(repeating: "a", count: 100_000)).utf8))
        #expect(String(decoding: huge, as: UTF8.self).hasPrefix("HTTP/1.1 431"))
        let chunked = try await RawHTTPClient(port: port).exchange(Array("POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        #expect(String(decoding: chunked, as: UTF8.self).hasPrefix("HTTP/1.1 411"))
        #expect(try await a.ctl(["status"]).code == 0)
        #expect(a.process.isRunning)
    }
}

/// A Unix datagram socket standing in for systemd's notify socket.
final class DatagramListener: @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    private var received: [String] = []

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw TestSupportError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    /// Nothing reads the socket until the next `wait` or `drain` (a no-op marker: this
    /// listener only reads inside those calls).
    func stopReading() {}

    /// Reads whatever is queued.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return }
            received.append(String(decoding: buffer[0..<count], as: UTF8.self))
        }
    }

    /// Waits up to 15 s for a message starting with `prefix`.
    func wait(for prefix: String) -> Bool {
        let end = Date().addingTimeInterval(15)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            if received.contains(where: { $0.hasPrefix(prefix) }) { return true }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { received.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        return received.contains(where: { $0.hasPrefix(prefix) })
    }
}
