import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Wraps the server's per-connection setup: caps the open connections
/// (`max_connections`; one past it is closed at once) and lets a reload swap the setup
/// for new connections (a renewed TLS certificate) while open ones keep theirs.
final class HubChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    private let current: Mutex<Base>
    private let open = Atomic<Int>(0)
    private let maxConnections: Int
    private let handshakeTimeout: TimeAmount?

    /// `handshakeTimeout`: set for TLS connections, how long one may take to finish its
    /// handshake; such connections also get the `ResetFrameSieve` behind TLS.
    init(_ base: Base, maxConnections: Int, handshakeTimeout: TimeAmount? = nil) {
        current = Mutex(base)
        self.maxConnections = maxConnections
        self.handshakeTimeout = handshakeTimeout
    }

    /// New connections get `base`; connections already open keep what they had.
    func replace(_ base: Base) {
        current.withLock { $0 = base }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        guard count <= maxConnections else {
            logger.warning("refused a connection: \(maxConnections) are open (max_connections)")
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
        }
        logger.debug("connection accepted", metadata: ["open": "\(count)", "peer": "\(channel.remoteAddress?.description ?? "?")"])
        // First in line: a long-poll's client that hangs up is heard whatever the
        // handlers behind it do with the end of input (`ConnectionCloseWatch`).
        let setup = current.withLock { $0 }.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(ConnectionCloseLatch(), position: .first)
            return value
        }
        guard let handshakeTimeout else { return setup }
        // Runs on the channel's loop before it reads a byte: no handshake can finish first.
        // Both handlers sit right behind TLS, on the decrypted bytes.
        return setup.flatMapThrowing { value in
            let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            try channel.pipeline.syncOperations.addHandler(HandshakeDeadlineHandler(timeout: handshakeTimeout), position: .after(tls))
            try channel.pipeline.syncOperations.addHandler(ResetFrameSieveHandler(), position: .after(tls))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await current.withLock { $0 }.handle(value: value, logger: logger)
    }
}

struct ConnectionLimitReached: Error {}
