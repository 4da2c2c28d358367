import Foundation

/// A TCP proxy on loopback that delays every byte by a fixed time in each direction:
/// a link with a round-trip time, for benchmarks and tests, since this kernel has no
/// netem. Streams are kept as they are (keep-alive, HTTP/2 and long-polls pass
/// through); only their timing changes.
package final class DelayProxy: @unchecked Sendable {
    package let port: Int
    private let upstreamPort: Int
    private let delay: Double
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false

    /// - Parameter oneWayMilliseconds: added to each direction (half the round trip).
    package init(upstreamPort: Int, oneWayMilliseconds: Double) throws {
        self.upstreamPort = upstreamPort
        delay = oneWayMilliseconds / 1000
        (listener, port) = try LoopbackSocket.listen()
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Once only: `deinit` calls it again, and a second close could hit a descriptor
    /// number another thread has since been given.
    package func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        LoopbackSocket.acceptEach(listener, stopped: { lock.withLock { stopped } }) { client in
            guard let upstream = try? LoopbackSocket.connect(port: upstreamPort) else {
                close(client)
                return
            }
            LoopbackSocket.noDelay(client)
            LoopbackSocket.noDelay(upstream)
            let pair = SocketPair(client: client, upstream: upstream)
            for (from, to) in [(client, upstream), (upstream, client)] {
                let queue = DelayedQueue()
                Thread.detachNewThread { [delay] in Self.read(from, into: queue, delay: delay, pair: pair) }
                Thread.detachNewThread { Self.write(queue, to: to, pair: pair) }
            }
        }
    }

    /// Both sockets of one proxied connection, closed once both directions ended.
    private final class SocketPair: @unchecked Sendable {
        let client: Int32
        let upstream: Int32
        private let lock = NSLock()
        private var ended = 0

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        func directionEnded() {
            let done = lock.withLock {
                ended += 1
                return ended == 2
            }
            if done {
                close(client)
                close(upstream)
            }
        }
    }

    /// Chunks waiting for their time, in order; nil marks the end of the stream.
    private final class DelayedQueue: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [(due: Double, bytes: [UInt8]?)] = []

        func push(_ bytes: [UInt8]?, due: Double) {
            condition.lock()
            items.append((due, bytes))
            condition.signal()
            condition.unlock()
        }

        func pop() -> (due: Double, bytes: [UInt8]?) {
            condition.lock()
            while items.isEmpty { condition.wait() }
            let item = items.removeFirst()
            condition.unlock()
            return item
        }
    }

    private static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    private static func read(_ socket: Int32, into queue: DelayedQueue, delay: Double, pair: SocketPair) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            queue.push(Array(buffer[0..<count]), due: now() + delay)
        }
        queue.push(nil, due: now() + delay)
    }

    private static func write(_ queue: DelayedQueue, to socket: Int32, pair: SocketPair) {
        defer { pair.directionEnded() }
        while true {
            let (due, bytes) = queue.pop()
            let wait = due - now()
            if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
            guard let bytes else {
                shutdown(socket, Int32(SHUT_WR))
                return
            }
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { return }
                sent += count
            }
        }
    }
}
