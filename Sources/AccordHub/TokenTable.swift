import AccordCore

/// The bearer tokens a hub accepts, kept only as SHA-256 digests.
package struct TokenTable: Sendable {
    package enum Access: String, Sendable {
        case readWrite = "rw"
        case readOnly = "ro"
    }

    /// What a token may see (CONTRACT 8.1): every dataset with one access, or the named
    /// datasets only, each with its own.
    package enum Grant: Sendable, Equatable {
        case every(Access)
        case only([String: Access])
    }

    package struct Entry: Sendable, Equatable {
        package var name: String
        package var sha256: String
        package var grant: Grant

        package init(name: String, sha256: String, grant: Grant) {
            self.name = name
            self.sha256 = sha256.lowercased()
            self.grant = grant
        }

        /// A token with the same access to every dataset.
        package init(name: String, sha256: String, access: Access) {
            self.init(name: name, sha256: sha256, grant: .every(access))
        }

        /// The token's access to `dataset`; nil when it may not see it.
        package func access(to dataset: String) -> Access? {
            switch grant {
            case .every(let access): access
            case .only(let datasets): datasets[dataset]
            }
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
