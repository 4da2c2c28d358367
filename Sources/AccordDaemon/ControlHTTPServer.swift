import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server for the control API: one request per connection, a thread
/// for the listening sockets and one per connection. The control API sees a handful of
/// requests a minute, so this buys an idle daemon that never wakes up, and no event
/// loop, date timer or HTTP framework resident in its memory.
final class ControlHTTPServer: Sendable {
    typealias Handler = @Sendable (ControlRequest) async -> ControlResponse

    private let listeners: [Int32]
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let handler: Handler
    /// Connections open per listener: the socket and the metrics port each have their
    /// own budget, so a flood on one cannot lock the other out.
    private let state = Mutex<(thread: pthread_t?, connections: [Int])>((nil, []))

    /// Connections at once on the control socket, and on the metrics port.
    static let maxSocketConnections = 64
    static let maxMetricsConnections = 16
    /// A client must send its whole request within this time, however it trickles
    /// it in (a slow or stuck peer is dropped).
    static let requestDeadlineSeconds = 10.0

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Listens on a Unix socket at `unixPath` and, if given, a TCP address.
    init(unixPath: String, tcp: (host: String, port: Int)?, handler: @escaping Handler) throws(Failure) {
        var sockets: [Int32] = []
        do {
            sockets.append(try Self.listenUnix(unixPath))
            if let tcp { sockets.append(try Self.listenTCP(host: tcp.host, port: tcp.port)) }
        } catch {
            for socket in sockets { close(socket) }
            throw error
        }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            for socket in sockets { close(socket) }
            throw Failure(description: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        listeners = sockets
        state.withLock { $0.connections = Array(repeating: 0, count: sockets.count) }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        self.handler = handler
    }

    deinit {
        for socket in listeners { close(socket) }
        close(wakeRead)
        close(wakeWrite)
    }

    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { context in
                let server = Unmanaged<ControlHTTPServer>.fromOpaque(context!).takeRetainedValue()
                server.acceptLoop()
                return nil
            }, context)
        precondition(created == 0, "cannot start the control server thread: \(created)")
        state.withLock { $0.thread = handle }
    }

    /// Stops accepting; requests in progress finish on their own threads.
    func stop() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        if let thread = state.withLock({ state -> pthread_t? in
            defer { state.thread = nil }
            return state.thread
        }) {
            pthread_join(thread, nil)
        }
    }

    // MARK: Sockets

    private static func listenUnix(_ path: String) throws(Failure) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "cannot create a Unix socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw Failure(description: "the socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot listen on \(path): \(reason)")
        }
        return descriptor
    }

    private static func listenTCP(host: String, port: Int) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let info = found else {
            throw Failure(description: "metrics.listen: cannot resolve \(host):\(port)")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "metrics.listen: cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(descriptor, 64) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "metrics.listen: cannot listen on \(host):\(port): \(reason)")
        }
        return descriptor
    }

    // MARK: Serving

    private func acceptLoop() {
        var polled = listeners.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        polled.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
        while true {
            if poll(&polled, nfds_t(polled.count), -1) < 0 {
                if errno == EINTR { continue }
                return
            }
            if polled.last!.revents != 0 { return }
            for index in 0..<listeners.count where polled[index].revents != 0 {
                let connection = accept(listeners[index], nil, nil)
                guard connection >= 0 else { continue }
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                let budget = index == 0 ? Self.maxSocketConnections : Self.maxMetricsConnections
                let admitted = state.withLock { state -> Bool in
                    guard state.connections[index] < budget else { return false }
                    state.connections[index] += 1
                    return true
                }
                guard admitted else {
                    Self.send(connection, .problem(503, "Busy", "too many control connections; try again"))
                    close(connection)
                    continue
                }
                spawn(connection, listener: index)
            }
        }
    }

    private final class Job {
        let server: ControlHTTPServer
        let connection: Int32
        let listener: Int
        init(server: ControlHTTPServer, connection: Int32, listener: Int) {
            self.server = server
            self.connection = connection
            self.listener = listener
        }
    }

    private func spawn(_ connection: Int32, listener: Int) {
        let context = Unmanaged.passRetained(Job(server: self, connection: connection, listener: listener)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        var handle = pthread_t()
        let created = pthread_create(
            &handle, &attributes,
            { context in
                let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
                job.server.serve(job.connection, listener: job.listener)
                return nil
            }, context)
        pthread_attr_destroy(&attributes)
        if created != 0 {
            Unmanaged<Job>.fromOpaque(context).release()
            close(connection)
            state.withLock { $0.connections[listener] -= 1 }
        }
    }

    private func serve(_ connection: Int32, listener: Int) {
        defer {
            close(connection)
            state.withLock { $0.connections[listener] -= 1 }
        }
        var request: ControlRequest
        switch Self.readRequest(connection, deadlineSeconds: Self.requestDeadlineSeconds) {
        case .request(let parsed): request = parsed
        case .refused(let status, let title, let detail):
            Self.send(connection, .problem(status, title, detail))
            return
        case .needMore:
            return  // the peer went away or ran out of time; nobody to answer
        }
        request.viaTCP = listener > 0
        // The handler is async (it awaits the loop and the engine); this thread waits.
        let done = Mutex<ControlResponse?>(nil)
        let semaphore = Semaphore()
        let handler = self.handler
        Task {
            let response = await handler(request)
            done.withLock { $0 = response }
            semaphore.signal()
        }
        semaphore.wait()
        Self.send(connection, done.withLock { $0 } ?? .problem(500, "Internal error", "no response"))
    }

    /// Reads one request within `deadlineSeconds` from the first byte waited for:
    /// `.needMore` when the peer closed or the time ran out.
    static func readRequest(_ connection: Int32, deadlineSeconds: Double) -> ControlRequestParser.Outcome {
        var parser = ControlRequestParser()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let deadline = monotonicSeconds() + deadlineSeconds
        while true {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { return .needMore }
            var polled = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let ready = poll(&polled, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return .needMore }
            let count = read(connection, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return .needMore }
            let outcome = parser.feed(chunk[0..<count])
            if outcome != .needMore { return outcome }
        }
    }

    private static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static func send(_ connection: Int32, _ response: ControlResponse) {
        let head =
            "HTTP/1.1 \(response.status) \(reason(response.status))\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + response.body
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// A counting semaphore on a pthread mutex and condition, for a plain thread that must
/// wait for a task.
final class Semaphore: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while count == 0 { pthread_cond_wait(&condition, &mutex) }
        count -= 1
        pthread_mutex_unlock(&mutex)
    }
}
