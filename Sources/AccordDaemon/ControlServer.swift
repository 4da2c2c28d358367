import Logging
import ServiceLifecycle

/// The control API as a service: `ControlHTTPServer` on the Unix socket (and, with
/// `metrics.listen`, on TCP for `/metrics` alone). Every decision is `ControlHandler`'s.
struct ControlServer: Service {
    let handler: ControlHandler
    let socket: ControlSocket
    let metrics: (host: String, port: Int)?
    let logger: Logger

    func run() async throws {
        let handler = self.handler
        let server: ControlHTTPServer
        do {
            server = try ControlHTTPServer(unixPath: socket.privatePath, tcp: metrics) { request in
                await handler.handle(request)
            }
        } catch {
            socket.remove()
            throw error
        }
        defer { socket.remove() }
        try socket.publish()
        logger.info("control socket ready at \(socket.path)")
        try? await gracefulShutdown()
        server.stop()
    }
}
