import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// PostgreSQL cannot be used, and the server's own reason why.
package struct PostgresUnavailableError: Error, CustomStringConvertible {
    package var reason: String
    package var description: String { reason }
}

extension PostgresHub {
    /// Makes one connection outside the pool and closes it, so that start-up, migrate
    /// and copy say at once why the server cannot be used (a wrong password, a missing
    /// database, TLS refused, nothing listening). The pool itself retries quietly
    /// until its circuit breaker trips, a minute later, and keeps the reason to itself.
    package func checkConnection(seconds: Double = 10) async throws {
        let url = self.url
        let logger = self.logger
        do {
            try await Deadline.run(seconds: seconds) {
                var configuration: PostgresConnection.Configuration
                if let socket = url.socketPath {
                    configuration = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
                } else {
                    var tls = PostgresConnection.Configuration.TLS.disable
                    if let (required, settings) = Self.tlsSettings(url.sslMode) {
                        let context = try NIOSSLContext(configuration: settings)
                        tls = required ? .require(context) : .prefer(context)
                    }
                    configuration = .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
                }
                configuration.options.connectTimeout = .seconds(5)
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger
                ).get()
                try await connection.close()
            }
        } catch {
            throw PostgresUnavailableError(reason: Self.reason(error))
        }
    }

    /// What went wrong, in the server's words when it gave any: its message and
    /// SQLSTATE, else the network's error, never the driver's type names.
    package static func reason(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            return reason(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            if let underlying = error.underlying { return reason(underlying) }
            if error.code == .sslUnsupported { return "the server does not offer TLS; give sslmode=prefer or disable, or turn ssl on in PostgreSQL" }
            if error.code == .serverClosedConnection { return "the server closed the connection before answering" }
            return "\(error.code)"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.first.map { reason($0.error) } ?? (error.dnsAError ?? error.dnsAAAAError).map { "\($0)" } ?? "\(error)"
        }
        return "\(error)"
    }
}
