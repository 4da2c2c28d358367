import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

@Suite("HTTP client on libcurl, against the real hub")
struct HTTPClientTests {
    let body = #"{"title": "HNS", "parties": ["United States", "Japan"], "status": "negotiating"}"#

    @Test func roundTripWithHeadersAndBody() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        defer { client.shutdown() }
        let base = "http://127.0.0.1:\(hub.port)"
        let created = try await client.send(
            HTTPRequest(method: "PUT", url: base + "/v1/records/agreement/a", headers: [("If-None-Match", "*")], body: Array(body.utf8)))
        #expect(created.status == 201)
        let etag = try #require(created.header("ETag"))
        let read = try await client.send(HTTPRequest(url: base + "/v1/records/agreement/a"))
        #expect(read.status == 200)
        #expect(read.header("etag") == etag)
        #expect(read.text.contains("\"negotiating\""))
        #expect(read.httpVersion == "1.1")
        let deleted = try await client.send(HTTPRequest(method: "DELETE", url: base + "/v1/records/agreement/a", headers: [("If-Match", etag)]))
        #expect(deleted.status == 204)
        let head = try await client.send(HTTPRequest(method: "HEAD", url: base + "/v1/health"))
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test func reusesConnections() async throws {
        // A long idle timeout: a machine that stalls for the default 30 s between two
        // requests would see the hub close the idle connection, rightly.
        let folder = try TemporaryFolder()
        let hub = try HubLauncher(arguments: ["--config", try folder.write("hub.toml", "open = true\nidle_timeout_s = 600\n")], folder: folder)
        let client = HTTPClient()
        defer { client.shutdown() }
        let url = "http://127.0.0.1:\(hub.port)/v1/health"
        let first = try await client.send(HTTPRequest(url: url))
        #expect(first.newConnections == 1)
        for _ in 0..<20 {
            #expect(try await client.send(HTTPRequest(url: url)).newConnections == 0, "keep-alive reuses the connection")
        }
    }

    @Test func manyConcurrentTransfersOnOneThread() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        defer { client.shutdown() }
        let base = "http://127.0.0.1:\(hub.port)"
        let payload = Array(body.utf8)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await client.send(
                        HTTPRequest(method: "PUT", url: base + "/v1/records/agreement/c\(index)", headers: [("If-None-Match", "*")], body: payload)
                    ).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 200 && statuses.allSatisfy { $0 == 201 })
    }

    @Test func longPollsOutliveShortRequests() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        defer { client.shutdown() }
        let base = "http://127.0.0.1:\(hub.port)"
        async let poll = client.send(HTTPRequest(url: base + "/v1/changes?since=0&wait=20", timeoutSeconds: 30))
        // The poll reaches the hub first: requests sent after it must not queue behind
        // it (they did, while every transfer waited to multiplex on its connection).
        #expect(try await eventually(timeout: 10) { try LoopbackSocket.establishedConnections(port: hub.port) >= 1 })
        // While the poll waits, other requests on the same client still flow.
        for _ in 0..<5 { #expect(try await client.send(HTTPRequest(url: base + "/v1/health")).status == 200) }
        _ = try await client.send(
            HTTPRequest(method: "PUT", url: base + "/v1/records/agreement/p", headers: [("If-None-Match", "*")], body: Array(body.utf8)))
        let response = try await poll
        #expect(response.text.contains("\"id\": \"p\""))
    }

    @Test func responseSizeLimit() async throws {
        let hub = try HubLauncher()
        var options = HTTPClientOptions()
        options.maxResponseBytes = 8
        let client = HTTPClient(options: options)
        defer { client.shutdown() }
        await #expect(throws: HTTPClientError.responseTooLarge(limit: 8)) {
            try await client.send(HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/health"))
        }
    }

    @Test func timeoutsAreReported() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        defer { client.shutdown() }
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/changes?since=0&wait=10", timeoutSeconds: 0.5))
            Issue.record("expected a timeout")
        } catch {
            guard case .timedOut = error else { Issue.record("expected timedOut, got \(error)"); return }
            #expect(error.isTransient)
        }
    }

    /// A server that accepted the request and then hangs (here, the real hub stopped
    /// with SIGSTOP) fails a request after `stallSeconds`, not after the low-speed
    /// check's averaged half-minute; a long-poll to it is left alone.
    @Test func aStalledServerFailsTheRequestAfterStallSeconds() async throws {
        let hub = try HubLauncher()
        var options = HTTPClientOptions()
        options.stallSeconds = 1
        let client = HTTPClient(options: options)
        defer { client.shutdown() }
        hub.process.signal(SIGSTOP)
        defer { hub.process.signal(SIGCONT) }
        // The stall detector's own message: not the overall timeout, not a hang.
        do {
            _ = try await client.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(hub.port)/v1/health"))
            Issue.record("expected a stall")
        } catch {
            guard case .timedOut(let message) = error else { Issue.record("expected timedOut, got \(error)"); return }
            #expect(message.contains("no byte moved"))
        }
    }

    @Test func refusedConnectionsAreTransientTransportErrors() async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        // Port 9 on loopback: nothing listens there.
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:9/v1/health"))
            Issue.record("expected a transport error")
        } catch {
            guard case .transport(let code, let message) = error else { Issue.record("got \(error)"); return }
            #expect(code == 7, "CURLE_COULDNT_CONNECT")
            #expect(!message.isEmpty)
            #expect(error.isTransient)
        }
    }

    @Test func cancellationAbortsATransfer() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        defer { client.shutdown() }
        let clock = ContinuousClock()
        let start = clock.now
        let task = Task { try await client.send(HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/changes?since=0&wait=60", timeoutSeconds: 70)) }
        try await Task.sleep(for: .milliseconds(100))  // the sleep is the thing under test: cancel mid-transfer
        task.cancel()
        await #expect(throws: HTTPClientError.cancelled) { try await task.value }
        // Well before the 60-second wait would have ended, even on a loaded machine.
        #expect(clock.now - start < .seconds(40))
    }

    @Test func shutdownAbortsTransfersInFlight() async throws {
        let hub = try HubLauncher()
        let client = HTTPClient()
        let task = Task { try await client.send(HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/changes?since=0&wait=60", timeoutSeconds: 70)) }
        try await Task.sleep(for: .milliseconds(100))  // the sleep is the thing under test: shut down mid-transfer
        client.shutdown()
        await #expect(throws: HTTPClientError.shutDown) { try await task.value }
        await #expect(throws: HTTPClientError.shutDown) { try await client.send(HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/health")) }
    }

    @Test func headersWithLineBreaksAreRefused() async throws {
        let client = HTTPClient()
        defer { client.shutdown() }
        await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: "http://127.0.0.1:9/", headers: [("X-Evil", "a\r\nInjected: yes")]))
        }
    }

    @Test func unixSocketTransport() async throws {
        let folder = try TemporaryFolder()
        let socketPath = folder.child("control.sock")
        // A small local server on a Unix socket, answering every GET with the path.
        let server = try ChildProcess(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import http.server, socketserver, sys
                class Handler(http.server.BaseHTTPRequestHandler):
                    protocol_version = "HTTP/1.1"
                    def do_GET(self):
                        body = ("unix " + self.path).encode()
                        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
                    def log_message(self, *args): pass
                class Server(socketserver.UnixStreamServer):
                    def get_request(self):
                        request, _ = super().get_request()
                        return request, ("unix", 0)
                server = Server(sys.argv[1], Handler)
                print("ready", flush=True)
                server.serve_forever()
                """,
                socketPath,
            ],
            logFolder: folder.path)
        _ = try server.waitForOutput(containing: "ready", timeout: 20)
        var options = HTTPClientOptions()
        options.unixSocketPath = socketPath
        let client = HTTPClient(options: options)
        defer { client.shutdown() }
        let response = try await client.send(HTTPRequest(url: "http://localhost/v1/status"))
        #expect(response.status == 200)
        #expect(response.text == "unix /v1/status")
        server.signal(SIGTERM)
    }
}
