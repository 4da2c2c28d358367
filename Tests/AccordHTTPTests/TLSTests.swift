import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

/// The TLS options against a real TLS server (Python's ssl module on OpenSSL) and
/// certificates made for the test by the openssl command: a private CA, a server
/// certificate for 127.0.0.1, and a client certificate.
@Suite("TLS options against a real TLS server", .serialized)
struct TLSTests {
    final class Certificates: @unchecked Sendable {
        let folder: TemporaryFolder
        var ca: String { folder.child("ca.pem") }
        var serverCertificate: String { folder.child("server.pem") }
        var serverKey: String { folder.child("server.key") }
        var clientCertificate: String { folder.child("client.pem") }
        var clientKey: String { folder.child("client.key") }

        init() throws {
            folder = try TemporaryFolder()
            try folder.write("ext.cnf", "subjectAltName=IP:127.0.0.1\n")
            try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=accord-test-ca"])
            for name in ["server", "client"] {
                try run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=127.0.0.1"])
                try run([
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).pem", "-days", "2",
                    "-extfile", "ext.cnf",
                ])
            }
        }

        private func run(_ arguments: [String]) throws {
            try ProgramRun.succeed("/usr/bin/openssl", arguments, in: folder.path)
        }
    }

    /// An HTTPS server answering every GET with "tls ok"; with `clientCA`, it asks for
    /// a client certificate signed by that CA.
    func server(_ certificates: Certificates, clientCA: String? = nil) throws -> (ChildProcess, Int) {
        let script = """
            import http.server, ssl, sys
            class Handler(http.server.BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def do_GET(self):
                    body = b"tls ok"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            if len(sys.argv) > 3:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(sys.argv[3])
            server.socket = context.wrap_socket(server.socket, server_side=True)
            print("port", server.server_address[1], flush=True)
            server.serve_forever()
            """
        let process = try ChildProcess(
            "/usr/bin/env", ["python3", "-c", script, certificates.serverCertificate, certificates.serverKey] + (clientCA.map { [$0] } ?? []),
            logFolder: certificates.folder.path)
        let line = try process.waitForOutput(containing: "port", timeout: 20)
        guard let port = line.split(separator: " ").last.flatMap({ Int($0) }) else { throw TestSupportError("the TLS server said \"\(line)\"") }
        return (process, port)
    }

    @Test func aPrivateCAIsTrustedOnlyWhenGiven() async throws {
        let certificates = try Certificates()
        let (process, port) = try server(certificates)
        defer { process.signal(SIGKILL) }
        var options = HTTPClientOptions()
        options.tls.caFile = certificates.ca
        let trusting = HTTPClient(options: options)
        defer { trusting.shutdown() }
        let response = try await trusting.send(HTTPRequest(url: "https://127.0.0.1:\(port)/"))
        #expect(response.status == 200 && response.text == "tls ok")
        // The system's CAs do not know this server: verification is on by default.
        let plain = HTTPClient()
        defer { plain.shutdown() }
        await #expect(throws: HTTPClientError.self) { try await plain.send(HTTPRequest(url: "https://127.0.0.1:\(port)/")) }
    }

    @Test func aClientCertificateIsPresentedWhenConfigured() async throws {
        let certificates = try Certificates()
        let (process, port) = try server(certificates, clientCA: certificates.ca)
        defer { process.signal(SIGKILL) }
        var options = HTTPClientOptions()
        options.tls.caFile = certificates.ca
        let anonymous = HTTPClient(options: options)
        defer { anonymous.shutdown() }
        await #expect(throws: HTTPClientError.self) { try await anonymous.send(HTTPRequest(url: "https://127.0.0.1:\(port)/")) }
        options.tls.clientCertificate = certificates.clientCertificate
        options.tls.clientKey = certificates.clientKey
        let identified = HTTPClient(options: options)
        defer { identified.shutdown() }
        let response = try await identified.send(HTTPRequest(url: "https://127.0.0.1:\(port)/"))
        #expect(response.status == 200)
    }
}
