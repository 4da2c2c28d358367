/// One HTTP request to send. Header names keep the case given; bodies are bytes.
package struct HTTPRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(String, String)]
    package var body: [UInt8]?
    /// Overrides the client's total timeout for this request (a long-poll needs longer).
    package var timeoutSeconds: Double?
    /// A long-poll: the server is silent on purpose until it has news, so the
    /// low-speed check (which would also wake the client every second) is off; the
    /// total timeout still bounds it.
    package var isLongPoll = false

    package init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeoutSeconds: Double? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
    }
}

/// A complete response. Header names are lower-cased; repeated headers are joined
/// with ", " as HTTP allows.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [String: String]
    package var body: [UInt8]
    /// 1.1 or 2.
    package var httpVersion: String
    /// Connections this request had to open (0 when it reused one): keep-alive at work.
    package var newConnections = 0

    package init(status: Int, headers: [String: String], body: [UInt8], httpVersion: String) {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
    }

    package func header(_ name: String) -> String? { headers[name.lowercased()] }
    package var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no response. Each case says whether a retry may help.
package enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect, connection reset, DNS failure, TLS failure...: `code` is libcurl's.
    case transport(code: Int, message: String)
    case timedOut(message: String)
    /// The response body passed `maxResponseBytes`.
    case responseTooLarge(limit: Int)
    case cancelled
    /// The client was shut down before the request finished.
    case shutDown
    case invalidRequest(String)

    package var description: String {
        switch self {
        case .transport(let code, let message): "transport error \(code): \(message)"
        case .timedOut(let message): "timed out: \(message)"
        case .responseTooLarge(let limit): "response larger than \(limit) bytes"
        case .cancelled: "cancelled"
        case .shutDown: "the HTTP client is shut down"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        }
    }

    /// Network trouble that may pass: worth retrying with backoff.
    package var isTransient: Bool {
        switch self {
        case .transport, .timedOut: true
        case .responseTooLarge, .cancelled, .shutDown, .invalidRequest: false
        }
    }
}
