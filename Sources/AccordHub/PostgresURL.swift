import AccordCore

/// The hub's `db` when it names PostgreSQL (CONTRACT 8.5):
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE&host=/socket/folder]`.
/// The password may instead come from `PGPASSWORD`; `sslmode` is libpq's (`prefer`
/// when absent); `sslrootcert` names the PEM file of the CA that signed the server's
/// certificate (a team's private CA), instead of the system's trust store; a `host`
/// parameter that is a folder selects the Unix socket `FOLDER/.s.PGSQL.PORT`, as libpq
/// does.
package struct PostgresURL: Sendable, Equatable {
    package enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    package var user: String
    package var password: String?
    /// A host name or address, or a socket folder (starting with `/`).
    package var host: String
    package var port: Int
    package var database: String
    package var sslMode: SSLMode
    /// The CA file the server's certificate must chain to, when given.
    package var sslRootCertificate: String?

    /// Whether `db` is a PostgreSQL URL rather than a SQLite file.
    package static func names(_ db: String) -> Bool {
        db.hasPrefix("postgres://") || db.hasPrefix("postgresql://")
    }

    /// The socket file when `host` is a folder.
    package var socketPath: String? { host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil }

    /// The URL without its password, for logs and errors.
    package var redacted: String {
        let address = socketPath.map { _ in "/\(database)?host=\(host)" } ?? "\(host):\(port)/\(database)"
        return socketPath == nil ? "postgres://\(user)@\(address)" : "postgres://\(user)@:\(port)\(address)"
    }

    package init(parsing text: String, environment: [String: String] = [:]) throws(PostgresURLError) {
        func fail(_ reason: String) -> PostgresURLError { PostgresURLError(reason: reason) }
        guard let schemeEnd = text.range(of: "://"), Self.names(text) else {
            throw fail("it must start with postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        // Not quoted: it may be in the password.
        if PercentDecoding.hasMalformedEscape(rest) {
            throw fail("a % in it is not followed by two hex digits (a percent escape); write a % in a password or name as %25")
        }
        // A NUL ends a C string: libpq and the server would read a shorter name or
        // password than the one given.
        if rest.lowercased().contains("%00") || rest.contains("\0") {
            throw fail("it holds a NUL byte (%00), which no user, password, database or path may contain")
        }
        var query: [String: String] = [:]
        if let mark = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("query parameter \"\(pair)\" is not NAME=VALUE") }
                query[PercentDecoding.decode(String(parts[0]))] = PercentDecoding.decode(String(parts[1]))
            }
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else { throw fail("it names no database (postgres://USER@HOST:PORT/DATABASE)") }
        database = PercentDecoding.decode(String(rest[rest.index(after: slash)...]))
        guard !database.isEmpty else { throw fail("it names no database (postgres://USER@HOST:PORT/DATABASE)") }
        var authority = rest[..<slash]
        guard let at = authority.lastIndex(of: "@") else { throw fail("it names no user (postgres://USER@HOST:PORT/DATABASE)") }
        let userInfo = authority[..<at]
        authority = authority[authority.index(after: at)...]
        if let colon = userInfo.firstIndex(of: ":") {
            user = PercentDecoding.decode(String(userInfo[..<colon]))
            password = PercentDecoding.decode(String(userInfo[userInfo.index(after: colon)...]))
        } else {
            user = PercentDecoding.decode(String(userInfo))
            password = nil
        }
        guard !user.isEmpty else { throw fail("it names no user (postgres://USER@HOST:PORT/DATABASE)") }
        if password == nil, let fromEnvironment = environment["PGPASSWORD"] { password = fromEnvironment }
        var hostPart = String(authority)
        port = 5432
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw fail("port \"\(authority[authority.index(after: colon)...])\" is not a number from 1 to 65535")
            }
            port = number
            hostPart = String(authority[..<colon])
        }
        if hostPart.hasPrefix("["), hostPart.hasSuffix("]") {
            hostPart = String(hostPart.dropFirst().dropLast())
        } else if hostPart.contains("[") || hostPart.contains("]") {
            throw fail("host \"\(hostPart)\" has an unmatched bracket; write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT")
        }
        if let folder = query["host"] { hostPart = folder }
        guard !hostPart.isEmpty else { throw fail("it names no host (give HOST, or ?host=/socket/folder)") }
        host = hostPart
        // libpq's "system" trust store comes with verify-full: any weaker mode would
        // trust whatever a public CA signed for anyone.
        let system = query["sslrootcert"] == "system"
        let mode = query["sslmode"] ?? (system ? SSLMode.verifyFull : SSLMode.prefer).rawValue
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw fail("sslmode \"\(mode)\" is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.sslMode = sslMode
        sslRootCertificate = query["sslrootcert"]
        if sslRootCertificate?.isEmpty == true { throw fail("sslrootcert is empty; give the CA's PEM file") }
        if system, sslMode != .verifyFull {
            throw fail("sslrootcert=system needs sslmode=verify-full (any CA in the system's store could certify the server), not \(sslMode.rawValue)")
        }
        if sslRootCertificate != nil, [.disable, .allow, .prefer].contains(sslMode) {
            throw fail("sslrootcert needs sslmode=verify-full, verify-ca or require (a check of the server), not \(sslMode.rawValue)")
        }
        for name in query.keys where !["host", "sslmode", "sslrootcert"].contains(name) {
            throw fail("unknown parameter \"\(name)\" (known: sslmode, sslrootcert, host)")
        }
    }
}

/// Why a `db` URL cannot be used, said so the user can fix it.
package struct PostgresURLError: Error, CustomStringConvertible, Equatable {
    package var reason: String
    package var description: String { "the PostgreSQL URL is not usable: \(reason)" }
}
