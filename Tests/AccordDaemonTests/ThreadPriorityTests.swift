import AccordTestSupport
import Foundation
import Testing

/// The services as systemd runs them: an unprivileged user, who may not go below
/// nice 0. libdispatch logs each thread it could not give the nice value its QoS
/// asks for ("Failed to set thread priority", to the journal at every start), so the
/// services' own work must run at the default QoS (nice 0). Only libdispatch's
/// event-manager thread still asks for -4, which no setting of ours can change (the
/// units turn libdispatch's log off for it).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to run the services as another user"))
struct ThreadPriorityTests {
    /// Runs a program as `nobody`, libdispatch logging to stderr.
    static func unprivileged(_ program: String, _ arguments: [String], folder: TemporaryFolder) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", try BuiltProducts.path(of: program)] + arguments,
            environment: ["LIBDISPATCH_LOG": "stderr"], logFolder: folder.path)
    }

    /// Each thread's nice value, from /proc (field 19 of stat, after the name's `)`).
    static func threadNiceValues(_ pid: pid_t) throws -> [Int] {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        return try tasks.map { task in
            let stat = try String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8)
            let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
            // After the name: state is field 3, nice field 19.
            return Int(fields[16])!
        }
    }

    static func check(_ process: ChildProcess) throws {
        let nice = try Self.threadNiceValues(process.pid)
        #expect(nice.allSatisfy { $0 == 0 }, "thread nice values: \(nice)")
        process.signal(SIGTERM)
        #expect(try process.waitForExit(timeout: 15) == 0)
        // One refusal: the event-manager thread's. A userInitiated queue or task of
        // ours would add its own (nice -2).
        let refusals = process.standardError.components(separatedBy: "Failed to set thread priority").count - 1
        #expect(refusals <= 1, "\(process.standardError)")
    }

    @Test func theDaemonAsksForNoPriorityItMayNotHave() async throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        chmod(folder.path, 0o777)
        let root = folder.child("root")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o777)
        try Data(agreementText("hns").utf8).write(to: URL(fileURLWithPath: root + "/hns.json"))
        chmod(root + "/hns.json", 0o666)
        let config = try folder.write(
            "d.toml",
            DaemonLauncher.config(root: root, state: folder.child("state.db"), socket: folder.child("c.sock"), hubPort: hub.port, extra: ""))
        let daemon = try Self.unprivileged("accordd", ["--config", config], folder: folder)
        _ = try daemon.waitForError(containing: "control socket ready", timeout: 30)
        // It did its work (a push reached the hub) before the threads are read.
        #expect(try await eventuallyAsync(timeout: 30) { try await hubStatus(hub, "hns") == "negotiating" })
        try Self.check(daemon)
    }

    @Test func theHubAsksForNoPriorityItMayNotHave() async throws {
        let folder = try TemporaryFolder()
        chmod(folder.path, 0o777)
        let hub = try Self.unprivileged(
            "accordhub", ["--listen", "127.0.0.1:0", "--open", "--db", folder.child("hub.db"), "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            folder: folder)
        let line = try hub.waitForOutput(containing: "listening on", timeout: 30)
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0) })
        // A write and a read, so the storage's threads have run.
        let client = RawHTTPClient(host: "127.0.0.1", port: port)
        let put = try await client.request(
            "PUT", "/v1/records/news/n1", headers: ["If-None-Match": "*"],
            json: #"{"headline": "Treaty signed", "published": "2024-05-01", "source": "wire"}"#)
        #expect(put.status == 201)
        #expect(try await client.request("GET", "/v1/changes?since=0").status == 200)
        try Self.check(hub)
    }
}
