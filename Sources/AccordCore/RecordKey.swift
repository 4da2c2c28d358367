/// A record's identity, `kind/id`. Identity is not the path: a record moved to another
/// file or folder is the same record.
package struct RecordKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let kind: String
    package let id: String

    package init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }

    /// Parses `kind/id` as typed on a command line; nil unless both parts are valid.
    package init?(_ text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let kind = String(text[..<slash])
        let id = String(text[text.index(after: slash)...])
        guard RecordKey.isValidKind(kind), RecordKey.isValidID(id) else { return nil }
        self.init(kind: kind, id: id)
    }

    package var description: String { "\(kind)/\(id)" }

    package static func < (lhs: RecordKey, rhs: RecordKey) -> Bool {
        (lhs.kind, lhs.id) < (rhs.kind, rhs.id)
    }

    /// `^[a-z][a-z0-9_-]{0,31}$`
    package static func isValidKind(_ kind: String) -> Bool {
        let bytes = kind.utf8
        guard let first = bytes.first, bytes.count <= 32, isLower(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`
    package static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard let first = bytes.first, bytes.count <= 128, isAlnum(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    package static let kindPattern = "^[a-z][a-z0-9_-]{0,31}$"
    package static let idPattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

    private static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLower(byte) || isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
