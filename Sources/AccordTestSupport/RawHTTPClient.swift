import Foundation

/// A deliberately small HTTP/1.1 client over a plain socket, one request per
/// connection, for tests of servers: it can also send bytes no real client would.
/// Blocking calls run on Dispatch threads, never on the test's cooperative pool.
package struct RawHTTPClient: Sendable {
    package let host: String
    package let port: Int

    package init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    package struct Response: Sendable {
        package var status: Int
        package var headers: [String: String]
        package var body: [UInt8]

        package var text: String { String(decoding: body, as: UTF8.self) }
        package func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    package func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil, timeout: Double = 30
    ) async throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + (body ?? [])
        let reply = try await exchange(bytes, timeout: timeout)
        return try Self.parse(reply)
    }

    package func request(_ method: String, _ path: String, headers: [String: String] = [:], json: String, timeout: Double = 30) async throws -> Response {
        try await request(method, path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: Array(json.utf8), timeout: timeout)
    }

    /// Sends raw bytes and returns whatever comes back until the server closes.
    /// Blocks a thread of its own: on the shared dispatch pool (two threads on a two-core
    /// machine) the long-polls of tests running side by side would queue every other
    /// request behind them for seconds.
    package func exchange(_ bytes: [UInt8], timeout: Double = 30) async throws -> [UInt8] {
        let host = self.host
        let port = self.port
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try Self.blockingExchange(host: host, port: port, bytes: bytes, timeout: timeout) })
            }.start()
        }
    }

    static func blockingExchange(host: String, port: Int, bytes: [UInt8], timeout: Double) throws -> [UInt8] {
        let fd = try LoopbackSocket.connect(port: port, host: host)
        defer { close(fd) }
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }  // the server may close early (413, garbage): read what it said
            sent += count
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                throw TestSupportError("no complete response from \(host):\(port) within \(timeout) s")
            }
            if count <= 0 { break }
            reply.append(contentsOf: buffer[0..<count])
        }
        return reply
    }

    static func parse(_ reply: [UInt8]) throws -> Response {
        guard let split = reply.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw TestSupportError("malformed response: \(String(decoding: reply.prefix(200), as: UTF8.self))")
        }
        let head = String(decoding: reply[..<split.lowerBound], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2, let status = Int(statusLine.split(separator: " ")[1]) else {
            throw TestSupportError("malformed status line in: \(head.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(reply[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var rest = data[...]
        while let lineEnd = rest.firstRange(of: Array("\r\n".utf8)) {
            let sizeText = String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound
            guard rest.distance(from: start, to: rest.endIndex) >= size else { break }
            out.append(contentsOf: rest[start..<rest.index(start, offsetBy: size)])
            rest = rest[rest.index(start, offsetBy: size + 2)...]
        }
        return out
    }
}
