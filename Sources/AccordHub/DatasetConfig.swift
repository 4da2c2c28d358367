/// One `[[datasets]]` entry of the hub's config (CONTRACT 8.1): a unit of sharing with
/// its own records, seqs, revisions and idempotency keys.
package struct DatasetConfig: Sendable, Equatable {
    /// Served by the unprefixed v1 routes; it always exists.
    package static let defaultName = "default"

    package var name: String
    /// Its schema folder; nil: the hub's `schemas`.
    package var schemas: String?

    package init(name: String, schemas: String? = nil) {
        self.name = name
        self.schemas = schemas
    }

    /// `^[a-z0-9][a-z0-9_-]{0,63}$`: safe in a URL path segment and as a file name.
    package static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLowerOrDigit(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return isLowerOrDigit(bytes[0]) && bytes.dropFirst().allSatisfy { isLowerOrDigit($0) || $0 == 0x5F || $0 == 0x2D }
    }

    package static let namePattern = "^[a-z0-9][a-z0-9_-]{0,63}$"
}
