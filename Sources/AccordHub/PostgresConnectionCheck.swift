import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

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
        let tlsSettings = self.tlsSettings
        do {
            try await Deadline.run(seconds: seconds) {
                var configuration: PostgresConnection.Configuration
                if let socket = url.socketPath {
                    configuration = .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
                } else {
                    var tls = PostgresConnection.Configuration.TLS.disable
                    if let (required, settings) = tlsSettings {
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
            throw PostgresUnavailableError(reason: StorageFailure.reason(error))
        }
    }
}
