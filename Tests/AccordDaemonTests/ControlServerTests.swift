import AccordCore
import AccordTestSupport
import Foundation
import NIOCore
import Testing

@testable import AccordDaemon

/// The control API's HTTP server (SwiftNIO) on a real Unix socket and TCP port, with a
/// handler that echoes what it was given: hostile, trickled and slow input.
@Suite("Control server: hostile, trickled and slow clients")
struct ControlServerTests {
    final class Server: @unchecked Sendable {
        let folder: TemporaryFolder
        let socketPath: String
        let port: Int
        let server: ControlHTTPServer

        init(limits: ControlHTTPServer.Limits = ControlHTTPServer.Limits()) throws {
            folder = try TemporaryFolder()
            socketPath = folder.child("c.sock")
            port = try LoopbackSocket.freePort()
            server = try ControlHTTPServer(unixPath: socketPath, tcp: ("127.0.0.1", port), limits: limits) { request in
                .json(
                    200,
                    [
                        "path": .string(request.path),
                        "query": .object(JSONObject(members: request.query.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })),
                        "tcp": .bool(request.viaTCP),
                    ])
            }
        }

        deinit { server.stop() }

        /// Writes `bytes` (in pieces of `pieces` bytes), shuts the write side, reads to the
        /// end, on a thread of its own: blocking the test's thread could starve the
        /// tasks that answer.
        func exchange(_ text: String, pieces: Int = .max, tcp: Bool = false) async throws -> String {
            try await offThread { try self.blockingExchange(text, pieces: pieces, tcp: tcp) }
        }

        private func blockingExchange(_ text: String, pieces: Int, tcp: Bool) throws -> String {
            let fd = tcp ? try connectTCP(port) : try connectUnix(socketPath)
            defer { close(fd) }
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let end = min(bytes.count, sent + pieces)
                let count = bytes[sent..<end].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { break }
                sent += count
            }
            shutdown(fd, Int32(SHUT_WR))
            return readAll(fd)
        }
    }

    static func status(_ answer: String) -> Int? { answer.hasPrefix("HTTP/1.1 ") ? Int(answer.dropFirst(9).prefix(3)) : nil }

    static func body(_ answer: String) -> JSONObject? {
        guard let range = answer.range(of: "\r\n\r\n") else { return nil }
        return (try? JSONParser.parse(String(answer[range.upperBound...])))?.objectValue
    }

    @Test(
        "queries that once trapped or were ambiguous",
        arguments: [
            ("/metrics?=", "/metrics", ["": ""]), ("/metrics?", "/metrics", [:]), ("/v1/events?&&limit=5&", "/v1/events", ["limit": "5"]),
            ("/v1/events?limit", "/v1/events", ["limit": ""]), ("/v1/sync?a=%zz&b=%4", "/v1/sync", ["a": "%zz", "b": "%4"]),
            ("/v1/x%2Fy?q=a+b%20c", "/v1/x/y", ["q": "a b c"]), ("/v1/x?%=%", "/v1/x", ["%": "%"]),
        ])
    func queries(_ target: String, _ path: String, _ query: [String: String]) async throws {
        let server = try Server()
        let answer = try await server.exchange("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(Self.status(answer) == 200, "\(answer)")
        let body = try #require(Self.body(answer))
        #expect(body["path"] == .string(path))
        #expect(body["query"] == .object(JSONObject(members: query.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) })))
    }

    @Test(
        "malformed requests are refused with a status",
        arguments: [
            ("GET /\r\n\r\n", 400), ("get / HTTP/1.1\r\n\r\n", 400), ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400), ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n", 413), ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
            ("\u{01}\u{02} nonsense\r\n\r\n", 400), ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 20_000) + "\r\n\r\n", 431),
        ])
    func refusals(_ text: String, _ status: Int) async throws {
        let server = try Server()
        #expect(Self.status(try await server.exchange(text)) == status)
    }

    @Test func aRequestTrickledByteByByteIsServed() async throws {
        let server = try Server()
        let head = "GET /v1/status HTTP/1.1\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 300) + "\r\n"
        let answer = try await server.exchange(head, pieces: 1)
        #expect(Self.status(answer) == 200)
        #expect(Self.body(answer)?["path"] == .string("/v1/status"))
    }

    @Test func aClientThatNeverFinishesItsRequestIsDropped() async throws {
        var limits = ControlHTTPServer.Limits()
        limits.requestDeadline = .milliseconds(300)
        let server = try Server(limits: limits)
        let fd = try connectUnix(server.socketPath)
        defer { close(fd) }
        _ = Array("GET /v1/status HTTP/1.1\r\nX-Slow: ".utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // The write side stays open: only the deadline can end this connection.
        #expect(try await offThread { readAll(fd, timeout: 10) } == "", "dropped without an answer")
    }

    @Test func aFloodOnTheMetricsPortLeavesTheSocketServing() async throws {
        var limits = ControlHTTPServer.Limits()
        limits.metricsConnections = 3
        let server = try Server(limits: limits)
        let idle = try (0..<3).map { _ in try connectTCP(server.port) }
        defer { for fd in idle { close(fd) } }
        // Past the port's budget: 503 at once; the socket has its own budget.
        #expect(Self.status(try await server.exchange("GET /metrics HTTP/1.1\r\n\r\n", tcp: true)) == 503)
        let answer = try await server.exchange("GET /v1/status HTTP/1.1\r\n\r\n")
        #expect(Self.status(answer) == 200)
        #expect(Self.body(answer)?["tcp"] == .bool(false))
    }
}

/// Runs blocking socket work on a thread of its own.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

func connectUnix(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { throw TestSupportError("cannot connect to \(path)") }
    return fd
}

func connectTCP(_ port: Int) throws -> Int32 {
    try LoopbackSocket.connect(port: port)
}

/// Reads until the peer closes (or `timeout` seconds pass with nothing to read; long, since
/// the answering tasks share two threads with every other test running).
func readAll(_ fd: Int32, timeout: Double = 60) -> String {
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        var polled = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&polled, 1, Int32(timeout * 1000)) > 0 else { break }
        let count = recv(fd, &chunk, chunk.count, 0)
        if count <= 0 { break }
        answer += chunk[0..<count]
    }
    return String(decoding: answer, as: UTF8.self)
}
