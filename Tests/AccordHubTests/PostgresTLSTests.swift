import AccordTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A hub reaching PostgreSQL over TLS with a certificate from the team's own CA
/// (`sslmode=verify-full&sslrootcert=FILE`): the real server is given a certificate
/// for localhost from a private CA made with openssl, and `accordhub migrate` must
/// connect when the chain and name check out, and refuse in one line when they do
/// not. Runs on its own (scripts/test.sh), since it turns TLS on for the whole
/// cluster, and turns it off again.
@Suite(.enabled(if: TestPostgres.clusterFolder != nil, "needs ACCORD_TEST_POSTGRES_URL and ACCORD_TEST_POSTGRES_DIR"), .serialized)
struct PostgresTLSTests {
    static let psql = "/usr/bin/psql"

    /// The test database's URL with `host` and the query replaced.
    static func url(host: String = "127.0.0.1", query: String) throws -> String {
        let base = try #require(TestPostgres.url)
        var components = try #require(URLComponents(string: base))
        components.host = host
        components.query = query
        return try #require(components.string)
    }

    /// Runs each statement on its own (ALTER SYSTEM cannot run in a transaction).
    static func superuser(_ statements: [String]) throws {
        let base = try #require(TestPostgres.url)
        let arguments = [base, "-qX"] + statements.flatMap { ["-c", $0] }
        let run = try ProgramRun.run(psql, arguments)
        #expect(run.status == 0, "psql: \(run.stderr)")
    }

    @Test func verifyFullWithThePrivateCAConnectsAndRefusesWhatDoesNotCheckOut() async throws {
        let ca = try PrivateCA()
        let other = try PrivateCA(name: "other")
        // A name only: NIOSSL matches a certificate's IP address against the socket's,
        // whatever name was dialled, so the name check shows with a DNS name.
        let server = try ca.issue("postgres-server", hosts: ["localhost"])
        // The server runs as postgres: it must reach the folder and own its key.
        chmod(ca.folder.path, 0o755)
        let owner = try #require(getpwnam("postgres")?.pointee)
        for file in [server.certificate, server.key] { chown(file, owner.pw_uid, owner.pw_gid) }
        chmod(server.key, 0o600)
        try Self.superuser([
            "ALTER SYSTEM SET ssl_cert_file = '\(server.certificate)'", "ALTER SYSTEM SET ssl_key_file = '\(server.key)'",
            "ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()",
        ])
        defer {
            try? Self.superuser([
                "ALTER SYSTEM RESET ssl", "ALTER SYSTEM RESET ssl_cert_file", "ALTER SYSTEM RESET ssl_key_file", "SELECT pg_reload_conf()",
            ])
        }
        // The postmaster rereads its configuration when it gets to the signal.
        let tlsOn = try await eventuallyAsync(timeout: 20) {
            try ProgramRun.run(Self.psql, [try Self.url(query: "sslmode=require"), "-qXAtc", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"])
                .stdout.contains("t")
        }
        #expect(tlsOn, "the server did not turn TLS on")

        let good = try await PostgresStartupErrorTests.migrate(try Self.url(host: "localhost", query: "sslmode=verify-full&sslrootcert=\(ca.certificate)"))
        #expect(good.status == 0, "\(good.error)")

        let strange = try await PostgresStartupErrorTests.migrate(
            try Self.url(host: "localhost", query: "sslmode=verify-full&sslrootcert=\(other.certificate)"))
        #expect(strange.status == 1 && strange.error.split(separator: "\n").count == 1, "\(strange.error)")
        #expect(strange.error.contains("the server's TLS certificate could not be verified"), "said: \(strange.error)")

        // The certificate names localhost, not 127.0.0.1: verify-full refuses the
        // name, verify-ca checks only the chain.
        let name = try await PostgresStartupErrorTests.migrate(try Self.url(query: "sslmode=verify-full&sslrootcert=\(ca.certificate)"))
        #expect(name.status == 1 && name.error.split(separator: "\n").count == 1, "status \(name.status): \(name.error)")
        #expect(name.error.contains("does not name the host in the URL"), "said: \(name.error)")
        let chainOnly = try await PostgresStartupErrorTests.migrate(try Self.url(query: "sslmode=verify-ca&sslrootcert=\(ca.certificate)"))
        #expect(chainOnly.status == 0, "\(chainOnly.error)")

        let missing = try await PostgresStartupErrorTests.migrate(try Self.url(query: "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"))
        #expect(missing.status == 2 && missing.error.split(separator: "\n").count == 1, "\(missing.error)")
        #expect(missing.error.contains("sslrootcert /nonexistent/ca.pem cannot be used: No such file or directory"), "\(missing.error)")

        // A FIFO would block the read for ever: refused before it is opened.
        let fifo = ca.folder.child("ca.fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        let blocked = try await PostgresStartupErrorTests.migrate(try Self.url(query: "sslmode=verify-full&sslrootcert=\(fifo)"))
        #expect(blocked.status == 2 && blocked.error.contains("sslrootcert \(fifo) cannot be used: it is not a regular file"), "\(blocked.error)")
    }
}
