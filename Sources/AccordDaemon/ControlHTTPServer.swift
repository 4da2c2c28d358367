import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The control API's HTTP/1.1 server, on SwiftNIO's HTTP codec and one event-loop
/// thread: the Unix socket and, with `metrics.listen`, a TCP port. One request per
/// connection (the API sees a handful a minute). No timer runs while nobody is
/// connected, so an idle daemon is not woken.
///
/// Hostile clients are bounded: each listener has its own connection budget (a flood
/// on the metrics port cannot lock `accordctl` out), a client must send its whole
/// request within `requestDeadline`, heads are capped at 16 KB (431) and bodies at
/// 4 MiB (413), and NIO's parser reads incrementally however the bytes trickle in.
final class ControlHTTPServer: Sendable {
    typealias Handler = @Sendable (ControlRequest) async -> ControlResponse

    struct Limits: Sendable {
        var socketConnections = 256
        var metricsConnections = 16
        var requestDeadline = TimeAmount.seconds(10)
        var maxHeadBytes = 16 * 1024
        var maxBodyBytes = 4 << 20
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let group: MultiThreadedEventLoopGroup
    private let channels: [any Channel]

    /// Listens on a Unix socket at `unixPath` and, if given, a TCP address.
    init(unixPath: String, tcp: (host: String, port: Int)?, limits: Limits = Limits(), handler: @escaping Handler) throws(Failure) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        do {
            channels.append(
                try Self.bootstrap(group, budget: Occupancy(limit: limits.socketConnections), viaTCP: false, limits: limits, handler: handler)
                    .bind(unixDomainSocketPath: unixPath).wait())
        } catch {
            try? group.syncShutdownGracefully()
            throw Failure(description: "cannot listen on \(unixPath): \(error)")
        }
        if let tcp {
            do {
                channels.append(
                    try Self.bootstrap(group, budget: Occupancy(limit: limits.metricsConnections), viaTCP: true, limits: limits, handler: handler)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .bind(host: tcp.host, port: tcp.port).wait())
            } catch {
                for channel in channels { try? channel.close().wait() }
                try? group.syncShutdownGracefully()
                throw Failure(description: "metrics.listen: cannot listen on \(tcp.host):\(tcp.port): \(error)")
            }
        }
        self.group = group
        self.channels = channels
    }

    private static func bootstrap(
        _ group: MultiThreadedEventLoopGroup, budget: Occupancy, viaTCP: Bool, limits: Limits, handler: @escaping Handler
    ) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            // A client may shut its write side after the request (curl, scripts) and
            // still read the answer.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                    decoderLimits.maxHeaderListSize = limits.maxHeadBytes
                    decoderLimits.maxHeaderFieldSize = limits.maxHeadBytes
                    try channel.pipeline.syncOperations.addHandlers([
                        ConnectionGate(budget: budget),
                        HTTPResponseEncoder(),
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)),
                        ControlRequestHandler(viaTCP: viaTCP, limits: limits, handler: handler),
                    ])
                }
            }
    }

    /// Stops listening, closes open connections and ends the event-loop thread.
    func stop() {
        for channel in channels { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
    }
}

/// Admits a connection only while its listener has room; a connection past the budget
/// gets a 503 at once and is closed.
final class ConnectionGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let budget: Occupancy
    private var admitted = false

    init(budget: Occupancy) {
        self.budget = budget
    }

    func channelActive(context: ChannelHandlerContext) {
        admitted = budget.enter()
        guard admitted else {
            let body = ControlResponse.problem(503, "Busy", "too many control connections; try again").body
            var buffer = context.channel.allocator.buffer(capacity: 200 + body.count)
            buffer.writeString(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
            buffer.writeBytes(body)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in bound.value.close(promise: nil) }
            return
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if admitted { context.fireChannelRead(data) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if admitted {
            admitted = false
            budget.leave()
        }
        context.fireChannelInactive()
    }
}
