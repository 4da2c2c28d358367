import AccordCore
import NIOCore
import NIOHTTP1

/// One control request on one connection: collects the head and a bounded body,
/// refuses what the API does not take, hands the request to `ControlHandler`, writes
/// the answer and closes. A client that has not sent its whole request within the
/// deadline is dropped.
final class ControlRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let viaTCP: Bool
    private let limits: ControlHTTPServer.Limits
    private let handler: ControlHTTPServer.Handler
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    /// Set once an answer is on its way: nothing else is read or written.
    private var answered = false
    private var deadline: Scheduled<Void>?

    init(viaTCP: Bool, limits: ControlHTTPServer.Limits, handler: @escaping ControlHTTPServer.Handler) {
        self.viaTCP = viaTCP
        self.limits = limits
        self.handler = handler
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: limits.requestDeadline) { bound.value.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            if head.headers.contains(name: "transfer-encoding") {
                return respond(context, .problem(411, "Length required", "send the body with Content-Length, not Transfer-Encoding"))
            }
            if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > limits.maxBodyBytes {
                return respond(context, .problem(413, "Body too large", "control requests take at most \(limits.maxBodyBytes) bytes"))
            }
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limits.maxBodyBytes {
                return respond(context, .problem(413, "Body too large", "control requests take at most \(limits.maxBodyBytes) bytes"))
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head else { return respond(context, .problem(400, "Bad request", "a request without a head")) }
            deadline?.cancel()
            answered = true
            let (path, query) = ControlTarget.split(head.uri)
            var request = ControlRequest(method: head.method.rawValue, path: path, query: query, body: body.map { Array($0.readableBytesView) } ?? [])
            request.viaTCP = viaTCP
            let handler = self.handler
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let promise = context.eventLoop.makePromise(of: ControlResponse.self)
            let finished = request
            promise.completeWithTask { await handler(finished) }
            promise.futureResult.whenSuccess { response in bound.value.0.write(bound.value.1, response) }
        }
    }

    /// The client shut its write side: fine after a whole request (the answer is on its
    /// way), a close before one.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed, !answered {
            deadline?.cancel()
            answered = true
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A malformed request (NIO's parser refused it): 431 for a head over the limit,
    /// 400 for anything else.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !answered else { return context.close(promise: nil) }
        if let parserError = error as? HTTPParserError {
            if parserError == .headerOverflow {
                return respond(context, .problem(431, "Request header too large", "headers over \(limits.maxHeadBytes) bytes"))
            }
            return respond(context, .problem(400, "Bad request", "not a valid HTTP/1.1 request: \(parserError)"))
        }
        context.close(promise: nil)
    }

    private func respond(_ context: ChannelHandlerContext, _ response: ControlResponse) {
        deadline?.cancel()
        answered = true
        write(context, response)
    }

    private func write(_ context: ChannelHandlerContext, _ response: ControlResponse) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        // A client that does not read its answer is dropped too, not kept forever.
        let unread = context.eventLoop.scheduleTask(in: limits.requestDeadline) { bound.value.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            unread.cancel()
            bound.value.close(promise: nil)
        }
    }
}

/// A request target split into its percent-decoded path and query.
enum ControlTarget {
    /// `/v1/events?limit=5` → (`/v1/events`, ["limit": "5"]).
    static func split(_ target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (PercentDecoding.decode(target), [:]) }
        return (PercentDecoding.decode(target[..<mark]), PercentDecoding.query(target[target.index(after: mark)...]))
    }
}
