import NIOCore

/// Runs a request's work and cancels it the moment its connection goes away, so a
/// long-poll whose client hung up gives back its `max_long_polls` slot at once instead
/// of holding it until its wait ends (a token holder could otherwise lock everyone out
/// by opening and dropping long-polls). Event-driven: it hears the close (or, since the
/// server allows remote half-closure, the client's end of input) through a
/// `ConnectionCloseLatch`.
enum ConnectionCloseWatch {
    static func cancellingOnClose<T: Sendable>(_ channel: any Channel, _ work: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await work() }
        let latch: NIOLoopBound<ConnectionCloseLatch>?
        do {
            latch = try await channel.eventLoop.submit {
                // A connection carries the latch from its first byte (`HubChildChannel`),
                // so an end of input that came with the request is not missed. An HTTP/2
                // stream has its own channel, which goes inactive when the stream or its
                // connection ends: a latch added now sees that.
                let latch: ConnectionCloseLatch
                if let installed = try? channel.pipeline.syncOperations.handler(type: ConnectionCloseLatch.self) {
                    latch = installed
                } else {
                    latch = ConnectionCloseLatch()
                    try channel.pipeline.syncOperations.addHandler(latch, position: .first)
                    if !channel.isActive { latch.markClosed() }
                }
                latch.watch { task.cancel() }
                return NIOLoopBound(latch, eventLoop: channel.eventLoop)
            }.get()
        } catch {
            // The pipeline is already closed: nobody is left to answer.
            task.cancel()
            latch = nil
        }
        let result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if let latch { try? await channel.eventLoop.submit { latch.value.stopWatching() }.get() }
        return result
    }
}

/// Remembers whether a channel's input has ended or the channel has closed, and calls
/// whoever is waiting on that. Touched only on the channel's event loop.
final class ConnectionCloseLatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private var closed = false
    private var onClose: (() -> Void)?

    /// Calls `onClose` once the channel closes; at once if it already has.
    func watch(_ onClose: @escaping () -> Void) {
        self.onClose = onClose
        if closed { fire() }
    }

    func stopWatching() {
        onClose = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        markClosed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { markClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    /// Not done on `handlerAdded`: a connection being set up is not active yet.
    func markClosed() {
        closed = true
        fire()
    }

    private func fire() {
        let callback = onClose
        onClose = nil
        callback?()
    }
}
