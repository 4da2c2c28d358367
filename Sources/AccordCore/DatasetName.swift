/// A dataset's name (CONTRACT 8.1), shared by the hub and the daemon's config.
package enum DatasetName {
    /// Served by the unprefixed v1 routes; it always exists.
    package static let defaultName = "default"

    package static let pattern = "^[a-z0-9][a-z0-9_-]{0,63}$"

    /// `^[a-z0-9][a-z0-9_-]{0,63}$`: safe in a URL path segment and as a file name.
    package static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLowerOrDigit(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return isLowerOrDigit(bytes[0]) && bytes.dropFirst().allSatisfy { isLowerOrDigit($0) || $0 == 0x5F || $0 == 0x2D }
    }
}
