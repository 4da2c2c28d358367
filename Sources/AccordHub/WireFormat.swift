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
            out += "\"rev\": \(quoted(entry.rev)), \"deleted\": \(entry.deleted)"
            if let fields = entry.fieldsJSON { out += ", \"fields\": \(fields)" }
            out += "}"
        }
        out += "], \"last_seq\": \(lastSeq)}"
        return out
    }

    /// A page of revisions, newest first; `nextBefore` is where the next page starts.
    static func revisions(_ key: RecordKey, _ entries: [RevisionEntry], nextBefore: Int64?) -> String {
        var out = "{\"kind\": \(quoted(key.kind)), \"id\": \(quoted(key.id)), \"revisions\": ["
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += ", " }
            out += "{\"rev\": \(quoted(entry.rev)), \"seq\": \(entry.seq), \"deleted\": \(entry.deleted), "
            out += "\"created\": \(quoted(Timestamp.rfc3339(entry.createdAt))), \"author\": \(entry.author.map(quoted) ?? "null"), "
            out += "\"fields\": \(entry.deleted ? "null" : entry.fieldsJSON)}"
        }
        out += "], \"next_before\": \(nextBefore.map(String.init) ?? "null")}"
        return out
    }

    /// One write's result in a batch, from the response its single request would get:
    /// `{"status", "rev"?, "current"?, "problem"?}`.
    static func batchResult(_ stored: StoredResponse) -> String {
        var out = "{\"status\": \(stored.status)"
        switch stored.status {
        case 200, 201, 204:
            if let etag = stored.etag { out += ", \"rev\": \(quoted(etag))" }
        case 412 where stored.etag != nil:
            out += ", \"current\": \(stored.body)"
        case 412:
            out += ", \"current\": null, \"problem\": \(stored.body)"
        default:
            out += ", \"problem\": \(stored.body.isEmpty ? "null" : stored.body)"
        }
        return out + "}"
    }

    /// A write the hub refused before storage.
    static func batchProblem(_ status: Int, _ title: String, _ detail: String, errors: [String] = []) -> String {
        "{\"status\": \(status), \"problem\": \(HubResponse.problem(status, title, detail, errors: errors).bodyText)}"
    }

    static func quoted(_ text: String) -> String {
        JSONWriter.line(.string(text))
    }

    /// The fields a PUT body carries. The body is the wire form (`{"fields": {...}}`
    /// with optional matching `kind`, `id`, `rev`) when it has a `fields` object and
    /// no member outside those four; otherwise it is a bare record
    /// (`{"kind": .., "id": .., ...}`), whose own members may include one named
    /// `fields`. (A record whose only field is an object named `fields` must be sent
    /// in the wire form, as Accord's clients always do.)
    static func fields(fromBody bytes: [UInt8], key: RecordKey) throws(WireError) -> JSONObject {
        let value: JSONValue
        do {
            // One level more than a record may have: the wire form's wrapper.
            value = try JSONParser.parse(bytes, options: JSONParser.Options(maxDepth: Record.maxDepth + 1))
        } catch {
            if error.isTooDeep { throw tooDeep(key) }
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
        let fields: JSONObject
        if case .object(let wrapped)? = object["fields"], object.keys.allSatisfy({ ["kind", "id", "rev", "fields"].contains($0) }) {
            fields = wrapped.removing(["kind", "id"])
        } else {
            fields = object.removing(["kind", "id"])
        }
        if JSONValue.object(fields).depth > Record.maxDepth { throw tooDeep(key) }
        return fields
    }

    private static func tooDeep(_ key: RecordKey) -> WireError {
        WireError(
            status: 422, title: "Record too deep",
            detail: "\(key) nests deeper than \(Record.maxDepth) levels, the most a record may (CONTRACT 8.4); flatten it")
    }
}

/// A request the hub refuses before touching storage.
struct WireError: Error, Sendable {
    var status: Int
    var title: String
    var detail: String
    var errors: [String] = []
    var headers: [(String, String)] = []
}
