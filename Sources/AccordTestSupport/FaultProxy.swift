import Foundation

/// An HTTP/1.1 proxy on loopback that injects faults between a client and a server,
/// for tests of retry and recovery. Each request gets one fault drawn at random
/// (seeded) by the configured rates; every answer closes its connection.
package final class FaultProxy: @unchecked Sendable {
    package enum Fault: Sendable, Equatable {
        case pass
        /// Close without answering, before the request reaches the server.
        case dropBefore
        /// Forward, then close without answering: applied, but the client cannot know.
        case dropAfter
        /// Answer this status without forwarding (503 and 429 carry Retry-After: 0).
        case status(Int)
        /// Wait, then forward.
        case delay(milliseconds: Int)
        /// Forward at once, then wait before answering: the server has applied the
        /// request while the client still waits for its answer.
        case delayAnswer(milliseconds: Int)
        /// Forward at once, then hold the answer until `releaseHeld()` or `stop()`: once
        /// the server shows a request applied, the client has surely not heard back
        /// about it, with no timing involved.
        case holdAnswer
        /// Forward, then send only part of the response.
        case truncate
        /// Forward, then answer with the header `name` (if the server sent it) set
        /// to `value`: a hostile or broken hub.
        case replaceHeader(name: String, value: String)
    }

    package struct Rates: Sendable {
        /// Share of requests that get any fault (0...1).
        package var faultRate: Double
        package var faults: [Fault]

        package init(
            faultRate: Double, faults: [Fault] = [.dropBefore, .dropAfter, .status(500), .status(503), .status(429), .delay(milliseconds: 50), .truncate]
        ) {
            self.faultRate = faultRate
            self.faults = faults
        }
    }

    package let port: Int
    private var upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var rates: Rates
    private var random: SplitMix
    private var counts: [String: Int] = [:]
    private var stopped = false
    private let gate = NSCondition()
    private var releases = 0

    package init(upstreamPort: Int, rates: Rates, seed: UInt64 = 1) throws {
        self.upstreamPort = upstreamPort
        self.rates = rates
        random = SplitMix(state: seed)
        (listener, port) = try LoopbackSocket.listen()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit {
        stop()
    }

    /// Once only: `deinit` calls it again, and a second close could hit a descriptor
    /// number another thread has since been given.
    package func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        releaseHeld()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    package func setRates(_ newRates: Rates) {
        lock.withLock { rates = newRates }
    }

    /// Sends the requests from now on to another server, as a load balancer moved
    /// to another backend would: the client sees no failure.
    package func setUpstream(port: Int) {
        lock.withLock { upstreamPort = port }
    }

    /// Lets every held answer go to its client.
    package func releaseHeld() {
        gate.withLock {
            releases += 1
            gate.broadcast()
        }
    }

    /// Blocks until `releaseHeld()` is called after this answer came back.
    private func hold() {
        gate.withLock {
            let generation = releases
            while releases == generation { gate.wait() }
        }
    }

    /// How many times each fault was injected.
    package var injected: [String: Int] { lock.withLock { counts } }

    private func acceptLoop() {
        LoopbackSocket.acceptEach(listener, stopped: { lock.withLock { stopped } }) { client in
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func nextFault() -> Fault {
        lock.withLock {
            let roll = Double(random.next() % 1_000_000) / 1_000_000
            let fault: Fault
            if roll < rates.faultRate, !rates.faults.isEmpty {
                fault = rates.faults[Int(random.next() % UInt64(rates.faults.count))]
            } else {
                fault = .pass
            }
            counts["\(fault)", default: 0] += 1
            return fault
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        guard let request = Self.readRequest(client) else { return }
        let fault = nextFault()
        switch fault {
        case .dropBefore:
            return
        case .status(let code):
            let body = "{\"type\": \"about:blank\", \"title\": \"injected\", \"status\": \(code)}"
            let extra = code == 503 || code == 429 ? "Retry-After: 0\r\n" : ""
            LoopbackSocket.sendAll(
                client,
                Array(
                    "HTTP/1.1 \(code) Injected\r\nContent-Type: application/problem+json\r\n\(extra)Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                        .utf8))
            return
        case .delay(let milliseconds):
            usleep(useconds_t(milliseconds * 1000))
        default:
            break
        }
        guard let response = forward(request) else { return }
        if case .delayAnswer(let milliseconds) = fault { usleep(useconds_t(milliseconds * 1000)) }
        if fault == .holdAnswer { hold() }
        switch fault {
        case .dropAfter: return
        case .truncate: LoopbackSocket.sendAll(client, Array(response.prefix(max(1, response.count / 2))))
        case .replaceHeader(let name, let value): LoopbackSocket.sendAll(client, Self.replacing(name, with: value, in: response))
        default: LoopbackSocket.sendAll(client, response)
        }
    }

    /// `response` with the value of its header `name` replaced (when it has one).
    static func replacing(_ name: String, with value: String, in response: [UInt8]) -> [UInt8] {
        guard let split = response.firstRange(of: Array("\r\n\r\n".utf8))?.lowerBound else { return response }
        let head = String(decoding: response[0..<split], as: UTF8.self)
        let prefix = name.lowercased() + ":"
        let lines = head.components(separatedBy: "\r\n").map { $0.lowercased().hasPrefix(prefix) ? "\(name): \(value)" : $0 }
        return Array(lines.joined(separator: "\r\n").utf8) + Array(response[split...])
    }

    /// Sends the request upstream with `Connection: close` and reads the whole answer.
    private func forward(_ request: [UInt8]) -> [UInt8]? {
        guard let upstream = try? LoopbackSocket.connect(port: lock.withLock { upstreamPort }) else { return nil }
        defer { close(upstream) }
        LoopbackSocket.sendAll(upstream, Self.withConnectionClose(request))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(upstream, $0.baseAddress!, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            reply.append(contentsOf: buffer[0..<count])
        }
        return reply.isEmpty ? nil : reply
    }

    static func readRequest(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = data.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if data.count >= end.upperBound + length { return Array(data[..<(end.upperBound + length)]) }
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return nil }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    static func withConnectionClose(_ request: [UInt8]) -> [UInt8] {
        guard let end = request.firstRange(of: Array("\r\n\r\n".utf8)) else { return request }
        let head = String(decoding: request[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n").filter {
            !$0.lowercased().hasPrefix("connection:")
        }
        return Array((head.joined(separator: "\r\n") + "\r\nConnection: close\r\n\r\n").utf8) + request[end.upperBound...]
    }
}

struct SplitMix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
