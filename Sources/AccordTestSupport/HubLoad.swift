import Foundation

/// Hostile and careless clients against a hub on loopback, all at once, for the load
/// test and `accord-bench hubload`: idle connections that never send a byte,
/// long-polls, slow-header and slow-body clients (one byte a second), and an
/// unauthenticated 100 MB PUT. Every socket is bounded by `stop()`.
package final class HubLoad: @unchecked Sendable {
    private let port: Int
    private let lock = NSLock()
    private var sockets: [Int32] = []
    private var longPolls: [Int32] = []
    private var trickling: [Int32] = []
    private var stopped = false

    package init(port: Int) {
        self.port = port
    }

    deinit { stop() }

    /// Connections that connect and then say nothing.
    package func openIdle(_ count: Int) throws {
        for _ in 0..<count { keep(try LoopbackSocket.connect(port: port)) }
    }

    /// Long-polls on the changes feed, each on its own connection, waiting for a
    /// change after `since` (the hub's latest: they wait).
    package func startLongPolls(_ count: Int, since: Int, token: String?) throws {
        for _ in 0..<count {
            let fd = try LoopbackSocket.connect(port: port)
            var head = "GET /v1/changes?since=\(since)&wait=60 HTTP/1.1\r\nHost: hub\r\n"
            if let token { head += "Authorization: Bearer \(token)\r\n" }
            LoopbackSocket.sendAll(fd, Array((head + "\r\n").utf8))
            keep(fd)
            lock.withLock { longPolls.append(fd) }
        }
    }

    /// How many long-polls have been answered with `status` so far (non-blocking).
    package func longPollAnswers(status: Int) -> Int {
        let fds = lock.withLock { longPolls }
        var count = 0
        var buffer = [UInt8](repeating: 0, count: 512)
        for fd in fds {
            let read = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_DONTWAIT)) }
            if read > 12, String(decoding: buffer[9..<12], as: UTF8.self) == String(status) { count += 1 }
        }
        return count
    }

    /// Clients that send half a request head, or a head and then a body one byte a
    /// second, on a thread of their own until `stop()`.
    package func startSlowClients(_ count: Int, token: String?) throws {
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        for index in 0..<count {
            let fd = try LoopbackSocket.connect(port: port)
            if index % 2 == 0 {
                LoopbackSocket.sendAll(fd, Array("GET /v1/health HTTP/1.1\r\nHost: hub\r\n".utf8))
            } else {
                LoopbackSocket.sendAll(fd, Array("PUT /v1/records/agreement/slow-\(index) HTTP/1.1\r\nHost: hub\r\n\(auth)Content-Length: 100000\r\n\r\n".utf8))
            }
            keep(fd)
            lock.withLock { trickling.append(fd) }
        }
        Thread { [self] in
            // Under the lock that `stop()` closes them under: never a closed (and
            // perhaps reused) descriptor.
            while lock.withLock({ () -> Bool in
                if stopped { return false }
                for fd in trickling { _ = send(fd, "x", 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                return true
            }) {
                sleep(1)
            }
        }.start()
    }

    /// A PUT announcing and sending 100 MB without a token; returns the status line the
    /// hub answered and how many bytes it took before answering.
    package func unauthenticatedHugePut(megabytes: Int = 100) throws -> (statusLine: String, bytesSent: Int) {
        let fd = try LoopbackSocket.connect(port: port)
        defer { close(fd) }
        let total = megabytes << 20
        LoopbackSocket.sendAll(fd, Array("PUT /v1/records/agreement/huge HTTP/1.1\r\nHost: hub\r\nContent-Length: \(total)\r\n\r\n".utf8))
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let chunk = [UInt8](repeating: 0x20, count: 64 << 10)
        var sent = 0
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while sent < total {
            // Stop sending as soon as the hub has answered (or closed).
            let ready = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if ready > 0 {
                reply += buffer[0..<ready]
                break
            }
            if ready == 0 { break }
            let count = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, total - sent), Int32(MSG_NOSIGNAL)) }
            if count <= 0 { break }
            sent += count
        }
        while reply.firstRange(of: Array("\r\n".utf8)) == nil {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply += buffer[0..<count]
        }
        let line = String(decoding: reply, as: UTF8.self).split(separator: "\r\n").first.map(String.init) ?? ""
        return (line, sent)
    }

    package func stop() {
        lock.withLock {
            stopped = true
            for fd in sockets { close(fd) }
            sockets = []
            longPolls = []
            trickling = []
        }
    }

    private func keep(_ fd: Int32) {
        lock.withLock { sockets.append(fd) }
    }
}
