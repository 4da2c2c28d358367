import AccordTestSupport
import Foundation
import Testing

/// Daemons on datasets of one real hub (CONTRACT 8.1): one root, one dataset.
@Suite struct DatasetDaemonTests {
    /// An open hub with the datasets `hns` and `press` beside `default`.
    static func hub(_ folder: TemporaryFolder) throws -> HubLauncher {
        let config = try folder.write("hub.toml", "open = true\n[[datasets]]\nname = \"hns\"\n[[datasets]]\nname = \"press\"\n")
        return try HubLauncher(arguments: ["--config", config], folder: folder)
    }

    static func daemon(_ hub: HubLauncher, dataset: String) throws -> DaemonLauncher {
        try DaemonLauncher(hubPort: hub.port, extraConfig: "dataset = \"\(dataset)\"")
    }

    /// The ids of the records the hub's feed names for a dataset (its route prefix).
    static func hubIDs(_ hub: HubLauncher, _ prefix: String) async throws -> Set<String> {
        let response = try await hub.client.request("GET", prefix + "/changes?since=0&limit=1000")
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw TestSupportError("\(prefix)/changes answered \(response.status)")
        }
        return Set((object["changes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    @Test func twoDaemonsOnTwoDatasetsNeverSeeEachOthersRecords() async throws {
        let folder = try TemporaryFolder()
        let hub = try Self.hub(folder)
        let hnsA = try Self.daemon(hub, dataset: "hns")
        let hnsB = try Self.daemon(hub, dataset: "hns")
        let press = try Self.daemon(hub, dataset: "press")
        #expect(try hnsA.status()["dataset"] as? String == "hns")
        #expect(try await press.ctl(["status"]).out.contains("dataset:    press"))

        try hnsA.write("agreement/hns.json", agreementText("hns"))
        try press.write("agreement/press-only.json", agreementText("press-only", title: "Press"))
        #expect(try await hnsA.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await press.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        // Each record went to its own dataset, and to no other.
        #expect(try await Self.hubIDs(hub, "/v1/datasets/hns") == ["hns"])
        #expect(try await Self.hubIDs(hub, "/v1/datasets/press") == ["press-only"])
        #expect(try await Self.hubIDs(hub, "/v1").isEmpty)

        // The second hns daemon receives hns's record; once both feeds are drained, the
        // press daemon still has only its own, and hns's daemons never got press's.
        #expect(await eventually { hnsB.read("agreement/hns.json")?.contains("negotiating") == true })
        for daemon in [hnsB, press] { #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0) }
        #expect(press.read("agreement/hns.json") == nil)
        #expect(hnsA.read("agreement/press-only.json") == nil && hnsB.read("agreement/press-only.json") == nil)
        #expect(try hnsB.status()["records"] as? Int == 1 && press.status()["records"] as? Int == 1)
    }

    @Test func aRootThatSyncedRefusesAnotherDatasetUntilItsStateIsMovedAway() async throws {
        let folder = try TemporaryFolder()
        let hub = try Self.hub(folder)
        let daemon = try Self.daemon(hub, dataset: "hns")
        try daemon.write("agreement/hns.json", agreementText("hns"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        daemon.process.signal(SIGTERM)
        #expect(try await daemon.process.waitForExit(timeout: 10) == 0)

        // Pointed at press, it refuses to start (exit 2: systemd does not retry a config
        // error) and says both ways out; press is untouched.
        try daemon.rewriteConfig(hubPort: hub.port, extraConfig: "dataset = \"press\"")
        let refused = try ChildProcess(try BuiltProducts.path(of: "accordd"), ["--config", daemon.configPath], logFolder: daemon.folder.path)
        #expect(try await refused.waitForExit(timeout: 20) == 2)
        let line = refused.standardError
        #expect(line.contains("was synced with dataset \"hns\"") && line.contains("dataset = \"press\"") && line.contains("move"), "\(line)")
        #expect(try await Self.hubIDs(hub, "/v1/datasets/press").isEmpty)
        #expect(daemon.read("agreement/hns.json") != nil)

        // Moving the state away is the deliberate reset: the root's record then goes to
        // press as new, and hns keeps its own.
        for suffix in ["", "-wal", "-shm"] {
            let path = daemon.folder.child("state.db") + suffix
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.moveItem(atPath: path, toPath: path + ".hns") }
        }
        try daemon.restart()
        #expect(try daemon.status()["dataset"] as? String == "press")
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await Self.hubIDs(hub, "/v1/datasets/press") == ["hns"])
        #expect(try await Self.hubIDs(hub, "/v1/datasets/hns") == ["hns"])
    }

    @Test func aDatasetTheHubDoesNotHaveHoldsTheWorkAndSaysWhy() async throws {
        let folder = try TemporaryFolder()
        let hub = try Self.hub(folder)
        let daemon = try Self.daemon(hub, dataset: "budget")
        try daemon.write("agreement/hns.json", agreementText("hns"))
        // Nothing is pushed anywhere, the file stays, and status names the cause.
        #expect(
            await eventually(timeout: 20) {
                ((try? daemon.status())?["last_error"] as? String)?.contains("no dataset \"budget\"") == true
            })
        #expect(try daemon.status()["pending"] as? Int ?? 0 >= 1)
        #expect(daemon.read("agreement/hns.json") != nil)
        for prefix in ["/v1", "/v1/datasets/hns", "/v1/datasets/press"] { #expect(try await Self.hubIDs(hub, prefix).isEmpty) }
    }
}
