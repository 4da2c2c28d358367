import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordHub

/// The hub's bounds against hostile or careless clients (CONTRACT 8.4), on the real
/// process over loopback: refusals from the headers alone, slow clients cut off, caps
/// on connections and long-polls, idempotency keys per token, paged revisions.
@Suite struct HubLimitsTests {
    static let alice = "alice-token"
    static let bob = "bob-token"

    /// A hub with two rw tokens and small limits, so a test reaches them quickly.
    static func hub(_ limits: String = "") throws -> HubLauncher {
        let folder = try TemporaryFolder()
        var text = limits + "\n"
        for (name, token) in [("alice", alice), ("bob", bob)] {
            text += "[[tokens]]\nname = \"\(name)\"\nsha256 = \"\(ContentHash.hex(Array(token.utf8)))\"\naccess = \"rw\"\n"
        }
        return try HubLauncher(arguments: ["--config", try folder.write("hub.toml", text)], folder: folder)
    }

    /// Sends `bytes` on a new connection and reads until a whole response head, the
    /// server's close, or `timeout`: the text read and whether the server closed.
    static func exchange(_ bytes: [UInt8], port: Int, timeout: Double = 10) async throws -> (text: String, closed: Bool) {
        let fd = try LoopbackSocket.connect(port: port)
        defer { close(fd) }
        return try await readReply(fd, after: bytes, timeout: timeout)
    }

    static func readReply(_ fd: Int32, after bytes: [UInt8], timeout: Double) async throws -> (text: String, closed: Bool) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var seconds = timeval(tv_sec: Int(timeout), tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
                var data: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                var closed = false
                while data.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count == 0 || (count < 0 && errno == ECONNRESET) {
                        closed = true
                        break
                    }
                    if count < 0 { break }  // timed out, still open
                    data.append(contentsOf: buffer[0..<count])
                }
                continuation.resume(returning: (String(decoding: data, as: UTF8.self), closed))
            }.start()
        }
    }

    @Test func anUnauthenticatedHugeBodyIsRefusedFromTheHeadersAlone() async throws {
        let hub = try Self.hub()
        // Announces 100 MB and sends none of it: the answer must come anyway (a hub that
        // waited for the body would say nothing and close at the 30 s idle timeout).
        let head = "PUT /v1/records/agreement/big HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
        let reply = try await Self.exchange(Array(head.utf8), port: hub.port, timeout: 20)
        #expect(reply.text.hasPrefix("HTTP/1.1 401"), "\(reply.text)")
        // A known token with read-only access would get 403 the same way; a known rw
        // token's write waits for its body (the server reads it).
        let authorized = head.replacingOccurrences(of: "Host: x\r\n", with: "Host: x\r\nAuthorization: Bearer \(Self.alice)\r\n")
        let waiting = try await Self.exchange(Array(authorized.utf8), port: hub.port, timeout: 1)
        #expect(waiting.text.isEmpty && !waiting.closed, "an accepted write waits for its body: \(waiting)")
        #expect(try await hub.client.request("GET", "/v1/health").status == 200)
    }

    @Test func slowClientsAreCutOffAfterTheIdleTimeout() async throws {
        let hub = try Self.hub("idle_timeout_s = 1")
        // Half a head, then nothing; a head and half a body, then nothing; an idle
        // connection that never sends a byte.
        let halfHead = try await Self.exchange(Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n".utf8), port: hub.port, timeout: 15)
        #expect(halfHead.closed, "a half-sent head holds the connection for at most idle_timeout_s")
        let halfBody = try await Self.exchange(
            Array("PUT /v1/records/agreement/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.alice)\r\nContent-Length: 100\r\n\r\n{\"kind\"".utf8),
            port: hub.port, timeout: 15)
        #expect(halfBody.closed, "a half-sent body holds the connection for at most idle_timeout_s")
        let silent = try await Self.exchange([], port: hub.port, timeout: 15)
        #expect(silent.closed)
        // A long-poll is not a slow client: it is answered when it ends, not cut.
        let poll = try await hub.client.request("GET", "/v1/changes?since=0&wait=3", headers: ["Authorization": "Bearer \(Self.alice)"])
        #expect(poll.status == 200)
    }

    @Test func connectionsPastMaxConnectionsAreClosedAtOnce() async throws {
        // A slot comes back when its connection is reaped: at once when the client
        // sends a request and closes, at the latest after the idle timeout.
        let hub = try Self.hub("max_connections = 4\nidle_timeout_s = 2")
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<4 { held.append(try LoopbackSocket.connect(port: hub.port)) }
        // The held connections are accepted: wait until the hub counts them all.
        let extra = try LoopbackSocket.connect(port: hub.port)
        defer { close(extra) }
        let refused = try await Self.readReply(extra, after: Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeout: 10)
        #expect(refused.closed && refused.text.isEmpty, "\(refused)")
        close(held.removeLast())
        #expect(
            await eventuallyAsync(timeout: 10) {
                (try? await hub.client.request("GET", "/v1/health", timeout: 2).status) == 200
            }, "a freed slot serves again")
    }

    @Test func longPollsPastTheCapGet503WithRetryAfter() async throws {
        let hub = try Self.hub("max_long_polls = 2")
        let auth = ["Authorization": "Bearer \(Self.alice)"]
        let client = hub.client
        // Two long-polls that wait for the next write (retrying if a probe took their slot).
        func longPoll() async throws -> RawHTTPClient.Response {
            while true {
                let answer = try await client.request("GET", "/v1/changes?since=0&wait=30", headers: auth)
                if answer.status != 503 { return answer }
            }
        }
        async let first = longPoll()
        async let second = longPoll()
        // Probes that wait a second each, until one finds both slots taken.
        var third: RawHTTPClient.Response?
        #expect(
            try await eventuallyAsync(timeout: 15) {
                let answer = try await client.request("GET", "/v1/changes?since=0&wait=1", headers: auth)
                third = answer
                return answer.status == 503
            })
        #expect(third?.header("retry-after") != nil)
        // A write answers the two waiting ones; then there is room again.
        let put = try await client.request(
            "PUT", "/v1/records/agreement/lp", headers: auth.merging(["If-None-Match": "*"]) { a, _ in a }, json: agreementBody)
        #expect(put.status == 201)
        #expect(try await first.status == 200)
        #expect(try await second.status == 200)
        #expect(try await client.request("GET", "/v1/changes?since=0&wait=1", headers: auth).status == 200)
    }

    @Test func aLongPollWhoseClientHangsUpGivesBackItsSlotAtOnce() async throws {
        let hub = try Self.hub("max_long_polls = 2")
        let auth = ["Authorization": "Bearer \(Self.alice)"]
        let head = "GET /v1/changes?since=0&wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.alice)\r\n\r\n"
        func longPoll() throws -> Int32 {
            let fd = try LoopbackSocket.connect(port: hub.port)
            LoopbackSocket.sendAll(fd, Array(head.utf8))
            return fd
        }
        var held = [try longPoll(), try longPoll()]
        defer { for fd in held { close(fd) } }
        // Both slots are taken once a probe is refused. A probe holds a slot for its
        // second, so a long-poll arriving meanwhile may be refused: it asks again.
        var seen: [Int] = []
        let full = try await eventuallyAsync(timeout: 15) {
            for index in held.indices where Self.pending(held[index]).hasPrefix("HTTP/1.1 503") {
                close(held[index])
                held[index] = try longPoll()
            }
            let status = try await hub.client.request("GET", "/v1/changes?since=0&wait=1", headers: auth).status
            seen.append(status)
            return status == 503
        }
        #expect(full, "probes got \(seen); the held long-polls got \(held.map { Self.pending($0) })")
        // The two clients go away; their minute-long waits must not keep the slots.
        for fd in held { close(fd) }
        held = []
        #expect(
            try await eventuallyAsync(timeout: 10) {
                try await hub.client.request("GET", "/v1/changes?since=0&wait=1", headers: auth).status == 200
            }, "the slots of closed long-polls come back well before their 60 s wait ends")
    }

    /// A client that sends its long-poll and ends its input in the same breath: the end of
    /// input reaches the hub before the request reaches its handler, so the hub must
    /// remember it rather than listen for it afterwards.
    @Test func aLongPollEndedWithItsRequestIsAnsweredAtOnce() async throws {
        let hub = try Self.hub("max_long_polls = 2")
        let head = "GET /v1/changes?since=0&wait=60 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.alice)\r\n\r\n"
        var held: [Int32] = []
        defer { for fd in held { close(fd) } }
        for _ in 0..<2 {
            let fd = try LoopbackSocket.connect(port: hub.port)
            held.append(fd)
            LoopbackSocket.sendAll(fd, Array(head.utf8))
            shutdown(fd, Int32(SHUT_WR))
        }
        // Each gets its answer (or its connection closed) long before its 60 s wait ends.
        var heard = ["", ""]
        let answered = await eventuallyAsync(timeout: 10) {
            for (index, fd) in held.enumerated() where heard[index].isEmpty || heard[index] == "(nothing)" {
                heard[index] = Self.pending(fd)
            }
            return heard.allSatisfy { $0.hasPrefix("HTTP/1.1 ") || $0 == "(closed)" }
        }
        #expect(answered, "the half-closed long-polls got \(heard)")
        #expect(
            try await eventuallyAsync(timeout: 10) {
                try await hub.client.request("GET", "/v1/changes?since=0&wait=1", headers: ["Authorization": "Bearer \(Self.alice)"]).status == 200
            }, "their slots are free again")
    }

    /// What the server has sent on `fd` so far, without waiting.
    static func pending(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : count == 0 ? "(closed)" : "(nothing)"
    }

    @Test func idempotencyKeysAreScopedToTheToken() async throws {
        let hub = try Self.hub()
        let client = hub.client
        func put(_ token: String, _ path: String) async throws -> RawHTTPClient.Response {
            try await client.request(
                "PUT", path, headers: ["Authorization": "Bearer \(token)", "If-None-Match": "*", "Idempotency-Key": "shared-key-1"], json: agreementBody)
        }
        let created = try await put(Self.alice, agreementPath)
        #expect(created.status == 201)
        // Alice's retry replays her answer.
        let replay = try await put(Self.alice, agreementPath)
        #expect(replay.status == 201 && replay.header("idempotent-replayed") == "true")
        // Bob with the same key gets no replay of Alice's answer: his create is refused.
        let other = try await put(Self.bob, agreementPath)
        #expect(other.status == 412 && other.header("idempotent-replayed") == nil, "\(other.status) \(other.text)")
    }
}

@Suite struct RevisionPagingTests {
    @Test(arguments: HubFixture.datasets) func revisionsArePagedNewestFirst(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        var rev = try await hub.create(agreementPath, agreementBody)
        for index in 0..<6 {
            let body = agreementBody.replacingOccurrences(of: "HNS FY2021", with: "HNS step \(index)")
            let answer = await hub.send("PUT", agreementPath, headers: ["If-Match": "\"\(rev)\""], body: body)
            rev = try #require(answer.header("ETag")).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        var seen: [String] = []
        var query: [String: String] = ["limit": "3"]
        var pages = 0
        while true {
            let page = await hub.send("GET", agreementPath + "/revisions", query: query)
            #expect(page.status == 200)
            let body = try #require(json(page))
            let revisions = body["revisions"]?.arrayValue ?? []
            #expect(revisions.count <= 3)
            seen += revisions.compactMap { $0.objectValue?["rev"]?.stringValue }
            pages += 1
            guard case .number(let next)? = body["next_before"] else {
                #expect(body["next_before"] == .null)
                break
            }
            query["before"] = next.literal
        }
        #expect(pages == 3)
        #expect(seen.count == 7 && Set(seen).count == 7)
        #expect(seen.first == rev, "newest first")
        #expect(seen.last?.hasPrefix("1-") == true)
        // The default page is 100; more is refused.
        #expect(await hub.send("GET", agreementPath + "/revisions", query: ["limit": "101"]).status == 400)
    }

    @Test(arguments: HubFixture.datasets) func theWriteQueueAdmitsUpToItsBound(dataset: String) async throws {
        var limits = HubLimits()
        limits.maxQueuedWrites = 3
        let hub = try await HubFixture(dataset: dataset, limits: limits)
        #expect(hub.handler.admitWrites(2))
        #expect(hub.handler.admitWrites(1))
        #expect(!hub.handler.admitWrites(1), "full: the next write gets 503")
        hub.handler.finishWrites(3)
        // One request is always admitted when none waits, however large.
        #expect(hub.handler.admitWrites(1000))
        hub.handler.finishWrites(1000)
    }
}
