import Foundation

/// A private certificate authority made with the real `openssl` in a temporary folder:
/// server and client certificates signed by it, and the bad ones (expired, wrong name,
/// another CA) that a TLS test needs. Files are PEM; keys are unencrypted.
package final class PrivateCA: @unchecked Sendable {
    package let folder: TemporaryFolder
    package let name: String
    package var certificate: String { folder.child("\(name).crt") }
    package var key: String { folder.child("\(name).key") }

    package init(name: String = "ca", folder: TemporaryFolder? = nil) throws {
        self.folder = try folder ?? TemporaryFolder()
        self.name = name
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "30", "-subj", "/CN=Accord test CA \(name)",
        ])
    }

    /// A leaf certificate for `hosts` (IP addresses or DNS names), valid from `notBefore`
    /// to `notAfter` (`YYYYMMDDHHMMSSZ`; now to 30 days on when nil). Returns the
    /// certificate and key paths.
    package func issue(
        _ file: String, hosts: [String] = ["127.0.0.1", "localhost"], client: Bool = false, notBefore: String? = nil, notAfter: String? = nil
    )
        throws -> (certificate: String, key: String)
    {
        let (crt, key, csr) = (folder.child("\(file).crt"), folder.child("\(file).key"), folder.child("\(file).csr"))
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=\(file)"])
        let names = hosts.map { $0.first!.isNumber ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        let usage = client ? "clientAuth" : "serverAuth"
        try "subjectAltName=\(names)\nextendedKeyUsage=\(usage)\nbasicConstraints=CA:FALSE\n".write(
            toFile: folder.child("\(file).ext"), atomically: true, encoding: .utf8)
        if notBefore == nil, notAfter == nil {
            try Self.openssl([
                "x509", "-req", "-in", csr, "-CA", certificate, "-CAkey", self.key, "-CAcreateserial", "-out", crt, "-days", "30", "-extfile",
                folder.child("\(file).ext"),
            ])
        } else {
            // `openssl ca` takes explicit dates, which `x509 -req` cannot in OpenSSL 3.0.
            let database = folder.child("\(name)-index.txt")
            if !FileManager.default.fileExists(atPath: database) { try "".write(toFile: database, atomically: true, encoding: .utf8) }
            let config = """
                [ca]
                default_ca = own
                [own]
                database = \(database)
                new_certs_dir = \(folder.path)
                certificate = \(certificate)
                private_key = \(self.key)
                serial = \(folder.child("\(name)-ca.serial"))
                default_md = sha256
                policy = anything
                copy_extensions = none
                unique_subject = no
                [anything]
                commonName = supplied
                """
            try config.write(toFile: folder.child("\(name)-ca.cnf"), atomically: true, encoding: .utf8)
            if !FileManager.default.fileExists(atPath: folder.child("\(name)-ca.serial")) {
                try "1000\n".write(toFile: folder.child("\(name)-ca.serial"), atomically: true, encoding: .utf8)
            }
            try Self.openssl([
                "ca", "-batch", "-config", folder.child("\(name)-ca.cnf"), "-in", csr, "-out", crt, "-notext", "-startdate", notBefore ?? "20240101000000Z",
                "-enddate", notAfter ?? "20991231000000Z", "-extfile", folder.child("\(file).ext"),
            ])
        }
        return (crt, key)
    }

    static func openssl(_ arguments: [String]) throws {
        try ProgramRun.succeed("/usr/bin/openssl", arguments)
    }
}
