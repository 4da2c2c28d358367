import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Wraps the server's per-connection setup: caps the open connections
/// (`max_connections`; one past it is closed at once) and lets a reload swap the setup
/// for new connections (a renewed TLS certificate) while open ones keep theirs.
final class HubChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    private let current: Mutex<Base>
    private let open = Atomic<Int>(0)
    private let maxConnections: Int

    init(_ base: Base, maxConnections: Int) {
        current = Mutex(base)
        self.maxConnections = maxConnections
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
        return current.withLock { $0 }.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await current.withLock { $0 }.handle(value: value, logger: logger)
    }
}

struct ConnectionLimitReached: Error {}
