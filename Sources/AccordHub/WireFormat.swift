import AccordCore

/// The JSON bodies of protocol v1 (CONTRACT section 3).
enum WireFormat {
    /// `{"kind": K, "id": I, "rev": R, "fields": {...}}`, or for a tombstone
    /// `{"kind": K, "id": I, "rev": R, "deleted": true}`.
    static func record(_ stored: StoredRecord) -> String {
        var out = "{\"kind\": \(quoted(stored.key.kind)), \"id\": \(quoted(stored.key.id)), \"rev\": \(quoted(stored.rev)), "
        if stored.deleted {
            out += "\"deleted\": true}"
        } else {
            out += "\"fields\": \(stored.fieldsJSON)}"
        }
        return out
    }

    static func changes(_ entries: [ChangeEntry], lastSeq: Int64) -> String {
        var out = "{\"changes\": ["
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += ", " }
            out += "{\"seq\": \(entry.seq), \"kind\": \(quoted(entry.key.kind)), \"id\": \(quoted(entry.key.id)), "
            out += "\"rev\": \(quoted(entry.rev)), \"deleted\": \(entry.deleted)}"
        }
        out += "], \"last_seq\": \(lastSeq)}"
        return out
    }

    static func revisions(_ key: RecordKey, _ entries: [RevisionEntry]) -> String {
        var out = "{\"kind\": \(quoted(key.kind)), \"id\": \(quoted(key.id)), \"revisions\": ["
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += ", " }
            out += "{\"rev\": \(quoted(entry.rev)), \"seq\": \(entry.seq), \"deleted\": \(entry.deleted), "
            out += "\"created\": \(quoted(Timestamp.rfc3339(entry.createdAt))), "
            out += "\"fields\": \(entry.deleted ? "null" : entry.fieldsJSON)}"
        }
        out += "]}"
        return out
    }

    static func quoted(_ text: String) -> String {
        JSONWriter.line(.string(text))
    }

    /// The fields a PUT body carries. Accepts the wire form (`{"fields": {...}}` with
    /// optional matching `kind`, `id`, `rev`) or a bare record (`{"kind": .., "id": .., ...}`).
    static func fields(fromBody bytes: [UInt8], key: RecordKey) throws(WireError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw WireError(status: 400, title: "Malformed JSON", detail: "request body \(error.line):\(error.column): \(error.reason)")
        }
        guard case .object(let object) = value else {
            throw WireError(status: 400, title: "Not a record", detail: "the request body must be a JSON object, not \(value.typeName)")
        }
        for name in ["kind", "id"] {
            if let given = object[name] {
                let expected = name == "kind" ? key.kind : key.id
                guard given == .string(expected) else {
                    throw WireError(
                        status: 400, title: "Identity mismatch",
                        detail: "body \"\(name)\" is \(JSONWriter.line(given)) but the URL names \(key); they must agree")
                }
            }
        }
        if let fields = object["fields"] {
            guard case .object(let fieldObject) = fields else {
                throw WireError(status: 400, title: "Not a record", detail: "\"fields\" must be a JSON object")
            }
            let extra = object.keys.filter { !["kind", "id", "rev", "fields"].contains($0) }
            guard extra.isEmpty else {
                throw WireError(
                    status: 400, title: "Unexpected members",
                    detail: "with \"fields\", the body may only carry kind, id and rev; found \(extra.joined(separator: ", "))")
            }
            return fieldObject.removing(["kind", "id"])
        }
        return object.removing(["kind", "id"])
    }
}

/// A request the hub refuses before touching storage.
struct WireError: Error, Sendable {
    var status: Int
    var title: String
    var detail: String
    var errors: [String] = []
}
