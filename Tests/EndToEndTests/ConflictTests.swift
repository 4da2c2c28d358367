import AccordTestSupport
import Foundation
import Testing

/// The same field changed on both sides, through real daemons: each policy's outcome,
/// and `accordctl conflicts` / `resolve`.
@Suite(.serialized) struct ConflictTests {
    /// a sets status "signed" and pushes; then b (paused) sets "agreed" and resumes.
    func clash(_ cluster: Cluster) async throws {
        let (a, b) = (cluster.daemons[0], cluster.daemons[1])
        try a.write("hns.json", agreementText("hns"))
        #expect(await eventually { b.read("agreement/hns.json") != nil })
        #expect(try await b.ctl(["pause"]).code == 0)
        try a.write("hns.json", agreementText("hns", status: "signed"))
        #expect(try await eventuallyAsync { try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == "signed" })
        // b's edit must be the newer one for `newest`: its file's mtime is set past the
        // hub's revision time (b caps it at its own now, which is later still).
        try b.write("agreement/hns.json", agreementText("hns", status: "agreed"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: b.root + "/agreement/hns.json")
        #expect(try await b.ctl(["resume"]).code == 0)
        try cluster.settle()
    }

    @Test(arguments: [
        ("merge", "signed", "signed", 1),
        ("prefer-local", "agreed", "agreed", 0),
        ("prefer-remote", "signed", "signed", 0),
        ("newest", "agreed", "agreed", 0),
        ("manual", "signed", "agreed", 1),
    ])
    func eachPolicysOutcome(policy: String, hubValue: String, bFileValue: String, openConflicts: Int) async throws {
        let cluster = try Cluster(daemons: 2, policy: policy)
        try await clash(cluster)
        let b = cluster.daemons[1]
        #expect(try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == hubValue)
        #expect(b.read("agreement/hns.json")?.contains("\"status\": \"\(bFileValue)\"") == true, "\(b.read("agreement/hns.json") ?? "")")
        #expect(try b.status()["conflicts"] as? Int == openConflicts)
        // No value is lost: "agreed" is on the hub, in b's file, in an open conflict, or
        // (a policy overrode it) recorded in the event log.
        let revisions = try await cluster.revisions("agreement/hns").compactMap { $0["status"] as? String }
        let conflicts = try await b.ctl(["conflicts", "--json"]).out
        let log = try await b.ctl(["log", "-n", "50", "--json"]).out
        #expect(
            revisions.contains("agreed") || b.read("agreement/hns.json")!.contains("agreed") || conflicts.contains("agreed")
                || log.contains("agreed"))
    }

    @Test func conflictsAreListedAndResolvedEachWay() async throws {
        let cluster = try Cluster(daemons: 2)
        let b = cluster.daemons[1]
        try await clash(cluster)
        let listed = try await b.ctl(["conflicts"])
        #expect(listed.out.contains("agreement/hns") && listed.out.contains("local:  agreed") && listed.out.contains("remote: signed"), "\(listed.out)")
        #expect(try await b.ctl(["status"]).out.contains("accordctl conflicts"))
        // --keep local: b's value goes to the hub.
        #expect(try await b.ctl(["resolve", "agreement/hns", "--keep", "local"]).code == 0)
        try cluster.settle()
        #expect(try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == "agreed")
        #expect(try await b.ctl(["conflicts"]).out.contains("no open conflicts"))
        // No conflict left: an operation that failed (1), not a usage error (2).
        #expect(try await b.ctl(["resolve", "agreement/hns", "--keep", "local"]).code == 1)

        // --keep remote: the hub's value lands in b's file.
        #expect(try await b.ctl(["pause"]).code == 0)
        let a = cluster.daemons[0]
        try a.write("hns.json", agreementText("hns", status: "in_force"))
        #expect(try await eventuallyAsync { try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == "in_force" })
        try b.write("agreement/hns.json", agreementText("hns", status: "expired"))
        #expect(try await b.ctl(["resume"]).code == 0)
        try cluster.settle()
        #expect(try b.status()["conflicts"] as? Int == 1)
        #expect(try await b.ctl(["resolve", "agreement/hns", "--keep", "remote"]).code == 0)
        try cluster.settle()
        #expect(b.read("agreement/hns.json")?.contains("in_force") == true)
        #expect(try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == "in_force")

        // --keep FILE: a whole record from a file.
        #expect(try await b.ctl(["pause"]).code == 0)
        try a.write("hns.json", agreementText("hns", status: "terminated"))
        #expect(try await eventuallyAsync { try await cluster.hubRecords()["agreement/hns"]?["status"] as? String == "terminated" })
        try b.write("agreement/hns.json", agreementText("hns", status: "proposed"))
        #expect(try await b.ctl(["resume"]).code == 0)
        try cluster.settle()
        let chosen = try b.folder.write("chosen.json", agreementText("hns", status: "extended", title: "Chosen"))
        #expect(try await b.ctl(["resolve", "agreement/hns", "--keep", chosen]).code == 0)
        try cluster.settle()
        let final = try await cluster.hubRecords()["agreement/hns"]
        #expect(final?["status"] as? String == "extended" && final?["title"] as? String == "Chosen")
        #expect(a.read("hns.json")?.contains("Chosen") == true)
    }
}
