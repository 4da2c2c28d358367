import AccordTestSupport
import Foundation
import Testing

/// A receiving daemon whose root is a small tmpfs: a full disk, a read-only root and a
/// folder replaced by a file. In each, nothing is lost, nothing half-written is left,
/// status tells the truth, and the records arrive once the cause is gone. Needs root
/// (for mount).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
struct DiskFaultTests {
    /// Mounts a tmpfs of `size` on `path` until `unmount`.
    final class SmallDisk {
        let path: String
        init(at path: String, size: String) throws {
            self.path = path
            try run(["/bin/mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        }
        func remount(_ options: String) throws { try run(["/bin/mount", "-o", "remount,\(options)", path]) }
        deinit { try? run(["/bin/umount", "-l", path]) }
    }

    static func run(_ command: [String]) throws {
        let child = try ChildProcess(command[0], Array(command.dropFirst()), logFolder: NSTemporaryDirectory())
        let code = try child.waitForExit(timeout: 30)
        guard code == 0 else { throw TestSupportError("\(command.joined(separator: " ")) failed: \(child.standardError)") }
    }

    /// The record files B holds, and any temporary file left behind.
    func files(_ root: String) -> (records: [String], temporaries: [String]) {
        let all = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return (all.filter { $0.hasSuffix(".json") && !$0.contains("/.") }, all.filter { $0.contains(".accord-") })
    }

    /// B's records are all there and each parses as JSON.
    func complete(_ b: DaemonLauncher, count: Int) -> Bool {
        let found = files(b.root).records
        return found.count == count
            && found.allSatisfy { (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: b.root + "/" + $0)))) != nil }
    }

    @Test func aFullDiskLosesNothingAndCatchesUpOnceThereIsRoom() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let b = try DaemonLauncher(hubPort: hub.port, waitForReady: false)
        b.process.signal(SIGKILL)
        _ = try await b.process.waitForExit(timeout: 10)
        let disk = try SmallDisk(at: b.root, size: "512k")
        // Leave room for a handful of records only.
        let filler = b.root + "/.filler"
        try Data(count: 440 * 1024).write(to: URL(fileURLWithPath: filler))
        try b.restart()
        let body = String(repeating: "x", count: 3000)
        for index in 0..<30 { try a.write("r\(index).json", agreementText("r\(index)", title: "\(index) \(body)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        #expect(await eventually(timeout: 30) { ((try? b.status()["unapplied_count"] as? Int) ?? 0) > 0 })
        let status = try b.status()
        let reason = ((status["unapplied"] as? [[String: Any]])?.first?["error"] as? String) ?? ""
        #expect(reason.contains("No space left on device"), "\(reason)")
        #expect(b.process.isRunning)
        // A retry may be writing at this very moment (its temporary file is removed when
        // the write fails): what must not be is one that stays.
        #expect(await eventually(timeout: 10) { files(b.root).temporaries.isEmpty }, "no half-written file is left behind")
        try FileManager.default.removeItem(atPath: filler)
        #expect(await eventually(timeout: 60) { complete(b, count: 30) })
        #expect(files(b.root).temporaries.isEmpty, "no half-written file is left behind")
        #expect(await eventually(timeout: 30) { (try? b.status()["unapplied_count"] as? Int) == 0 })
        // B pushed nothing back: every record still has one revision on the hub.
        let revisions = try await hub.client.request("GET", "/v1/records/agreement/r7/revisions")
        #expect((try JSONSerialization.jsonObject(with: Data(revisions.body)) as? [String: Any])?["revisions"].map { ($0 as? [Any])?.count } == 1)
        withExtendedLifetime(disk) {}
    }

    /// Fills the disk at `folder` with one file, chunk by chunk until it is refused.
    func fill(_ folder: String) throws -> String {
        let path = folder + "/filler"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let chunk = Data(count: 16 * 1024)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        return path
    }

    /// The state database on a full disk while the hub's changes arrive: the files are
    /// written but their commit fails. The daemon backs off instead of spinning, says
    /// so in status, and once there is room it takes the hub's newer versions without
    /// a conflict and without pushing the stale ones back.
    @Test func aFullStateDiskBacksOffAndLeavesNoFalseConflict() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let stateFolder = try TemporaryFolder()
        let disk = try SmallDisk(at: stateFolder.path, size: "4m")
        let b = try DaemonLauncher(hubPort: hub.port, statePath: stateFolder.child("state.db"))
        let count = 20
        for index in 0..<count { try a.write("r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        #expect(await eventually(timeout: 30) { complete(b, count: count) })
        let filler = try fill(stateFolder.path)
        // Large edits, so their page cannot commit into the space the WAL already has.
        let body = String(repeating: "x", count: 20_000)
        for index in 0..<count { try a.write("r\(index).json", agreementText("r\(index)", title: "X", notes: body)) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        // B writes a page's files, then its commit fails; it holds that commit and
        // writes nothing more until the commit is made.
        #expect(
            await eventually(timeout: 30) { (0..<count).contains { b.read("agreement/r\($0).json")?.contains("\"X\"") == true } },
            "B writes a page's files before its commit fails")
        #expect(
            await eventually(timeout: 30) { ((try? b.status()["local_error"] as? String) ?? "").contains("full") },
            "\((try? b.status()) ?? [:])")
        let plain = try await b.ctl(["status"])
        #expect(plain.out.contains("failing:") && plain.out.contains("full"), "\(plain.out)")
        // A three-second window of a daemon whose every commit fails: the window is the
        // measurement, not a wait for something. The tries are counted, not the CPU
        // they use (that depends on the machine's load): with the backoff (a 0.5 s
        // floor) there are at most 6; without it, one step after another, hundreds.
        let before = try #require(try b.status()["local_failures"] as? Int)
        try await Task.sleep(for: .seconds(3))
        let tries = try #require(try b.status()["local_failures"] as? Int) - before
        #expect(tries <= 7, "a daemon whose state disk is full must back off, not spin: \(tries) tries in 3 s")
        #expect(plain.out.contains("tries so far"), "\(plain.out)")
        for index in 0..<count { try a.write("r\(index).json", agreementText("r\(index)", title: "Y")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        try FileManager.default.removeItem(atPath: filler)
        #expect(
            await eventually(timeout: 60) {
                (0..<count).allSatisfy { b.read("agreement/r\($0).json").map { $0.contains("\"Y\"") && !$0.contains("xxx") } == true }
            },
            "\(b.process.standardError.suffix(3000))")
        #expect(try await b.ctl(["sync", "--wait", "--timeout", "60"]).code == 0)
        let status = try b.status()
        #expect(status["conflicts"] as? Int == 0, "no false conflict: \(status)")
        #expect(status["local_error"] is NSNull && status["last_error"] is NSNull && status["local_failures"] as? Int == 0, "\(status)")
        // B pushed nothing back: each record has its create, X and Y only.
        for index in [0, count / 2, count - 1] {
            let revisions = try await hub.client.request("GET", "/v1/records/agreement/r\(index)/revisions")
            #expect((try JSONSerialization.jsonObject(with: Data(revisions.body)) as? [String: Any])?["revisions"].map { ($0 as? [Any])?.count } == 3)
        }
        // The failure went to the journal once per cause, not once per try.
        let lines = b.process.standardError.split(separator: "\n").filter { $0.contains("full") }
        #expect(lines.count <= 6, "\(lines.count) lines about the full disk:\n\(lines.prefix(10).joined(separator: "\n"))")
        withExtendedLifetime(disk) {}
    }

    /// A resume the state cannot keep (its disk is full) is kept once there is room:
    /// a restart afterwards must not find the daemon paused again.
    @Test func aResumeOnAFullStateDiskIsKeptOnceThereIsRoom() async throws {
        let hub = try HubLauncher()
        let stateFolder = try TemporaryFolder()
        let disk = try SmallDisk(at: stateFolder.path, size: "4m")
        let b = try DaemonLauncher(hubPort: hub.port, statePath: stateFolder.child("state.db"))
        #expect(try await b.ctl(["pause"]).code == 0)
        let filler = try fill(stateFolder.path)
        #expect(try await b.ctl(["resume"]).code == 0)
        #expect(
            await eventually(timeout: 30) { ((try? b.status()["local_error"] as? String) ?? "").contains("the resume") },
            "\((try? b.status()) ?? [:])")
        try FileManager.default.removeItem(atPath: filler)
        #expect(await eventually(timeout: 30) { (try? b.status()["local_error"]) is NSNull }, "\((try? b.status()) ?? [:])")
        b.process.signal(SIGTERM)
        _ = try await b.process.waitForExit(timeout: 30)
        try b.restart()
        try b.waitUntilReady()
        #expect(try b.status()["state"] as? String != "paused")
        withExtendedLifetime(disk) {}
    }

    @Test func aReadOnlyRootHoldsPullsUntilItIsWritable() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let b = try DaemonLauncher(hubPort: hub.port, waitForReady: false)
        b.process.signal(SIGKILL)
        _ = try await b.process.waitForExit(timeout: 10)
        let disk = try SmallDisk(at: b.root, size: "4m")
        try b.restart()
        try disk.remount("ro")
        for index in 0..<5 { try a.write("r\(index).json", agreementText("r\(index)")) }
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(await eventually(timeout: 30) { (try? b.status()["unapplied_count"] as? Int) == 5 })
        let reason = ((try b.status()["unapplied"] as? [[String: Any]])?.first?["error"] as? String) ?? ""
        #expect(reason.contains("Read-only file system"), "\(reason)")
        try disk.remount("rw")
        #expect(await eventually(timeout: 60) { complete(b, count: 5) })
        #expect(await eventually(timeout: 30) { (try? b.status()["unapplied_count"] as? Int) == 0 })
    }

    @Test func aFolderReplacedByAFileHoldsPullsUntilItIsAFolderAgain() async throws {
        let hub = try HubLauncher()
        let a = try DaemonLauncher(hubPort: hub.port)
        let b = try DaemonLauncher(hubPort: hub.port)
        try b.write("agreement", "someone's notes, not a folder\n")
        try a.write("f.json", agreementText("f"))
        #expect(try await a.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        #expect(await eventually(timeout: 30) { (try? b.status()["unapplied_count"] as? Int) == 1 })
        #expect(b.read("agreement") == "someone's notes, not a folder\n", "the file in the way is left alone")
        try FileManager.default.removeItem(atPath: b.root + "/agreement")
        #expect(await eventually(timeout: 60) { b.read("agreement/f.json")?.contains("\"f\"") == true })
    }
}
