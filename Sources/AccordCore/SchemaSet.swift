/// The schemas of every known kind, keyed by kind name (`agreement.schema.json`
/// defines `agreement`). A record of a kind with no schema is invalid: the schema folder
/// is where a team declares what it keeps.
package struct SchemaSet: Sendable {
    package private(set) var schemas: [String: Schema]
    /// Where the schemas came from, for "add DIR/kind.schema.json" hints.
    package var origin: String

    package init(schemas: [String: Schema] = [:], origin: String = "the schema folder") {
        self.schemas = schemas
        self.origin = origin
    }

    /// Compiles one schema file's text into the set under `kind`.
    package mutating func add(kind: String, fileName: String, bytes: [UInt8]) throws(SchemaError) {
        guard RecordKey.isValidKind(kind) else {
            throw SchemaError(file: fileName, location: "", reason: "\"\(kind)\" is not a valid kind name; it must match \(RecordKey.kindPattern)")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw SchemaError(file: fileName, location: "", reason: "\(error.line):\(error.column): \(error.reason)")
        }
        do {
            schemas[kind] = try Schema(value)
        } catch {
            var located = error
            located.file = fileName
            throw located
        }
    }

    package var kinds: [String] { schemas.keys.sorted() }

    /// Every violation of `record` against its kind's schema.
    package func validate(_ record: Record) -> [SchemaViolation] {
        guard let schema = schemas[record.key.kind] else {
            let known = kinds.isEmpty ? "none" : kinds.joined(separator: ", ")
            return [
                SchemaViolation(
                    path: "/kind",
                    message: "no schema for kind \"\(record.key.kind)\" (known: \(known)); add \(record.key.kind).schema.json to \(origin)")
            ]
        }
        return schema.validate(.object(record.object))
    }

    /// The kind a schema file defines, from its name, or nil if it is not a schema file.
    package static func kind(forFileName name: String) -> String? {
        let suffix = ".schema.json"
        guard name.hasSuffix(suffix), name.count > suffix.count else { return nil }
        return String(name.dropLast(suffix.count))
    }
}
