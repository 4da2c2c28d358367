import AccordCore
import AccordSystemd
import HTTPTypes
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The HTTP shell around `HubHandler`: HummingbirdCore moves bytes in and out, every
/// decision is the handler's. Runs until SIGTERM or SIGINT, then drains.
package struct HubServer: Sendable {
    package let handler: HubHandler
    package let address: ListenAddress
    /// Serve HTTPS with these files (HTTP/2 by ALPN, and HTTP/1.1); cleartext when nil.
    package let tls: HubTLSFiles?
    package let logger: Logger
    /// systemd readiness (`READY=1` once listening and the database answers) and watchdog.
    package let notifier: SystemdNotifier

    package init(
        handler: HubHandler, address: ListenAddress, tls: HubTLSFiles? = nil, logger: Logger, notifier: SystemdNotifier = .fromEnvironment()
    ) {
        self.handler = handler
        self.address = address
        self.tls = tls
        self.logger = logger
        self.notifier = notifier
    }

    /// Serves until a shutdown signal; `onListening` gets the bound address (the real
    /// port when 0 was asked for).
    /// `onHangup` runs on each SIGHUP (a reload: `accordhub` re-reads its tokens) and
    /// returns the TLS files to serve new connections with from then on (nil: keep the
    /// running ones); the hub keeps serving whatever happens, open connections included.
    package func run(
        onListening: @escaping @Sendable (ListenAddress) -> Void = { _ in }, onHangup: @escaping @Sendable () async -> HubTLSFiles? = { nil }
    ) async throws {
        let handler = self.handler
        let logger = self.logger
        let address = self.address
        let notifier = self.notifier
        // HummingbirdCore's server without Hummingbird's Application: the Application
        // adds a service that wakes every second to format the Date header, which an
        // idle hub would pay for all day; the Date header is made per second on demand.
        let limits = handler.limits
        let streams = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadlineHandler(timeout: .seconds(Int64(limits.idleTimeoutSeconds)))],
            idleTimeout: .seconds(Int64(limits.idleTimeoutSeconds)))
        let tlsFiles = self.tls
        // Set when serving TLS: a reload replaces the setup new connections get.
        let reloadable = Mutex<(@Sendable (HubTLSFiles) throws -> Void)?>(nil)
        let builder = HTTPServerBuilder { responder in
            guard let tlsFiles else {
                return HubChildChannel(HTTP1Channel(responder: responder, configuration: streams), maxConnections: limits.maxConnections)
            }
            let http2 = HTTP2UpgradeChannel.Configuration(idleTimeout: .seconds(limits.idleTimeoutSeconds), streamConfiguration: streams)
            @Sendable func make(_ files: HubTLSFiles) throws -> HTTP2UpgradeChannel {
                try HTTP2UpgradeChannel(tlsConfiguration: try files.serverConfiguration(), configuration: http2, responder: responder)
            }
            let channel = HubChildChannel(
                try make(tlsFiles), maxConnections: limits.maxConnections, handshakeTimeout: .seconds(Int64(limits.idleTimeoutSeconds)))
            reloadable.withLock { $0 = { files in channel.replace(try make(files)) } }
            return channel
        }
        let server = try builder.buildServer(
            configuration: ServerConfiguration(address: .hostname(address.host, port: address.port), serverName: nil),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
            responder: { request, writer, channel in
                var response = await HubServer.respond(to: request, on: channel, handler: handler, logger: logger)
                response.headers[.date] = HTTPDate.now()
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in
                let bound = ListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port)
                do {
                    try await handler.setReady(true)
                    notifier.notify("READY=1\nSTATUS=listening on \(bound.host):\(bound.port)")
                } catch {
                    logger.critical("the hub cannot read its database and stays not ready: \(error)")
                }
                onListening(bound)
            })
        // Services shut down in reverse order: the drain runs first, so long-polls return
        // before the server waits for its in-flight requests.
        var services: [any Service] = [
            server, IdempotencyJanitor(storages: handler.datasetList.map(\.storage), logger: logger), DrainOnShutdown(handler: handler),
            HangupService {
                guard let files = await onHangup(), let reload = reloadable.withLock({ $0 }) else { return }
                do {
                    try reload(files)
                    logger.notice("reloaded the TLS certificate \(files.certificate) for new connections")
                } catch {
                    logger.error("TLS reload failed, keeping the running certificate: \(error)")
                }
            },
        ]
        if notifier.watchdogInterval != nil { services.append(Watchdog(notifier: notifier)) }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: configuration).run()
        notifier.notify("STOPPING=1")
    }

    static func respond(to incoming: Request, on channel: any Channel, handler: HubHandler, logger: Logger) async -> Response {
        var request = incoming
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        // Refused from the headers alone: the body is never read, let alone buffered.
        let authorization = handler.authorizeBeforeBody(method: request.method.rawValue, path: request.uri.path, headers: headers)
        if case .refused(let refusal) = authorization { return response(refusal) }
        var bytes: [UInt8] = []
        if request.method == .put || request.method == .post || request.method == .patch {
            do {
                let buffer = try await request.collectBody(upTo: handler.maxBodyBytes)
                bytes = Array(buffer.readableBytesView)
            } catch is NIOTooManyBytesError {
                return response(.problem(413, "Body too large", "this hub takes request bodies of at most \(handler.maxBodyBytes) bytes"))
            } catch {
                return response(.problem(400, "Unreadable body", "the request body could not be read: \(error)"))
            }
        }
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        var hubRequest = HubRequest(
            method: request.method.rawValue, path: request.uri.path, query: query, headers: headers, body: bytes)
        hubRequest.authorization = authorization
        // A long-poll may wait a minute: it ends early if its client goes away.
        let waits = query["wait"].map { $0 != "0" } ?? false
        let result =
            waits
            ? await ConnectionCloseWatch.cancellingOnClose(channel) { [hubRequest] in await handler.handle(hubRequest) }
            : await handler.handle(hubRequest)
        // A 503 with Retry-After is the hub shedding load on purpose: not worth a warning
        // per request in the middle of a flood.
        let shedding = result.status == 503 && result.headers.contains { $0.0 == "Retry-After" }
        if result.status >= 500, !shedding {
            logger.warning("\(request.method) \(request.uri.path) -> \(result.status)")
        } else {
            logger.debug("\(request.method) \(request.uri.path) -> \(result.status)")
        }
        let out = response(result)
        return out
    }

    static func response(_ result: HubResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in result.headers {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        let body = result.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: result.body))
        return Response(status: HTTPResponse.Status(code: result.status), headers: fields, body: body)
    }
}

/// On graceful shutdown: report not-ready and release long-polls, so the server's own
/// drain finishes in milliseconds instead of waiting out 60-second waits.
struct DrainOnShutdown: Service {
    let handler: HubHandler

    func run() async throws {
        try? await gracefulShutdown()
        await handler.drain()
    }
}

/// Forgets idempotency keys after 48 hours (the contract promises at least 24), once
/// at start and then hourly, so the table does not grow without bound.
struct IdempotencyJanitor: Service {
    let storages: [any HubStorage]
    let logger: Logger
    static let keepSeconds: Double = 48 * 3600

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for storage in storages {
                    do {
                        try await storage.purgeIdempotencyKeys(olderThan: Self.keepSeconds)
                    } catch {
                        logger.warning("could not purge old idempotency keys: \(error)")
                    }
                }
                try await Task.sleep(for: .seconds(3600))
            }
        }
    }
}

/// SIGHUP: runs the reload action instead of dying (the default action of the signal).
struct HangupService: Service {
    let action: @Sendable () async -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { await action() }
        }
    }
}
