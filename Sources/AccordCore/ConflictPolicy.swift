/// What to do when both sides changed the same field (CONTRACT section 5).
public enum ConflictPolicy: String, Sendable, CaseIterable, Codable {
    /// The hub's value stays; the local one is kept as an open conflict.
    case merge
    case preferLocal = "prefer-local"
    case preferRemote = "prefer-remote"
    /// The side whose change is newer wins; the hub's on a tie or when a time is unknown.
    case newest
    /// The record is held back, neither pushed nor overwritten, until resolved.
    case manual
}

public enum MergeSide: String, Sendable, Hashable, Codable {
    case local
    case remote
}

/// The same field changed differently on both sides.
public struct FieldConflict: Sendable, Hashable, CustomStringConvertible {
    public var path: [String]
    /// nil where the field was absent on that side.
    public var base: JSONValue?
    public var local: JSONValue?
    public var remote: JSONValue?
    /// The side whose value the merged record carries.
    public var winner: MergeSide
    /// Open conflicts wait for `accordctl resolve`; closed ones are only logged.
    public var isOpen: Bool

    public var dottedPath: String { path.joined(separator: ".") }

    public var description: String {
        "\(dottedPath): local \(FieldChange.show(local)), remote \(FieldChange.show(remote)) (kept \(winner.rawValue)\(isOpen ? ", open" : ""))"
    }
}
