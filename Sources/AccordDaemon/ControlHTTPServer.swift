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
    private let state = Mutex<(thread: pthread_t?, connections: Int)>((nil, 0))

    static let maxHeadBytes = 16 * 1024
    static let maxBodyBytes = 4 << 20
    static let maxConnections = 64
    /// A client that sends nothing for this long is dropped (a slow or stuck peer).
    static let readTimeoutSeconds = 10

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A request refused before it reaches the handler.
    struct Refusal: Error {
        var response: ControlResponse

        init(_ status: Int, _ title: String, _ detail: String) {
            response = .problem(status, title, detail)
        }
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
                let admitted = state.withLock { state -> Bool in
                    guard state.connections < Self.maxConnections else { return false }
                    state.connections += 1
                    return true
                }
                guard admitted else {
                    Self.send(connection, .problem(503, "Busy", "too many control connections; try again"))
                    close(connection)
                    continue
                }
                spawn(connection, viaTCP: index > 0)
            }
        }
    }

    private final class Job {
        let server: ControlHTTPServer
        let connection: Int32
        let viaTCP: Bool
        init(server: ControlHTTPServer, connection: Int32, viaTCP: Bool) {
            self.server = server
            self.connection = connection
            self.viaTCP = viaTCP
        }
    }

    private func spawn(_ connection: Int32, viaTCP: Bool) {
        let context = Unmanaged.passRetained(Job(server: self, connection: connection, viaTCP: viaTCP)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, 256 * 1024)
        var handle = pthread_t()
        let created = pthread_create(
            &handle, &attributes,
            { context in
                let job = Unmanaged<Job>.fromOpaque(context!).takeRetainedValue()
                job.server.serve(job.connection, viaTCP: job.viaTCP)
                return nil
            }, context)
        pthread_attr_destroy(&attributes)
        if created != 0 {
            Unmanaged<Job>.fromOpaque(context).release()
            close(connection)
            state.withLock { $0.connections -= 1 }
        }
    }

    private func serve(_ connection: Int32, viaTCP: Bool) {
        defer {
            close(connection)
            state.withLock { $0.connections -= 1 }
        }
        var timeout = timeval(tv_sec: Self.readTimeoutSeconds, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: ControlRequest
        switch Self.readRequest(connection) {
        case .success(let parsed): request = parsed
        case .failure(let refusal):
            Self.send(connection, refusal.response)
            return
        }
        request.viaTCP = viaTCP
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

    /// Reads one request: the head (up to 16 KB), then `Content-Length` bytes of body.
    static func readRequest(_ connection: Int32) -> Result<ControlRequest, Refusal> {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int?
        while headEnd == nil {
            let count = read(connection, &chunk, chunk.count)
            if count <= 0 { return .failure(Refusal(400, "Bad request", "the request ended early or timed out")) }
            buffer += chunk[0..<count]
            headEnd = find(Array("\r\n\r\n".utf8), in: buffer)
            if headEnd == nil && buffer.count > maxHeadBytes {
                return .failure(Refusal(431, "Request header too large", "headers over \(maxHeadBytes) bytes"))
            }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            return .failure(Refusal(400, "Bad request", "not an HTTP/1.x request line"))
        }
        var length = 0
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingSpaces()
            if name == "content-length" {
                guard let parsed = Int(value), parsed >= 0 else { return .failure(Refusal(400, "Bad request", "bad Content-Length")) }
                length = parsed
            } else if name == "transfer-encoding" {
                return .failure(Refusal(411, "Length required", "send the body with Content-Length"))
            }
        }
        guard length <= maxBodyBytes else { return .failure(Refusal(413, "Body too large", "control requests take at most 4 MiB")) }
        var body = Array(buffer[(headEnd! + 4)...])
        while body.count < length {
            let count = read(connection, &chunk, min(chunk.count, length - body.count))
            if count <= 0 { return .failure(Refusal(400, "Bad request", "the body ended early")) }
            body += chunk[0..<count]
        }
        let target = String(requestLine[1])
        let (path, query) = splitTarget(target)
        return .success(ControlRequest(method: String(requestLine[0]), path: path, query: query, body: Array(body.prefix(length))))
    }

    static func splitTarget(_ target: String) -> (String, [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (percentDecoded(target), [:]) }
        var query: [String: String] = [:]
        for pair in target[target.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[percentDecoded(String(parts[0]))] = parts.count > 1 ? percentDecoded(String(parts[1])) : ""
        }
        return (percentDecoded(String(target[..<mark])), query)
    }

    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") || text.contains("+") else { return text }
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
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

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
