import NIOCore
import NIOTLS

/// Closes a TLS connection whose handshake has not finished within the idle timeout.
/// The HTTP idle and header-read timeouts start only once TLS is up, so without this a
/// client that connects and sends nothing (or half a ClientHello) would hold its
/// connection, and one of the `max_connections` slots, for ever. Sits just behind the
/// TLS handler, hears its "handshake completed" event, and leaves the pipeline then.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let done: Bool
        if case .handshakeCompleted? = event as? TLSUserEvent { done = true } else { done = false }
        context.fireUserInboundEventTriggered(event)
        if done { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard deadline == nil else { return }
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}
