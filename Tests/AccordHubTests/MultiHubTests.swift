import AccordTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Two `accordhub` processes on one PostgreSQL database (CONTRACT 8.5): every guarantee
/// holds across them. Runs when `ACCORD_TEST_POSTGRES_URL` names a database (the
/// PostgreSQL pass of scripts/test.sh); each test has a dataset of its own.
@Suite(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
struct MultiHubTests {
    let hubs: [HubLauncher]
    /// This test's dataset's route prefix.
    let prefix: String

    init() throws {
        let folder = try TemporaryFolder()
        let dataset = "m\(UInt32.random(in: 0..<UInt32.max))"
        let config = try folder.write("hub.toml", "open = true\n[[datasets]]\nname = \"\(dataset)\"\n")
        let url = try #require(TestPostgres.url)
        hubs = try (0..<2).map { _ in try HubLauncher(arguments: ["--config", config], folder: folder, database: url) }
        prefix = "/v1/datasets/\(dataset)"
    }

    static let news = #"{"headline": "Treaty signed", "published": "2024-05-01", "source": "wire"}"#

    func changes(_ hub: HubLauncher, since: Int64, limit: Int = 1000, wait: Int = 0) async throws -> (seqs: [Int64], last: Int64) {
        let response = try await hub.client.request("GET", "\(prefix)/changes?since=\(since)&limit=\(limit)&wait=\(wait)", timeout: 60)
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let last = (object["last_seq"] as? NSNumber)?.int64Value
        else { throw TestSupportError("changes answered \(response.status)") }
        let seqs = (object["changes"] as? [[String: Any]] ?? []).compactMap { ($0["seq"] as? NSNumber)?.int64Value }
        return (seqs, last)
    }

    /// Hub one's long-poll ends with the write made through hub two, whether it was
    /// parked when the write committed (woken by NOTIFY) or came after it.
    @Test func aLongPollOnOneHubEndsWithAWriteThroughTheOther() async throws {
        let (one, two) = (hubs[0], hubs[1])
        async let polled = changes(one, since: 0, wait: 30)
        let put = try await two.client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-None-Match": "*"], json: Self.news)
        #expect(put.status == 201)
        let (seqs, last) = try await polled
        #expect(seqs == [1] && last == 1, "hub one's long-poll returned \(seqs) (last \(last)) instead of the write made through hub two")
    }

    @Test func concurrentWritersOnOneRecordThroughBothHubsOneWinsPerRev() async throws {
        let created = try await hubs[0].client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-None-Match": "*"], json: Self.news)
        let etag = try #require(created.header("ETag"))
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<16 {
                group.addTask { [hubs, prefix] in
                    let body = #"{"headline": "Edit \#(index)", "published": "2024-05-01", "source": "wire"}"#
                    return try await hubs[index % 2].client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-Match": etag], json: body).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1 && statuses.filter { $0 == 412 }.count == 15, "\(statuses.sorted())")
        // Both hubs agree on the winner.
        let first = try await hubs[0].client.request("GET", "\(prefix)/records/news/n1")
        let second = try await hubs[1].client.request("GET", "\(prefix)/records/news/n1")
        #expect(first.header("ETag") == second.header("ETag") && first.header("ETag")?.hasPrefix("\"2-") == true)
    }

    /// 32 writers, alternating hubs, create a record each at once: every write gets a
    /// seq of its own, and the feed holds exactly 1...32. Without the counter row's
    /// lock two hubs' transactions would take the same seq.
    @Test func writersThroughBothHubsAtOnceTakeSeqsOfTheirOwn() async throws {
        let writers = 32
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<writers {
                group.addTask { [hubs, prefix] in
                    try await hubs[index % 2].client.request("PUT", "\(prefix)/records/news/c\(index)", headers: ["If-None-Match": "*"], json: Self.news)
                        .status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 201, count: writers), "\(statuses.sorted())")
        let page = try await changes(hubs[1], since: 0)
        #expect(page.seqs == Array(1...Int64(writers)) && page.last == Int64(writers), "the feed holds \(page.seqs)")
    }

    /// Two writes with the same `If-Match`, one through each hub, both made to wait
    /// for the dataset's lock (a psql session holds it until both wait): the one that
    /// goes second must see the first's commit and answer 412. A write group that read
    /// the records in a snapshot taken before the lock was granted would accept both.
    @Test func aWriteThatWaitedForTheLockSeesTheCommitBeforeIt() async throws {
        let created = try await hubs[0].client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-None-Match": "*"], json: Self.news)
        let etag = try #require(created.header("ETag"))
        let dataset = String(prefix.dropFirst("/v1/datasets/".count))
        let url = try #require(TestPostgres.url)
        // psql reads its script from a FIFO, so the test says when to COMMIT.
        let folder = try TemporaryFolder()
        let fifo = folder.child("hold.sql")
        guard mkfifo(fifo, 0o600) == 0 else { throw TestSupportError("mkfifo \(fifo): \(String(cString: strerror(errno)))") }
        let name = "accord-lock-holder-\(UInt32.random(in: 0..<UInt32.max))"
        let holder = try ChildProcess(
            "/usr/bin/psql", [url, "-v", "ON_ERROR_STOP=1", "-qXf", fifo], environment: ["PGAPPNAME": name], logFolder: folder.path)
        var script: Int32 = -1
        // Opening without blocking fails until psql has opened its end.
        #expect(
            await eventuallyAsync(timeout: 30) {
                script = open(fifo, O_WRONLY | O_NONBLOCK); return script >= 0
            }, "psql: \(holder.standardError)")
        defer { if script >= 0 { close(script) } }
        func send(_ text: String) { _ = text.withCString { write(script, $0, strlen($0)) } }
        send("BEGIN;\nSELECT 1 FROM accord_datasets WHERE name = '\(dataset)' FOR UPDATE;\n\\! echo locked\n")
        #expect(await eventuallyAsync(timeout: 30) { holder.standardOutput.contains("locked") }, "psql: \(holder.standardError)")

        let body = #"{"headline": "Edited", "published": "2024-05-01", "source": "wire"}"#
        async let first = hubs[0].client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-Match": etag], json: body, timeout: 60)
        async let second = hubs[1].client.request("PUT", "\(prefix)/records/news/n1", headers: ["If-Match": etag], json: body, timeout: 60)
        // Both are waiting once two sessions are blocked by the holder, directly or
        // behind the first waiter's tuple lock.
        let waiting = """
            WITH h AS (SELECT pid FROM pg_stat_activity WHERE application_name = '\(name)'),
            w1 AS (SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && ARRAY(SELECT pid FROM h)),
            w2 AS (SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && ARRAY(SELECT pid FROM w1))
            SELECT count(*) FROM (SELECT pid FROM w1 UNION SELECT pid FROM w2) AS blocked
            """
        let bothWait = try await eventuallyAsync(timeout: 30) {
            try ProgramRun.run("/usr/bin/psql", [url, "-qXAtc", waiting]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2"
        }
        #expect(bothWait, "the two writes never waited for the lock")
        send("COMMIT;\n")
        close(script)
        script = -1
        let statuses = try await [first.status, second.status].sorted()
        #expect(try await holder.waitForExit(timeout: 30) == 0, "psql: \(holder.standardError)")
        #expect(statuses == [200, 412], "two writes on one rev answered \(statuses)")
    }

    @Test func anIdempotencyKeyReplaysThroughTheOtherHub() async throws {
        let headers = ["If-None-Match": "*", "Idempotency-Key": "k-1"]
        let first = try await hubs[0].client.request("PUT", "\(prefix)/records/news/n1", headers: headers, json: Self.news)
        let second = try await hubs[1].client.request("PUT", "\(prefix)/records/news/n1", headers: headers, json: Self.news)
        #expect(first.status == 201 && second.status == 201 && second.header("Idempotent-Replayed") == "true")
        #expect(first.header("ETag") == second.header("ETag"))
    }

    /// A daemon given both hubs as `remote` (hub one first) pushes 1,000 records, all
    /// acknowledged through hub one; then 1,000 more, and hub one is killed with
    /// SIGKILL as they start to go. What hub one acknowledged survives, and the daemon
    /// finishes through hub two without being told.
    @Test func aDaemonFailsOverWhenItsHubIsKilledMidBurst() async throws {
        let (one, two) = (hubs[0], hubs[1])
        let dataset = String(prefix.dropFirst("/v1/datasets/".count))
        let daemon = try DaemonLauncher(
            hubPort: one.port, extraConfig: "dataset = \"\(dataset)\"", remotes: ["http://127.0.0.1:\(one.port)", "http://127.0.0.1:\(two.port)"])
        func write(_ range: Range<Int>) throws {
            for index in range {
                try daemon.write(
                    "agreement/b\(index).json",
                    #"{"kind": "agreement", "id": "b\#(index)", "title": "HNS", "parties": ["United States", "Japan"], "status": "negotiating"}"# + "\n")
            }
        }
        try write(0..<1000)
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "120"]).code == 0)
        #expect(try daemon.status()["hub"] as? String == "http://127.0.0.1:\(one.port)")
        try write(1000..<2000)
        one.process.signal(SIGKILL)
        _ = try await one.process.waitForExit(timeout: 10)
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "120"]).code == 0)
        let page = try await changes(two, since: 0, limit: 10_000)
        #expect(page.seqs.count == 2000, "the hub has \(page.seqs.count) of 2000 records")
        #expect(try daemon.status()["hub"] as? String == "http://127.0.0.1:\(two.port)")
    }

    /// The no-skip check: 32 writers create records through hub two while a poller on
    /// hub one moves its cursor to the last seq of each page. A seq committed after a
    /// higher one had been read would be behind the cursor and missed for ever.
    @Test func aPollerOnOneHubSeesEverySeqWrittenThroughTheOther() async throws {
        let (one, two) = (hubs[0], hubs[1])
        let writers = 32
        let perWriter = 8
        let total = Int64(writers * perWriter)
        async let written: Void = withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask { [prefix] in
                    for index in 0..<perWriter {
                        let response = try await two.client.request(
                            "PUT", "\(prefix)/records/news/w\(writer)-\(index)", headers: ["If-None-Match": "*"], json: Self.news)
                        guard response.status == 201 else { throw TestSupportError("a write answered \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        var seen: [Int64] = []
        var cursor: Int64 = 0
        while cursor < total {
            let page = try await changes(one, since: cursor, limit: 7, wait: 5)
            seen += page.seqs
            if let last = page.seqs.last { cursor = last }
        }
        try await written
        #expect(seen == Array(1...total), "the poller missed \(Set(1...total).subtracting(seen).sorted())")
    }
}
