import AccordCore

/// The bearer tokens a hub accepts, kept only as SHA-256 digests.
public struct TokenTable: Sendable {
    public enum Access: String, Sendable {
        case readWrite = "rw"
        case readOnly = "ro"
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var sha256: String
        public var access: Access

        public init(name: String, sha256: String, access: Access) {
            self.name = name
            self.sha256 = sha256.lowercased()
            self.access = access
        }
    }

    private let bySHA256: [String: Entry]

    public init(_ entries: [Entry]) {
        var table: [String: Entry] = [:]
        for entry in entries { table[entry.sha256] = entry }
        bySHA256 = table
    }

    /// No tokens: the hub is open (it then refuses to listen beyond loopback).
    public var isOpen: Bool { bySHA256.isEmpty }

    public func entry(forToken token: String) -> Entry? {
        bySHA256[SHA256.hex(token)]
    }
}
