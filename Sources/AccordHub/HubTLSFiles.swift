import NIOSSL

/// The hub's `[tls]` files (CONTRACT 8.4): its certificate chain and key in PEM, and
/// optionally the CA whose client certificates it requires.
package struct HubTLSFiles: Sendable, Equatable {
    package var certificate: String
    package var key: String
    package var clientCA: String?

    package init(certificate: String, key: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.key = key
        self.clientCA = clientCA
    }

    /// Reads the files now (at start and on each SIGHUP). The error is one line that
    /// names the file and what to do.
    package func serverConfiguration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificate)
        } catch {
            throw TLSFileError("tls.cert_file \(certificate): cannot read a PEM certificate chain (\(error)); check the path and the format")
        }
        guard !chain.isEmpty else { throw TLSFileError("tls.cert_file \(certificate): no certificate in the file; give the PEM chain, leaf first") }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw TLSFileError("tls.key_file \(key): cannot read a PEM private key (\(error)); check the path, the format and that it is not encrypted")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCA)
            } catch {
                throw TLSFileError("tls.client_ca_file \(clientCA): cannot read PEM certificates (\(error)); check the path and the format")
            }
            // Verification on a server requires a client certificate signed by these
            // roots; a client without one fails the handshake.
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }
}

package struct TLSFileError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
