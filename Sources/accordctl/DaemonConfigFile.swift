import AccordCLI
import AccordFiles
import TOMLKit

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's config file as accordctl finds it (`--config`, `ACCORD_CONFIG`, then
/// /etc/accord/accordd.toml), for the settings the two share: the control socket and
/// the schema folder. Only its TOML is read; the daemon checks the rest.
enum DaemonConfigFile {
    static let installed = "/etc/accord/accordd.toml"

    /// The config's top-level table, or nil when none is at the default path. An
    /// explicit config that cannot be read or parsed is a usage error.
    static func table(explicit: String?) throws -> (path: String, table: TOMLTable)? {
        let given = explicit ?? getenv("ACCORD_CONFIG").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        let path = given ?? installed
        guard let bytes = try? FileReader.readRegularFile(path, maxBytes: 1 << 20) else {
            if given != nil { throw CommandStatus.usage("accordctl: cannot read the daemon config \(path); check the path or ACCORD_CONFIG") }
            return nil
        }
        guard let table = try? TOMLTable(string: String(decoding: bytes, as: UTF8.self)) else {
            throw CommandStatus.usage("accordctl: \(path) is not valid TOML; fix it or pass the setting on the command line")
        }
        return (path, table)
    }
}
