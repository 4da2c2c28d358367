/// What to do when both sides changed the same field (CONTRACT section 5).
package enum ConflictPolicy: String, Sendable, CaseIterable, Codable {
    /// The hub's value stays; the local one is kept as an open conflict.
    case merge
    case preferLocal = "prefer-local"
    case preferRemote = "prefer-remote"
    /// The side whose change is newer wins; the hub's on a tie or when a time is unknown.
    case newest
    /// The record is held back, neither pushed nor overwritten, until resolved.
    case manual
}

package enum MergeSide: String, Sendable, Hashable, Codable {
    case local
    case remote
}

/// The same field changed differently on both sides.
package struct FieldConflict: Sendable, Hashable, CustomStringConvertible {
    package var path: [String]
    /// nil where the field was absent on that side.
    package var base: JSONValue?
    package var local: JSONValue?
    package var remote: JSONValue?
    /// The side whose value the merged record carries.
    package var winner: MergeSide
    /// Open conflicts wait for `accordctl resolve`; closed ones are only logged.
    package var isOpen: Bool

    package var dottedPath: String { path.joined(separator: ".") }

    package var description: String {
        "\(dottedPath): local \(FieldChange.show(local)), remote \(FieldChange.show(remote)) (kept \(winner.rawValue)\(isOpen ? ", open" : ""))"
    }
}
