import AccordCore

/// Makes revision ids: `<generation>-<16 hex digits>`, the digits a hash of the parent
/// rev and the new content. Opaque to clients; the generation makes them readable and
/// the hash makes two different histories never share a rev.
enum RevisionID {
    static func next(after parent: String?, deleted: Bool, fieldsJSON: String) -> String {
        let generation = (parent.flatMap(generation(of:)) ?? 0) + 1
        var hasher = SHA256()
        hasher.update((parent ?? "").utf8)
        hasher.update([0, deleted ? 1 : 0])
        hasher.update(fieldsJSON.utf8)
        let digest = hasher.finalize().prefix(8).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
        return "\(generation)-\(digest)"
    }

    static func generation(of rev: String) -> Int? {
        guard let dash = rev.firstIndex(of: "-") else { return nil }
        return Int(rev[..<dash])
    }
}
