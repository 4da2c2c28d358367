import AccordStore
import AccordTestSupport
import Foundation
import Testing

/// Kills, bulk loads and random edits across several daemons.
@Suite(.serialized) struct StressTests {
    @Test func killedDuringABulkSyncOf5000ItConvergesWithoutDuplicates() async throws {
        let cluster = try Cluster(daemons: 1)
        let b = cluster.daemons[0]
        // a reaches the hub through a proxy that answers each request 2 s after the hub
        // applied it, so the kill lands while the hub holds writes a has not heard back
        // about (checked below).
        let slow = try FaultProxy(upstreamPort: cluster.hub.port, rates: FaultProxy.Rates(faultRate: 1, faults: [.delayAnswer(milliseconds: 2000)]))
        defer { slow.stop() }
        let a = try DaemonLauncher(hubPort: slow.port)
        #expect(try await a.ctl(["pause"]).code == 0)
        for index in 0..<5000 { try a.write("bulk/\(index % 50)/r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["resume"]).code == 0)
        // Killed as soon as the first records reach the hub.
        #expect(try await eventuallyAsync(timeout: 60) { try await cluster.recordCount() > 0 })
        a.process.signal(SIGKILL)
        _ = try await a.process.waitForExit(timeout: 10)
        let partial = try await cluster.recordCount()
        let unacknowledged = try StateStore(path: a.folder.child("state.db")).pendingCount()
        try a.restart()
        let synced = try await a.ctl(["sync", "--wait", "--timeout", "120"])
        #expect(synced.code == 0, "\(synced.out) \(synced.err) \(a.process.standardError.suffix(4000))")
        try cluster.settle()
        #expect(partial > 0 && unacknowledged > 0, "the kill must land mid-push (the hub held \(partial), \(unacknowledged) still queued)")
        #expect(Cluster.records(in: b.root).count == 5000)
        let hub = try await cluster.hubRecords()
        #expect(hub.count == 5000)
        // Each record has exactly one revision: no operation was applied twice.
        let changes = try await cluster.json("/v1/changes?since=0&limit=10000")["changes"] as? [Any] ?? []
        #expect(changes.count == 5000)
        for index in stride(from: 0, to: 5000, by: 97) {
            #expect(try await cluster.revisions("agreement/r\(index)").count == 1)
        }
    }

    @Test func randomEditsOnThreeDaemonsConvergeAndLoseNothing() async throws {
        let cluster = try Cluster(daemons: 3)
        var random = SystemRandomNumberGenerator()
        var written: [(key: String, value: String)] = []
        /// The last value each replica wrote to each record (nil once it deleted it).
        var lastWrite: [String: String?] = [:]
        var ids: [String] = []
        for index in 0..<10 {
            let id = "seed\(index)"
            try cluster.daemons[0].write("agreement/\(id).json", agreementText(id, notes: "seed"))
            ids.append(id)
        }
        try cluster.settle()
        let start = Date()
        for step in 0..<300 {
            let daemon = cluster.daemons[Int.random(in: 0..<3, using: &random)]
            let roll = Int.random(in: 0..<10, using: &random)
            let id: String
            if roll == 0 || ids.isEmpty {
                id = "new\(step)"
                ids.append(id)
            } else {
                id = ids.randomElement(using: &random)!
            }
            let path = "agreement/\(id).json"
            let replica = cluster.daemons.firstIndex { $0 === daemon }!
            if roll == 1, daemon.read(path) != nil {
                try? FileManager.default.removeItem(atPath: daemon.root + "/" + path)
                lastWrite["agreement/\(id)#\(replica)"] = .some(nil)
            } else {
                let value = "d\(replica)-s\(step)"
                try daemon.write(path, agreementText(id, notes: value))
                written.append(("agreement/\(id)", value))
                lastWrite["agreement/\(id)#\(replica)"] = .some(value)
            }
            // 300 edits over about 30 seconds.
            let due = start.addingTimeInterval(Double(step + 1) * 0.1)
            if due > Date() { try await Task.sleep(for: .milliseconds(Int(due.timeIntervalSinceNow * 1000))) }
        }
        try cluster.settle()
        try cluster.settle()
        let hub = try await cluster.hubRecords()
        for daemon in cluster.daemons {
            #expect(Cluster.records(in: daemon.root) == hub, "root \(daemon.root) differs from the hub")
        }
        // Every value written is in the final state, in the hub's history, or in an
        // open conflict of some daemon.
        var conflictText = ""
        for daemon in cluster.daemons { await conflictText += try daemon.ctl(["conflicts", "--json"]).out }
        var history: [String: Set<String>] = [:]
        for key in Set(written.map(\.key)) {
            history[key] = Set(try await cluster.revisions(key).compactMap { $0["notes"] as? String })
        }
        // The last write of each replica to each record must have reached the final
        // state, the hub's history or an open conflict: an earlier write may be
        // overwritten locally before it was ever pushed, the last one may not.
        var lost: [String] = []
        for (slot, value) in lastWrite {
            guard let value else { continue }
            let key = String(slot[..<slot.firstIndex(of: "#")!])
            let final = hub[key]?["notes"] as? String
            if final == value || history[key]?.contains(value) == true || conflictText.contains("\"\(value)\"") { continue }
            lost.append("\(key)=\(value)")
        }
        #expect(written.count > 200, "the workload must write")
        #expect(lost.isEmpty, "last writes lost: \(lost.prefix(10))")
    }
}
