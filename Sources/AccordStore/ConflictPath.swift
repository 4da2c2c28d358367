import AccordCore

/// A conflict's field path as the state database keeps it: a JSON array of keys, so a
/// field literally named "a.b" stays one key.
enum ConflictPath {
    static func encode(_ path: [String]) -> String {
        JSONWriter.line(.array(path.map { .string($0) }))
    }

    static func decode(_ text: String) throws -> [String] {
        guard let parts = (try? JSONParser.parse(text))?.arrayValue, parts.allSatisfy({ $0.stringValue != nil }) else {
            throw StoreError("corrupt conflict path in the state database: \(text)")
        }
        return parts.compactMap(\.stringValue)
    }
}
