import AccordCore

/// Makes revision ids: `<generation>-<16 hex digits>`, the digits a hash of the parent
/// rev and the new content. Opaque to clients; the generation makes them readable and
/// the hash makes two different histories never share a rev.
enum RevisionID {
    static func next(after parent: String?, deleted: Bool, fieldsJSON: String) -> String {
        let generation = (parent.flatMap(generation(of:)) ?? 0) + 1
        let material = Array((parent ?? "").utf8) + [0, deleted ? 1 : 0] + Array(fieldsJSON.utf8)
        return "\(generation)-\(ContentHash.hex(material).prefix(16))"
    }

    static func generation(of rev: String) -> Int? {
        guard let dash = rev.firstIndex(of: "-") else { return nil }
        return Int(rev[..<dash])
    }
}
