import AccordCore

/// The bearer tokens a hub accepts, kept only as SHA-256 digests.
package struct TokenTable: Sendable {
    package enum Access: String, Sendable {
        case readWrite = "rw"
        case readOnly = "ro"
    }

    package struct Entry: Sendable, Equatable {
        package var name: String
        package var sha256: String
        package var access: Access

        package init(name: String, sha256: String, access: Access) {
            self.name = name
            self.sha256 = sha256.lowercased()
            self.access = access
        }
    }

    private let bySHA256: [String: Entry]

    package init(_ entries: [Entry]) {
        var table: [String: Entry] = [:]
        for entry in entries { table[entry.sha256] = entry }
        bySHA256 = table
    }

    /// No tokens: the hub is open (it then refuses to listen beyond loopback).
    package var isOpen: Bool { bySHA256.isEmpty }

    package func entry(forToken token: String) -> Entry? {
        bySHA256[ContentHash.hex(token)]
    }
}
