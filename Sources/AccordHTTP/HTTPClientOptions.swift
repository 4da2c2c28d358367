/// Settings shared by every request of one client.
package struct HTTPClientOptions: Sendable {
    package var connectTimeoutSeconds: Double = 10
    /// The whole request, unless the request sets its own.
    package var totalTimeoutSeconds: Double = 60
    /// A transfer slower than `lowSpeedBytesPerSecond` for `lowSpeedSeconds` is dropped.
    package var lowSpeedBytesPerSecond = 1
    package var lowSpeedSeconds = 30
    package var maxResponseBytes = 64 << 20
    /// When set, a dead link fails requests within about this long: data sent and not
    /// acknowledged for it (TCP_USER_TIMEOUT) fails the connection, and idle kept-alive
    /// connections are probed (TCP keepalive after 15 s, every 5 s). Unlike a
    /// low-speed limit, a slow but live server never trips it.
    package var deadLinkSeconds: Double?
    /// When set, a request (not a long-poll) that moves no byte either way for this
    /// long fails: a server that accepted it and hangs (a stopped process keeps its
    /// socket and the kernel keeps acknowledging). Exact, unlike the low-speed check,
    /// which averages over seconds.
    package var stallSeconds: Double?
    /// Connect over this Unix socket instead of TCP (the URL's host is then only a name).
    package var unixSocketPath: String?
    package var tls = TLSOptions()
    /// Use HTTP/2 when the server offers it (TLS with ALPN, or prior knowledge for h2c).
    package var http2 = HTTP2Mode.whenOffered
    package var userAgent = "accord"

    package init() {}

    package enum HTTP2Mode: Sendable {
        /// HTTP/2 over TLS when ALPN agrees, HTTP/1.1 otherwise.
        case whenOffered
        /// Cleartext HTTP/2 without upgrade (the server must speak it).
        case priorKnowledge
        case never
    }

    package struct TLSOptions: Sendable {
        /// PEM bundle of CAs to trust instead of the system's.
        package var caFile: String?
        package var clientCertificate: String?
        package var clientKey: String?
        /// Off only when the config says so; the caller must warn.
        package var verifyPeer = true

        package init() {}
    }
}
