import AccordTestSupport
import Foundation
import Testing

/// Real hub, real daemons, real accordctl: records flow both ways.
@Suite(.serialized) struct FlowTests {
    @Test func createEditMoveDeleteAndJsonlLinesFlowBothWays() async throws {
        let cluster = try Cluster(daemons: 2)
        let (a, b) = (cluster.daemons[0], cluster.daemons[1])
        let line1 = #"{"kind": "agreement", "id": "one", "title": "One", "parties": ["A", "B"], "status": "proposed"}"#
        let line2 = #"{"kind": "agreement", "id": "two", "title": "Two", "parties": ["A", "B"], "status": "proposed"}"#
        try a.write("sets/both.jsonl", line1 + "\n" + line2 + "\n")
        try a.write("solo.json", agreementText("solo"))
        #expect(await eventually { b.read("agreement/one.json") != nil && b.read("agreement/two.json") != nil && b.read("agreement/solo.json") != nil })
        // b edits one record of a's dataset file: a's line is rewritten in place.
        try b.write("agreement/one.json", b.read("agreement/one.json")!.replacingOccurrences(of: "proposed", with: "signed"))
        #expect(await eventually { a.read("sets/both.jsonl")?.contains(#""id": "one", "title": "One", "parties": ["A", "B"], "status": "signed""#) == true })
        #expect(a.read("sets/both.jsonl")?.split(separator: "\n").last == Substring(line2))
        // b deletes the other: a's line goes, the file stays.
        try FileManager.default.removeItem(atPath: b.root + "/agreement/two.json")
        #expect(await eventually { a.read("sets/both.jsonl")?.contains(#""id": "two""#) == false })
        // a moves solo: no change reaches b or the hub.
        let before = try await cluster.json("/v1/records/agreement/solo")["rev"] as? String
        try FileManager.default.createDirectory(atPath: a.root + "/archive", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: a.root + "/solo.json", toPath: a.root + "/archive/solo.json")
        try cluster.settle()
        #expect(try await cluster.json("/v1/records/agreement/solo")["rev"] as? String == before)
        #expect(b.read("agreement/solo.json") != nil)
        // a deletes solo from its new place: b's copy goes.
        try FileManager.default.removeItem(atPath: a.root + "/archive/solo.json")
        #expect(await eventually { b.read("agreement/solo.json") == nil })
        try cluster.settle()
        #expect(Cluster.records(in: a.root) == Cluster.records(in: b.root))
    }

    @Test func editsOfDifferentFieldsMerge() async throws {
        let cluster = try Cluster(daemons: 2)
        let (a, b) = (cluster.daemons[0], cluster.daemons[1])
        try a.write("hns.json", agreementText("hns"))
        #expect(await eventually { b.read("agreement/hns.json") != nil })
        #expect(try await a.ctl(["pause"]).code == 0)
        #expect(try await b.ctl(["pause"]).code == 0)
        try a.write("hns.json", agreementText("hns", status: "signed"))
        try b.write("agreement/hns.json", agreementText("hns", title: "HNS special measures"))
        #expect(try await a.ctl(["resume"]).code == 0)
        #expect(try await b.ctl(["resume"]).code == 0)
        try cluster.settle()
        let hub = try await cluster.hubRecords()["agreement/hns"]
        #expect(hub?["status"] as? String == "signed" && hub?["title"] as? String == "HNS special measures")
        #expect(Cluster.records(in: a.root) == Cluster.records(in: b.root))
        #expect(try a.status()["conflicts"] as? Int == 0 && b.status()["conflicts"] as? Int == 0)
    }

    @Test func anInvalidFileIsReportedNotPushedAndSyncsOnceFixed() async throws {
        let cluster = try Cluster(daemons: 1)
        let a = cluster.daemons[0]
        try a.write("bad.json", #"{"kind": "agreement", "id": "bad", "title": "Bad", "parties": ["A"], "status": "nope"}"#)
        try a.write("broken.json", #"{"kind": "agreement", "id": "broken",,}"#)
        #expect(try await a.ctl(["sync", "--wait"]).code == 0)
        let status = try await a.ctl(["status"])
        #expect(status.out.contains("bad.json") && status.out.contains("broken.json:1:"), "\(status.out)")
        #expect(try await cluster.hub.client.request("GET", "/v1/records/agreement/bad").status == 404)
        try a.write("bad.json", agreementText("bad"))
        try a.write("broken.json", agreementText("broken"))
        // The two fixes may be seen in different steps: wait for both.
        #expect(try await eventuallyAsync { try await cluster.hub.client.request("GET", "/v1/records/agreement/broken").status == 200 })
        #expect(try await eventuallyAsync { try await cluster.hub.client.request("GET", "/v1/records/agreement/bad").status == 200 })
        #expect(try (a.status()["invalid"] as? [Any])?.isEmpty == true)
    }

    @Test func aHubOutageWhileBothSidesEditConverges() async throws {
        let cluster = try Cluster(daemons: 2)
        let (a, b) = (cluster.daemons[0], cluster.daemons[1])
        try a.write("x.json", agreementText("x"))
        #expect(await eventually { b.read("agreement/x.json") != nil })
        cluster.hub.process.signal(SIGTERM)
        _ = try await cluster.hub.process.waitForExit(timeout: 15)
        for second in 0..<10 {
            try a.write("a\(second).json", agreementText("a\(second)"))
            try b.write("b\(second).json", agreementText("b\(second)"))
            try await Task.sleep(for: .milliseconds(1000))
        }
        try a.write("x.json", agreementText("x", status: "signed"))
        #expect(try a.status()["state"] as? String == "offline")
        try cluster.hub.restart(samePort: true)
        #expect(
            await eventually(timeout: 60) {
                Cluster.records(in: a.root).count == 21 && Cluster.records(in: a.root) == Cluster.records(in: b.root)
            })
        #expect(b.read("agreement/x.json")?.contains("signed") == true)
        #expect(try await cluster.hubRecords().count == 21)
    }

    @Test func emptyingARootTripsTheGuardOnlyThere() async throws {
        let cluster = try Cluster(daemons: 2)
        let (a, b) = (cluster.daemons[0], cluster.daemons[1])
        for index in 0..<15 { try a.write("r\(index).json", agreementText("r\(index)")) }
        #expect(await eventually { Cluster.records(in: b.root).count == 15 })
        for index in 0..<15 { try FileManager.default.removeItem(atPath: a.root + "/r\(index).json") }
        #expect(try await eventually { try a.status()["held_deletions"] as? Int == 15 })
        // A settled sync on each side is the barrier: anything a had let through would
        // have reached b by then.
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(try await b.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(Cluster.records(in: b.root).count == 15)
        #expect(try await cluster.hubRecords().count == 15)
        #expect(try await a.ctl(["resume", "--allow-deletes"]).code == 0)
        #expect(await eventually { Cluster.records(in: b.root).isEmpty })
    }
}
