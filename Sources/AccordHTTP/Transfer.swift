import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One request in flight: its easy handle, what has arrived so far, and the
/// continuation to resume. Touched only by the client's loop thread once submitted,
/// except the cancellation flag.
final class Transfer: @unchecked Sendable {
    let request: HTTPRequest
    let options: HTTPClientOptions
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    let cancelled = Atomic<Bool>(false)

    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl keeps this pointer and writes into it later: it must not move.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()
    private var body: [UInt8] = []
    private var headers: [String: String] = [:]
    private var tooLarge = false
    /// Bytes moved either way so far, and when that last changed (the stall check).
    private var moved: curl_off_t = -1
    private var movedAt = 0.0
    private var stalled = false

    init(request: HTTPRequest, options: HTTPClientOptions) {
        self.request = request
        self.options = options
    }

    deinit {
        release()
        errorBuffer.deallocate()
    }

    /// Creates and configures the easy handle; nil on success, else why not.
    func prepare() -> HTTPClientError? {
        guard let handle = curl_easy_init() else { return .invalidRequest("curl_easy_init failed") }
        easy = handle
        let context = Unmanaged.passUnretained(self).toOpaque()
        var failures: [String] = []
        func check(_ code: CURLcode, _ what: String) {
            if code != CURLE_OK { failures.append("\(what): \(String(cString: curl_easy_strerror(code)))") }
        }
        check(accord_curl_easy_setopt_string(handle, CURLOPT_URL, request.url), "url")
        check(accord_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "nosignal")
        check(accord_curl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, context), "private")
        check(accord_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "errorbuffer")
        check(accord_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, Transfer.onBody), "write function")
        check(accord_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "write data")
        check(accord_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, Transfer.onHeader), "header function")
        check(accord_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "header data")
        check(accord_curl_easy_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent), "user agent")
        check(accord_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeoutSeconds * 1000)), "connect timeout")
        check(accord_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int((request.timeoutSeconds ?? options.totalTimeoutSeconds) * 1000)), "timeout")
        if !request.isLongPoll {
            check(accord_curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond), "low speed limit")
            check(accord_curl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds), "low speed time")
        }
        check(accord_curl_easy_setopt_offset(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxResponseBytes)), "max file size")
        check(accord_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        if let deadLink = options.deadLinkSeconds {
            check(accord_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPIDLE, 15), "keepalive idle")
            check(accord_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPINTVL, 5), "keepalive interval")
            check(accord_curl_easy_set_user_timeout(handle, Int(deadLink * 1000)), "user timeout")
        }
        let version: Int
        switch options.http2 {
        case .whenOffered: version = Int(CURL_HTTP_VERSION_2TLS)
        case .priorKnowledge: version = Int(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE)
        case .never: version = Int(CURL_HTTP_VERSION_1_1)
        }
        check(accord_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, version), "http version")
        // Waiting to multiplex pays only where HTTP/2 may come: over TLS (ALPN answers at
        // the handshake) or by prior knowledge. On cleartext HTTP/1.1 it would queue every
        // request behind a long-poll until its response headers arrive.
        if options.http2 == .priorKnowledge || (options.http2 == .whenOffered && request.url.lowercased().hasPrefix("https://")) {
            check(accord_curl_easy_setopt_long(handle, CURLOPT_PIPEWAIT, 1), "pipewait")
        }
        if options.stallSeconds != nil, !request.isLongPoll {
            check(accord_curl_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "progress")
            check(accord_curl_easy_setopt_progress_callback(handle, CURLOPT_XFERINFOFUNCTION, Transfer.onProgress), "progress function")
            check(accord_curl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context), "progress data")
        }
        if let socket = options.unixSocketPath { check(accord_curl_easy_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket), "unix socket") }
        if let caFile = options.tls.caFile { check(accord_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile), "ca file") }
        if let certificate = options.tls.clientCertificate { check(accord_curl_easy_setopt_string(handle, CURLOPT_SSLCERT, certificate), "client certificate") }
        if let key = options.tls.clientKey { check(accord_curl_easy_setopt_string(handle, CURLOPT_SSLKEY, key), "client key") }
        if !options.tls.verifyPeer {
            check(accord_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0), "verify peer")
            check(accord_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0), "verify host")
        }
        switch request.method {
        case "GET": break
        case "HEAD": check(accord_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1), "nobody")
        default: check(accord_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "method")
        }
        if let body = request.body {
            check(accord_curl_easy_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            body.withUnsafeBytes { raw in
                check(
                    accord_curl_easy_setopt_pointer(
                        handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)), "body")
            }
        }
        // No "Expect: 100-continue" round trip before bodies.
        for (name, value) in request.headers + [("Expect", "")] {
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            guard !line.contains("\r"), !line.contains("\n") else { return .invalidRequest("header \(name) contains a line break") }
            headerList = curl_slist_append(headerList, line)
        }
        check(accord_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "headers")
        return failures.isEmpty ? nil : .invalidRequest(failures.joined(separator: "; "))
    }

    /// The outcome once libcurl reports the transfer done.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard let easy else { return .failure(.invalidRequest("no handle")) }
        if code != CURLE_OK {
            if tooLarge || code == CURLE_FILESIZE_EXCEEDED { return .failure(.responseTooLarge(limit: options.maxResponseBytes)) }
            let detail = String(decoding: UnsafeRawBufferPointer(start: errorBuffer, count: strlen(errorBuffer)), as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            if code == CURLE_OPERATION_TIMEDOUT { return .failure(.timedOut(message: message)) }
            if stalled { return .failure(.timedOut(message: "no byte moved for \(Int(options.stallSeconds ?? 0)) s; the server is not answering")) }
            return .failure(.transport(code: Int(code.rawValue), message: message))
        }
        var status = 0
        accord_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        accord_curl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        var connects = 0
        accord_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        let versionText = version == Int(CURL_HTTP_VERSION_2_0) ? "2" : version == Int(CURL_HTTP_VERSION_3) ? "3" : "1.1"
        var response = HTTPResponse(status: status, headers: headers, body: body, httpVersion: versionText)
        response.newConnections = connects
        return .success(response)
    }

    func release() {
        if let easy { curl_easy_cleanup(easy) }
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
    }

    // MARK: libcurl callbacks (C function pointers: they capture nothing)

    static let onBody: accord_curl_data_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        if transfer.body.count + length > transfer.options.maxResponseBytes {
            transfer.tooLarge = true
            return 0  // abort: libcurl reports a write error
        }
        data.map { transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: length)) }
        return length
    }

    /// libcurl calls this about once a second while a transfer runs (the low-speed
    /// check keeps a timer armed): a transfer with no byte moved for `stallSeconds`
    /// is aborted.
    static let onProgress: accord_curl_progress_callback = { context, _, downloaded, _, uploaded in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let seconds = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        if downloaded + uploaded != transfer.moved {
            transfer.moved = downloaded + uploaded
            transfer.movedAt = seconds
            return 0
        }
        guard let limit = transfer.options.stallSeconds, seconds - transfer.movedAt > limit else { return 0 }
        transfer.stalled = true
        return 1
    }

    static let onHeader: accord_curl_data_callback = { data, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let length = size * count
        guard let data else { return length }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            transfer.headers = [:]  // a new response (after 100 Continue or a redirect)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
            transfer.headers[name] = transfer.headers[name].map { $0 + ", " + value } ?? value
        }
        return length
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
