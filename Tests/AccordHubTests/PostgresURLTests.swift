import Testing

@testable import AccordHub

/// `db = "postgres://…"` as libpq users write it (CONTRACT 8.5).
@Suite struct PostgresURLTests {
    @Test func aFullURL() throws {
        let url = try PostgresURL(parsing: "postgres://accord:s%40cret@db.example:6543/team?sslmode=verify-full")
        #expect(url.user == "accord" && url.password == "s@cret" && url.host == "db.example" && url.port == 6543)
        #expect(url.database == "team" && url.sslMode == .verifyFull && url.socketPath == nil)
        #expect(url.redacted == "postgres://accord@db.example:6543/team")
    }

    @Test func defaultsAndThePasswordFromTheEnvironment() throws {
        let url = try PostgresURL(parsing: "postgresql://accord@127.0.0.1/accord", environment: ["PGPASSWORD": "pw"])
        #expect(url.port == 5432 && url.sslMode == .prefer && url.password == "pw")
        // A password in the URL wins.
        #expect(try PostgresURL(parsing: "postgres://a:url@h/d", environment: ["PGPASSWORD": "env"]).password == "url")
    }

    @Test func aSocketFolder() throws {
        let url = try PostgresURL(parsing: "postgres://postgres@/accord?host=/run/postgresql")
        #expect(url.socketPath == "/run/postgresql/.s.PGSQL.5432")
        #expect(url.redacted == "postgres://postgres@:5432/accord?host=/run/postgresql")
    }

    @Test func aPrivateCAFile() throws {
        let url = try PostgresURL(parsing: "postgres://a@db.example/d?sslmode=verify-full&sslrootcert=/etc/accord/db-ca.pem")
        #expect(url.sslMode == .verifyFull && url.sslRootCertificate == "/etc/accord/db-ca.pem")
        #expect(try PostgresURL(parsing: "postgres://a@h/d?sslmode=verify-full").sslRootCertificate == nil)
    }

    @Test func theSystemStoreComesWithVerifyFull() throws {
        let url = try PostgresURL(parsing: "postgres://a@db.example/d?sslrootcert=system")
        #expect(url.sslMode == .verifyFull && url.sslRootCertificate == "system")
    }

    @Test func anIPv6Host() throws {
        let url = try PostgresURL(parsing: "postgres://a@[::1]:5433/d")
        #expect(url.host == "::1" && url.port == 5433)
    }

    @Test(arguments: [
        ("/var/lib/accord/hub.db", "must start with postgres://"),
        ("postgres://127.0.0.1/accord", "names no user"),
        ("postgres://a@h:5432", "names no database"),
        ("postgres://a@h:99999/d", "port \"99999\""),
        ("postgres://a@h/d?sslmode=always", "sslmode \"always\" is not one of"),
        ("postgres://a@h/d?timeout=3", "unknown parameter \"timeout\""),
        ("postgres://a@h/d?sslrootcert=/ca.pem", "sslrootcert needs sslmode=verify-full, verify-ca or require"),
        ("postgres://a@h/d?sslmode=verify-full&sslrootcert=", "sslrootcert is empty"),
        ("postgres://a@h/d?sslmode=require&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
        ("postgres://a@h/d?sslmode=verify-ca&sslrootcert=system", "sslrootcert=system needs sslmode=verify-full"),
        ("postgres://a:p%zz@h/d", "a % in it is not followed by two hex digits"),
        ("postgres://a:p%4@h/d", "a % in it is not followed by two hex digits"),
        ("postgres://a@h/d?sslrootcert=/ca%", "a % in it is not followed by two hex digits"),
        ("postgres://a:p%00w@h/d", "NUL byte"),
        ("postgres://a@h/d%00x", "NUL byte"),
        ("postgres://a@[::1/d", "unmatched bracket"),
        ("postgres://a@[::1:5432/d", "unmatched bracket"),
        ("postgres://a@::1]/d", "unmatched bracket"),
    ])
    func badURLsSayWhatIsWrong(text: String, expected: String) {
        #expect(throws: PostgresURLError.self) { try PostgresURL(parsing: text) }
        do {
            _ = try PostgresURL(parsing: text)
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test func onlyPostgresSchemesNameIt() {
        #expect(PostgresURL.names("postgres://a@h/d") && PostgresURL.names("postgresql://a@h/d"))
        #expect(!PostgresURL.names("/var/lib/accord/hub.db") && !PostgresURL.names("hub.db"))
    }
}
