import AccordCore
import AccordTestSupport
import Foundation
import Testing

/// The hub over TLS with a private CA made by `openssl` (CONTRACT 8.4): a daemon syncing
/// with mutual TLS, bad certificates refused with one line, HTTP/2 by ALPN, and a
/// certificate rotated by SIGHUP while an old long-poll survives.
@Suite(.serialized) struct HubTLSTests {
    /// A hub serving HTTPS with `cert`, requiring client certificates from `clientCA`
    /// when given, with one rw token ("team-token").
    final class TLSHub {
        let ca: PrivateCA
        let hub: HubLauncher
        let config: String
        let token: String

        /// `settings`: top-level hub settings placed before the tables.
        init(
            ca: PrivateCA, cert: (certificate: String, key: String), clientCA: String? = nil, logLevel: String = "info", settings: String = ""
        ) throws {
            self.ca = ca
            let folder = try TemporaryFolder()
            var text = settings + "\n[[tokens]]\nname = \"team\"\nsha256 = \"\(ContentHash.hex(Array("team-token".utf8)))\"\naccess = \"rw\"\n"
            text += "[tls]\ncert_file = \"\(cert.certificate)\"\nkey_file = \"\(cert.key)\"\n"
            if let clientCA { text += "client_ca_file = \"\(clientCA)\"\n" }
            config = try folder.write("hub.toml", text)
            token = try folder.write("token", "team-token\n")
            hub = try HubLauncher(arguments: ["--config", config, "--log-level", logLevel], folder: folder)
        }

        /// `curl` against the hub over HTTPS: exit code and stdout.
        func curl(_ arguments: [String], path: String = "/v1/health") async throws -> (code: Int32, out: String) {
            let child = try ChildProcess(
                "/usr/bin/curl",
                ["-sS", "--cacert", ca.certificate, "-H", "Authorization: Bearer team-token"] + arguments + ["https://127.0.0.1:\(hub.port)\(path)"],
                logFolder: hub.folder.path)
            return (try await child.waitForExit(timeout: 60), child.standardOutput)
        }
    }

    @Test func aDaemonSyncsWithAHubOverMutualTLSAndHTTP2() async throws {
        let ca = try PrivateCA()
        let tls = try TLSHub(ca: ca, cert: try ca.issue("hub"), clientCA: ca.certificate)
        let client = try ca.issue("daemon", hosts: ["daemon.example"], client: true)
        // The listening line says https.
        #expect(tls.hub.process.standardOutput.contains("listening on https://"))
        // HTTP/2 by ALPN, HTTP/1.1 too; no client certificate: no handshake.
        let h2 = try await tls.curl(["--http2", "--cert", client.certificate, "--key", client.key, "-o", "/dev/null", "-w", "%{http_version}"])
        #expect(h2.code == 0 && h2.out == "2", "\(h2)")
        let h1 = try await tls.curl(["--http1.1", "--cert", client.certificate, "--key", client.key, "-o", "/dev/null", "-w", "%{http_version}"])
        #expect(h1.code == 0 && h1.out == "1.1", "\(h1)")
        #expect(try await tls.curl(["-o", "/dev/null"]).code != 0, "a client without a certificate must be refused")

        let daemon = try DaemonLauncher(
            hubPort: tls.hub.port, hubScheme: "https",
            extraConfig:
                "token_file = \"\(tls.token)\"\n[tls]\nca_file = \"\(ca.certificate)\"\nclient_cert = \"\(client.certificate)\"\nclient_key = \"\(client.key)\"\n"
        )
        try daemon.write("agreement/tls-1.json", agreementText("tls-1"))
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "30"]).code == 0)
        let record = try await tls.curl(["--cert", client.certificate, "--key", client.key], path: "/v1/records/agreement/tls-1")
        #expect(record.out.contains("\"id\": \"tls-1\""), "\(record)")
        // And back: a record written on the hub lands in the daemon's root.
        let put = try await tls.curl(
            [
                "--cert", client.certificate, "--key", client.key, "-X", "PUT", "-H", "If-None-Match: *", "-H", "Content-Type: application/json", "--data",
                "{\"kind\": \"agreement\", \"id\": \"tls-2\", \"fields\": {\"title\": \"From the hub\", \"parties\": [\"A\", \"B\"], \"status\": \"signed\"}}",
                "-o", "/dev/null", "-w", "%{http_code}",
            ], path: "/v1/records/agreement/tls-2")
        #expect(put.out == "201", "\(put)")
        #expect(await eventually(timeout: 30) { daemon.read("agreement/tls-2.json")?.contains("From the hub") == true })
    }

    @Test func aStalledHandshakeIsCutOffAfterTheIdleTimeout() async throws {
        let ca = try PrivateCA()
        let tls = try TLSHub(ca: ca, cert: try ca.issue("hub"), settings: "idle_timeout_s = 1")
        // Silent after connecting; half a ClientHello, then silent. The HTTP timeouts
        // start only after the handshake, so these would hold their slots for ever.
        for bytes: [UInt8] in [[], [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]] {
            let fd = try LoopbackSocket.connect(port: tls.hub.port)
            defer { close(fd) }
            LoopbackSocket.sendAll(fd, bytes)
            #expect(await LoopbackSocket.closedByPeer(fd, within: 15), "a handshake stalled after \(bytes.count) bytes must be cut off")
        }
        // A client that completes its handshake is served as before.
        #expect(try await tls.curl(["-o", "/dev/null"]).code == 0)
    }

    @Test func aThousandRequestsShareOneHTTP2Connection() async throws {
        // libcurl 7.88 resets every stream it has finished with; SwiftNIO's HTTP/2 guard
        // ends a connection after 200 resets in 30 s unless the hub sifts them out.
        let ca = try PrivateCA()
        let tls = try TLSHub(ca: ca, cert: try ca.issue("hub"))
        let urls = (0..<1000).flatMap { _ in ["-o", "/dev/null", "https://127.0.0.1:\(tls.hub.port)/v1/health"] }
        let child = try ChildProcess(
            "/usr/bin/curl", ["-sS", "--http2", "--cacert", ca.certificate, "-w", "%{http_version} %{num_connects}\\n"] + urls,
            logFolder: tls.hub.folder.path)
        #expect(try await child.waitForExit(timeout: 120) == 0)
        let lines = child.standardOutput.split(separator: "\n")
        #expect(lines.count == 1000 && lines.allSatisfy { $0.hasPrefix("2 ") })
        let connects = lines.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        #expect(connects == 1, "1,000 requests over HTTP/2 took \(connects) connections")
    }

    @Test func aDaemonMultiplexesItsRequestsOverOneHTTP2Connection() async throws {
        let ca = try PrivateCA()
        let tls = try TLSHub(ca: ca, cert: try ca.issue("hub"), logLevel: "debug")
        let daemon = try DaemonLauncher(
            hubPort: tls.hub.port, hubScheme: "https", extraConfig: "token_file = \"\(tls.token)\"\n[tls]\nca_file = \"\(ca.certificate)\"\n")
        // Enough records for several batches in flight at once, beside the long-poll.
        for index in 0..<3000 { try daemon.write("agreement/mux-\(index).json", agreementText("mux-\(index)")) }
        #expect(try await daemon.ctl(["sync", "--wait", "--timeout", "120"]).code == 0)
        let accepted = tls.hub.process.standardError.split(separator: "\n").filter { $0.contains("connection accepted") }.count
        // Over HTTP/1.1 each request in flight needs a connection of its own; over HTTP/2
        // the pushes and the long-poll share one (a second may open while the first is
        // still negotiating).
        #expect(accepted >= 1 && accepted <= 2, "\(accepted) connections for 3,000 records")
        let pulled = try await tls.curl(["-o", "/dev/null", "-w", "%{http_code}"], path: "/v1/records/agreement/mux-2999")
        #expect(pulled.out == "200")
    }

    @Test(
        "a bad certificate is refused with one clear line in status",
        arguments: ["wrong CA", "expired", "wrong host name", "no client certificate"])
    func badCertificates(_ problem: String) async throws {
        let ca = try PrivateCA()
        let other = try PrivateCA(name: "other")
        let client = try ca.issue("daemon", hosts: ["daemon.example"], client: true)
        let cert: (certificate: String, key: String)
        var trusted = ca.certificate
        var clientLines = "client_cert = \"\(client.certificate)\"\nclient_key = \"\(client.key)\"\n"
        let expected: String
        switch problem {
        case "wrong CA":
            cert = try ca.issue("hub")
            trusted = other.certificate
            expected = "certificate"
        case "expired":
            cert = try ca.issue("hub", notBefore: "20200101000000Z", notAfter: "20200201000000Z")
            expected = "expired"
        case "wrong host name":
            cert = try ca.issue("hub", hosts: ["hub.example"])
            expected = "127.0.0.1"
        default:
            cert = try ca.issue("hub")
            clientLines = ""
            expected = "certificate required"
        }
        let tls = try TLSHub(ca: ca, cert: cert, clientCA: ca.certificate)
        let daemon = try DaemonLauncher(
            hubPort: tls.hub.port, hubScheme: "https", extraConfig: "token_file = \"\(tls.token)\"\n[tls]\nca_file = \"\(trusted)\"\n\(clientLines)")
        try daemon.write("agreement/bad-\(problem.count).json", agreementText("bad-\(problem.count)"))
        // For a missing client certificate TLS 1.3 sends its alert after the handshake, so
        // a try may fail on a closed socket first; the next says why.
        var lastError = ""
        #expect(
            await eventually(timeout: 30) {
                lastError = (try? daemon.status()["last_error"] as? String) ?? ""
                return lastError.localizedCaseInsensitiveContains(expected)
            }, "\(problem): \(lastError)")
        #expect(!lastError.contains("\n"), "one line: \(lastError)")
        #expect(daemon.process.standardError.contains(lastError.prefix(40)), "the log says it too")
        // Nothing reached the hub (asked without checking its certificate: the point here
        // is what the hub holds).
        let count = try await tls.curl(["-k", "--cert", client.certificate, "--key", client.key], path: "/v1/changes?since=0")
        #expect(count.out.contains("\"changes\": []"), "\(count.out)")
    }

    @Test func sighupServesARotatedCertificateWhileAnOldLongPollSurvives() async throws {
        let ca = try PrivateCA()
        let first = try ca.issue("hub")
        // The hub reads its files by path: rotation writes new files there.
        let certificate = ca.folder.child("live.crt")
        let key = ca.folder.child("live.key")
        try FileManager.default.copyItem(atPath: first.certificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        let tls = try TLSHub(ca: ca, cert: (certificate, key))
        let oldSerial = try await Self.servedSerial(port: tls.hub.port, ca: ca.certificate)

        // A long-poll on the old certificate, waiting for the next change.
        let poll = try ChildProcess(
            "/usr/bin/curl",
            ["-sS", "--cacert", ca.certificate, "-H", "Authorization: Bearer team-token", "https://127.0.0.1:\(tls.hub.port)/v1/changes?since=0&wait=50"],
            logFolder: tls.hub.folder.path)
        // Established (TLS done, request sent) before the certificate changes.
        #expect(try await eventually(timeout: 10) { try LoopbackSocket.establishedConnections(port: tls.hub.port) >= 1 })

        let second = try ca.issue("hub-renewed")
        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: second.certificate, toPath: certificate)
        try FileManager.default.copyItem(atPath: second.key, toPath: key)
        tls.hub.process.signal(SIGHUP)
        _ = try tls.hub.process.waitForError(containing: "reloaded the TLS certificate", timeout: 10)
        let newSerial = try await Self.servedSerial(port: tls.hub.port, ca: ca.certificate)
        #expect(newSerial != oldSerial, "new connections get the renewed certificate")

        // The old long-poll is still open and is answered by the next write.
        #expect(poll.isRunning)
        let put = try await tls.curl(
            [
                "-X", "PUT", "-H", "If-None-Match: *", "-H", "Content-Type: application/json", "--data",
                "{\"kind\": \"agreement\", \"id\": \"rotated\", \"fields\": {\"title\": \"R\", \"parties\": [\"A\", \"B\"], \"status\": \"signed\"}}",
                "-o", "/dev/null", "-w", "%{http_code}",
            ], path: "/v1/records/agreement/rotated")
        #expect(put.out == "201")
        #expect(try await poll.waitForExit(timeout: 30) == 0)
        #expect(poll.standardOutput.contains("\"rotated\""), "\(poll.standardOutput)")
    }

    /// The serial number of the certificate the hub serves a new connection.
    static func servedSerial(port: Int, ca: String) async throws -> String {
        let folder = try TemporaryFolder()
        let script = "openssl s_client -connect 127.0.0.1:\(port) -CAfile \(ca) </dev/null 2>/dev/null | openssl x509 -noout -serial"
        let child = try ChildProcess("/bin/sh", ["-c", script], logFolder: folder.path)
        _ = try await child.waitForExit(timeout: 30)
        let serial = child.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard serial.hasPrefix("serial=") else { throw TestSupportError("no certificate served: \(child.standardError)") }
        return serial
    }
}
