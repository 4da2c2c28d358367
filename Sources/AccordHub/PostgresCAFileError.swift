/// The CA file of a PostgreSQL URL (`sslrootcert`) cannot be used: the hub would
/// otherwise fail each connection's handshake with a driver's message.
package struct PostgresCAFileError: Error, CustomStringConvertible {
    package var path: String
    /// What is wrong with it, as the line says it.
    package var problem: String

    package var description: String {
        "sslrootcert \(path) cannot be used: \(problem); give the PEM file of the CA that signed the server's certificate"
    }
}
