import NIOCore

/// Runs the `ResetFrameSieve` on a TLS connection's decrypted bytes, between the TLS
/// handler and the HTTP/2 one, and leaves the pipeline once the connection turns out to
/// be HTTP/1.1.
final class ResetFrameSieveHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var sieve = ResetFrameSieve()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let sifted = sieve.sift(bytes) {
            if !sifted.isEmpty { context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: sifted))) }
        } else {
            context.fireChannelRead(data)
        }
        if sieve.isPlain { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
