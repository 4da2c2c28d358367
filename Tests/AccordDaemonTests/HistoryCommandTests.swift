import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// `accordctl history`, `show` and `revert` (CONTRACT 8.2) on real processes: a hub
/// with two tokens, a daemon holding one of them, the other writing directly.
@Suite struct HistoryCommandTests {
    static func hub(_ folder: TemporaryFolder) throws -> HubLauncher {
        var text = ""
        for name in ["alice", "bob"] {
            text += "[[tokens]]\nname = \"\(name)\"\nsha256 = \"\(ContentHash.hex(Array("\(name)-token".utf8)))\"\naccess = \"rw\"\n"
        }
        return try HubLauncher(arguments: ["--config", try folder.write("hub.toml", text)], folder: folder)
    }

    @Test func historyNamesWhoChangedWhichFieldAndRevertMakesANewRevision() async throws {
        let folder = try TemporaryFolder()
        let hub = try Self.hub(folder)
        let daemon = try DaemonLauncher(hubPort: hub.port, extraConfig: "token_file = \"\(try folder.write("alice.token", "alice-token\n"))\"")
        let bob = ["Authorization": "Bearer bob-token"]
        // alice (through her daemon) creates it; bob changes its status on the hub.
        try daemon.write("agreement/hns.json", agreementText("hns"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        let first = try #require(try await hub.client.request("GET", "/v1/records/agreement/hns", headers: bob).header("etag"))
        let put = try await hub.client.request(
            "PUT", "/v1/records/agreement/hns", headers: bob.merging(["If-Match": first]) { a, _ in a },
            json: #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "agreed"}"#)
        #expect(put.status == 200)
        #expect(await eventually(timeout: 20) { daemon.read("agreement/hns.json")?.contains("agreed") == true })

        let history = try await daemon.ctl(["history", "agreement/hns"])
        #expect(history.code == 0, "\(history.err)")
        let lines = history.out.split(separator: "\n").map(String.init)
        // Newest first: bob's change of status, then alice's creation of every field.
        let bobLine = try #require(lines.firstIndex { $0.hasPrefix("2-") && $0.hasSuffix("bob") }, "\(history.out)")
        let aliceLine = try #require(lines.firstIndex { $0.hasPrefix("1-") && $0.hasSuffix("alice") }, "\(history.out)")
        #expect(bobLine < aliceLine)
        #expect(lines[bobLine + 1].contains("status: negotiating -> agreed"), "\(history.out)")
        #expect(lines[(aliceLine + 1)...].contains { $0.contains("title:") }, "\(history.out)")

        // show --rev prints the old revision whole, as its file would hold it.
        let rev1 = String(first.dropFirst().dropLast())
        let shown = try await daemon.ctl(["show", "agreement/hns", "--rev", rev1])
        #expect(shown.code == 0 && shown.out.contains("\"negotiating\"") && shown.out.contains("\"kind\": \"agreement\""), "\(shown.out) \(shown.err)")
        #expect(try await daemon.ctl(["show", "agreement/hns", "--rev", "9-0000000000000000"]).code == 1)

        // revert writes revision 1's fields into the file; it syncs as revision 3, by alice.
        let reverted = try await daemon.ctl(["revert", "agreement/hns", "--to", rev1])
        #expect(reverted.code == 0, "\(reverted.err)")
        #expect(daemon.read("agreement/hns.json")?.contains("negotiating") == true)
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await hubStatusAs(hub, bob) == "negotiating")
        let after = try await daemon.ctl(["history", "agreement/hns", "-n", "1", "--json"])
        let newest = try JSONParser.parse(Array(after.out.utf8)).objectValue?["revisions"]?.arrayValue?.first?.objectValue
        #expect(newest?["rev"]?.stringValue?.hasPrefix("3-") == true && newest?["author"] == .string("alice"), "\(after.out)")

        // A replica behind the hub reverts against the hub's version, not its own: paused,
        // it misses bob's next edit, and revision 2 still comes back whole.
        #expect(try await daemon.ctl(["pause"]).code == 0)
        let third = try #require(try await hub.client.request("GET", "/v1/records/agreement/hns", headers: bob).header("etag"))
        let signed = try await hub.client.request(
            "PUT", "/v1/records/agreement/hns", headers: bob.merging(["If-Match": third]) { a, _ in a },
            json: #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "signed"}"#)
        #expect(signed.status == 200)
        let rev2 = try #require(lines[bobLine].split(separator: " ").first.map(String.init))
        let behind = try await daemon.ctl(["revert", "agreement/hns", "--to", rev2])
        #expect(behind.code == 0, "\(behind.err)")
        #expect(try await daemon.ctl(["resume"]).code == 0)
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "20"]).code == 0)
        #expect(try await hubStatusAs(hub, bob) == "agreed")
        #expect(try await daemon.ctl(["conflicts"]).out.contains("no open conflicts"))

        // Local changes the hub has not seen are never thrown away by a revert.
        #expect(try await daemon.ctl(["pause"]).code == 0)
        try daemon.write("agreement/hns.json", agreementText("hns", status: "extended"))
        let refused = try await daemon.ctl(["revert", "agreement/hns", "--to", rev1])
        #expect(refused.code == 1 && refused.err.contains("local changes"), "\(refused.err)")
        #expect(daemon.read("agreement/hns.json")?.contains("extended") == true)
        #expect(try await daemon.ctl(["resume"]).code == 0)

        // The longest page works (the predecessor of its oldest comes from the next page).
        #expect(try await daemon.ctl(["history", "agreement/hns", "-n", "100"]).code == 0)

        // What cannot be done says why: an unknown record, an unknown revision.
        #expect(try await daemon.ctl(["history", "agreement/nothing"]).code == 1)
        let unknown = try await daemon.ctl(["revert", "agreement/hns", "--to", "7-ffffffffffffffff"])
        #expect(unknown.code == 1 && unknown.err.contains("no revision"), "\(unknown.err)")
    }

    func hubStatusAs(_ hub: HubLauncher, _ headers: [String: String]) async throws -> String? {
        let response = try await hub.client.request("GET", "/v1/records/agreement/hns", headers: headers)
        return (try? JSONParser.parse(response.body))?.objectValue?["fields"]?.objectValue?["status"]?.stringValue
    }
}
