import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordHub

@Suite("accordhub as a real process on loopback")
struct HubProcessTests {
    @Test func servesAndStopsCleanlyOnSIGTERM() async throws {
        let hub = try HubLauncher()
        let before = Int(Date().timeIntervalSince1970)
        let health = try await hub.client.request("GET", "/v1/health")
        let after = Int(Date().timeIntervalSince1970)
        #expect(health.status == 200)
        // Every answer is dated (RFC 9110 IMF-fixdate), with the time it was answered.
        let date = try #require(health.header("date"))
        #expect((before...after).map(HTTPDate.format).contains(date), "\(date)")
        // A long-poll in flight must not hold the shutdown.
        async let poll = hub.client.request("GET", "/v1/changes?since=0&wait=60")
        hub.process.signal(SIGTERM)
        #expect(try await hub.process.waitForExit(timeout: 10) == 0)
        _ = try? await poll
    }

    @Test func acknowledgedWritesSurviveKill9() async throws {
        let hub = try HubLauncher()
        for index in 0..<200 {
            let response = try await hub.client.request(
                "PUT", "/v1/records/agreement/k\(index)", headers: ["If-None-Match": "*"], json: agreementBody)
            #expect(response.status == 201)
        }
        hub.process.signal(SIGKILL)
        #expect(try await hub.process.waitForExit(timeout: 10) == 128 + SIGKILL)
        try hub.restart()
        for index in 0..<200 {
            #expect(try await hub.client.request("GET", "/v1/records/agreement/k\(index)").status == 200, "k\(index) lost")
        }
        let feed = try await hub.client.request("GET", "/v1/changes?since=0&limit=1000")
        #expect(try JSONParser.parse(feed.body).objectValue?["last_seq"] == .number(JSONNumber(200)))
    }

    @Test func garbageOnTheSocketLeavesTheHubHealthy() async throws {
        let hub = try HubLauncher()
        var rng = SystemRandomNumberGenerator()
        let payloads: [[UInt8]] = [
            (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) },
            Array("GET /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n".utf8),
            Array("PUT /v1/records/agreement/x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n{".utf8),
            Array("\r\n\r\n\r\n".utf8),
            Array(("GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\n\r\n").utf8),
            Array("GET /v1/health HTTP/9.9\r\n\r\n".utf8),
        ]
        for payload in payloads {
            _ = try? await hub.client.exchange(payload, timeout: 5)
        }
        #expect(try await hub.client.request("GET", "/v1/health").status == 200)
        #expect(hub.process.isRunning)
    }

    @Test func longPollOverHTTPIsWokenByAWrite() async throws {
        let hub = try HubLauncher()
        let clock = ContinuousClock()
        let start = clock.now
        // Whether the poll parks before the write or not, it must come back with the
        // change long before its 60 s wait (the in-process test pins the parked case).
        async let poll = hub.client.request("GET", "/v1/changes?since=0&wait=60", timeout: 90)
        let writeStart = clock.now
        _ = try await hub.client.request("PUT", agreementPath, headers: ["If-None-Match": "*"], json: agreementBody)
        let response = try await poll
        let wake = clock.now - writeStart
        #expect(try JSONParser.parse(response.body).objectValue?["changes"]?.arrayValue?.count == 1)
        #expect(clock.now - start < .seconds(40), "woken by the write, not the 60 s timeout")
        print("long-poll wake after write: \(wake)")
    }

    @Test func sixteenConcurrentHTTPWriters() async throws {
        let hub = try HubLauncher()
        let created = try await hub.client.request("PUT", agreementPath, headers: ["If-None-Match": "*"], json: agreementBody)
        let rev = try #require(created.header("ETag"))
        let client = hub.client
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    try await client.request(
                        "PUT", agreementPath, headers: ["If-Match": rev], json: agreementBody.replacingOccurrences(of: "HNS", with: "W\(writer)")
                    ).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.sorted() == [200] + Array(repeating: 412, count: 15))
    }

    @Test func oversizedBodyIs413() async throws {
        let hub = try HubLauncher()
        let response = try await hub.client.request(
            "PUT", agreementPath, headers: ["If-None-Match": "*"], body: Array(repeating: UInt8(ascii: " "), count: 2 << 20))
        #expect(response.status == 413)
        #expect(try await hub.client.request("GET", "/v1/health").status == 200)
    }

    @Test func aSecondHubOnTheSameDatabaseExitsWithOneLine() async throws {
        let hub = try HubLauncher()
        let second = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            ["--listen", "127.0.0.1:0", "--open", "--db", hub.databasePath, "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            logFolder: hub.folder.path)
        #expect(try await second.waitForExit(timeout: 30) == 1)
        #expect(second.standardError.contains("another accordhub already serves"), "\(second.standardError)")
        #expect(second.standardError.split(separator: "\n").count == 1)
        #expect(try await hub.client.request("GET", "/v1/health").status == 200, "the first goes on")
    }

    /// Bad `db` values stop start-up with one line and exit 2, leaving nothing behind
    /// (an empty one once made a stray `.hub-lock` in the working folder).
    @Test(arguments: [
        ("", "db is empty"), ("postgres://127.0.0.1/accord", "names no user"), ("postgres://a@h/d?sslmode=always", "sslmode \"always\""),
    ])
    func badDatabasesAreRefusedWithOneLine(_ db: String, _ message: String) async throws {
        let folder = try TemporaryFolder()
        let process = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            ["--listen", "127.0.0.1:0", "--open", "--db", db, "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"], logFolder: folder.path)
        #expect(try await process.waitForExit(timeout: 30) == 2)
        #expect(process.standardError.contains(message) && process.standardError.split(separator: "\n").count == 1, "\(process.standardError)")
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/.hub-lock"))
    }

    @Test(
        "a hub without tokens serves only when told it is open, and only on loopback",
        arguments: [
            (["--listen", "127.0.0.1:0"], "no [[tokens]] in the config"),
            (["--listen", "0.0.0.0:0", "--open"], "refusing to listen on 0.0.0.0:0 with no tokens"),
        ])
    func refusesToOpenUpWithoutTokens(_ arguments: [String], _ message: String) async throws {
        let folder = try TemporaryFolder()
        let process = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            arguments + ["--db", folder.child("hub.db"), "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            logFolder: folder.path)
        #expect(try await process.waitForExit(timeout: 30) == 1)
        #expect(process.standardError.contains(message), "\(process.standardError)")
        #expect(process.standardError.split(separator: "\n").count == 1, "one line: \(process.standardError)")
    }

    @Test(
        "config errors name the key and exit 2",
        arguments: [
            ("listen = \"127.0.0.1:0\"\nport = 9\n", "unknown key port"),
            ("listen = 8480\n", "listen must be a string, not an integer"),
            ("max_body_bytes = \"big\"\n", "max_body_bytes must be an integer, not a string"),
            ("[[tokens]]\nname = \"a\"\nsha256 = \"abc\"\n", "tokens[0].sha256 must be 64 hex digits"),
            ("[[tokens]]\nname = \"a\"\nsha256 = \"\(String(repeating: "a", count: 64))\"\naccess = \"admin\"\n", "must be \"rw\" or \"ro\""),
            ("listen = \"127.0.0.1:0\n", "hub.toml:1"),
        ])
    func configErrors(_ text: String, _ message: String) throws {
        let folder = try TemporaryFolder()
        let config = try folder.write("hub.toml", text)
        let process = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            ["--config", config, "--db", folder.child("hub.db"), "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            logFolder: folder.path)
        #expect(try process.waitForExit(timeout: 30) == 2)
        #expect(process.standardError.contains(message), "\(process.standardError)")
    }

    @Test func underSystemdEveryLogLineCarriesItsPriorityAndListeningIsSaidOnce() throws {
        let folder = try TemporaryFolder()
        let config = try folder.write("hub.toml", "open = true\n[log]\nlevel = \"info\"\n")
        let hub = try ChildProcess(
            try BuiltProducts.path(of: "accordhub"),
            ["--config", config, "--listen", "127.0.0.1:0", "--db", folder.child("hub.db"), "--schemas", BuiltProducts.repositoryRoot + "/config/schemas"],
            logFolder: folder.path, journalStderr: true)
        _ = try hub.waitForError(containing: "listening", timeout: 30)
        hub.signal(SIGTERM)
        #expect(try hub.waitForExit(timeout: 30) == 0)
        let lines = hub.standardError.split(separator: "\n")
        #expect(lines.allSatisfy { $0.hasPrefix("<") && $0.dropFirst(2).hasPrefix(">") }, "\(hub.standardError)")
        #expect(lines.filter { $0.contains("listening") }.count == 1, "\(hub.standardError)")
        #expect(lines.contains { $0.hasPrefix("<5>listening") }, "the listening line is a notice: \(hub.standardError)")
        // A fatal error is filed as an error.
        let bad = try folder.write("bad.toml", "open = true\n[log]\nlevel = \"loud\"\n")
        let refused = try ChildProcess(try BuiltProducts.path(of: "accordhub"), ["--config", bad], logFolder: folder.path, journalStderr: true)
        #expect(try refused.waitForExit(timeout: 30) == 2)
        #expect(refused.standardError.hasPrefix("<3>accordhub: ") && refused.standardError.contains("log.level"), "\(refused.standardError)")
    }

    @Test func configWithTokensIsHonoured() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write(
            "hub.toml",
            """
            listen = "127.0.0.1:0"
            max_body_bytes = 4096

            [[tokens]]
            name = "alice"
            sha256 = "\(ContentHash.hex("alice-token"))"
            access = "rw"
            """)
        let hub = try HubLauncher(arguments: ["--config", config], folder: folder)
        #expect(try await hub.client.request("GET", agreementPath).status == 401)
        let created = try await hub.client.request(
            "PUT", agreementPath, headers: ["If-None-Match": "*", "Authorization": "Bearer alice-token"], json: agreementBody)
        #expect(created.status == 201)
    }
}

@Suite("The Date header")
struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_083_200) == "Tue, 01 Dec 2026 00:00:00 GMT")
    }
}
