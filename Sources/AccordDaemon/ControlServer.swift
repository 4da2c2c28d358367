import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The HTTP shell of the control API: Hummingbird on the Unix socket (and, with
/// `metrics.listen`, `/metrics` alone on TCP). Every decision is `ControlHandler`'s.
struct ControlServer: Service {
    let handler: ControlHandler
    let socket: ControlSocket
    let logger: Logger
    let onListening: @Sendable () -> Void

    func run() async throws {
        let handler = self.handler
        let socket = self.socket
        let logger = self.logger
        let onListening = self.onListening
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await Self.respond(to: request, handler: handler, metricsOnly: false)
        }
        let app = Application(
            responder: responder,
            server: .http1(),
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socket.privatePath), serverName: nil),
            onServerRunning: { _ in
                do {
                    try socket.publish()
                    logger.info("control socket ready at \(socket.path)")
                    onListening()
                } catch {
                    logger.critical("\(error)")
                }
            },
            logger: logger
        )
        defer { socket.remove() }
        try await app.run()
    }

    static func respond(to incoming: Request, handler: ControlHandler, metricsOnly: Bool) async -> Response {
        var request = incoming
        if metricsOnly && request.uri.path != "/metrics" {
            return response(.problem(404, "Not found", "only /metrics is served on this address"))
        }
        var bytes: [UInt8] = []
        if request.method == .post {
            do {
                bytes = Array(try await request.collectBody(upTo: 4 << 20).readableBytesView)
            } catch {
                return response(.problem(413, "Body too large", "control requests take at most 4 MiB"))
            }
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let result = await handler.handle(ControlRequest(method: request.method.rawValue, path: request.uri.path, query: query, body: bytes))
        return response(result)
    }

    static func response(_ result: ControlResponse) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = result.contentType
        return Response(status: HTTPResponse.Status(code: result.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: result.body)))
    }
}

/// `/metrics` on TCP, only when `metrics.listen` asks for it.
struct MetricsServer: Service {
    let handler: ControlHandler
    let host: String
    let port: Int
    let logger: Logger

    func run() async throws {
        let handler = self.handler
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            await ControlServer.respond(to: request, handler: handler, metricsOnly: true)
        }
        let app = Application(
            responder: responder, server: .http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil), logger: logger)
        try await app.run()
    }
}
