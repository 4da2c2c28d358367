import NIOCore
import NIOSSL
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The cause of a storage failure as an operator reads it in the journal or a
/// start-up error: SQLite's and PostgreSQL's errors, without the drivers' wrapping.
package enum StorageFailure {
    /// What went wrong, in the server's words when it gave any: its message and
    /// SQLSTATE, else the network's error, never the driver's type names.
    package static func reason(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError,
            let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
        {
            return reason(inner)
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
            }
            if let underlying = error.underlying { return reason(underlying) }
            if error.code == .sslUnsupported {
                return "the server does not offer TLS; turn ssl on in PostgreSQL (or, on a trusted network only, give sslmode=prefer without sslrootcert)"
            }
            if error.code == .serverClosedConnection { return "the server closed the connection before answering" }
            return "\(error.code)"
        }
        if let error = error as? NIOSSLError, case .handshakeFailed(let failure) = error {
            if "\(failure)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's TLS certificate could not be verified (not signed by the CA in sslrootcert or the system's store, or expired)"
            }
            return "the TLS handshake with the server failed: \(failure)"
        }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return "the server's TLS certificate does not name the host in the URL (sslmode=verify-full checks it); connect by a name it holds"
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.first.map { reason($0.error) } ?? (error.dnsAError ?? error.dnsAAAAError).map { "\($0)" } ?? "\(error)"
        }
        return "\(error)"
    }
}
