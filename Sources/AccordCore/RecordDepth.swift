/// How deep a record may nest (CONTRACT 8.4): the record object is level 1, so its
/// wire form (`{"kind",…,"fields":{…}}`) is at most 65 levels, well inside every
/// parser's limit. The hub refuses deeper records with 422; the daemon reports them as
/// invalid and never writes one into the root.
extension Record {
    package static let maxDepth = 64
}

extension JSONValue {
    /// Levels of objects and arrays: 0 for a scalar, 1 for `{}` or `[1]`.
    package var depth: Int {
        switch self {
        case .object(let object): 1 + (object.members.map(\.value.depth).max() ?? 0)
        case .array(let elements): 1 + (elements.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}
