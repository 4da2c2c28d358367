/// One record: a JSON object with a valid `kind` and `id`.
///
/// `object` is the whole object as written (key order included); `fields` is what the
/// wire protocol carries, the object without `kind` and `id`.
package struct Record: Sendable, Hashable {
    package let key: RecordKey
    package let object: JSONObject

    /// Checks identity only; schema validation is `SchemaSet`'s job.
    package init(object: JSONObject) throws(RecordIdentityError) {
        guard case .string(let kind)? = object["kind"] else {
            throw object["kind"] == nil ? .missing("kind") : .notAString("kind")
        }
        guard case .string(let id)? = object["id"] else {
            throw object["id"] == nil ? .missing("id") : .notAString("id")
        }
        guard RecordKey.isValidKind(kind) else { throw .invalidKind(kind) }
        guard RecordKey.isValidID(id) else { throw .invalidID(id) }
        self.key = RecordKey(kind: kind, id: id)
        self.object = object
    }

    /// Builds a record from wire fields: `kind` and `id` first, then the fields in order.
    package init(key: RecordKey, fields: JSONObject) {
        var members = [
            JSONObject.Member(key: "kind", value: .string(key.kind)),
            JSONObject.Member(key: "id", value: .string(key.id)),
        ]
        members.append(contentsOf: fields.members.filter { $0.key != "kind" && $0.key != "id" })
        self.key = key
        self.object = JSONObject(members: members)
    }

    package var fields: JSONObject { object.removing(["kind", "id"]) }
}

package enum RecordIdentityError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAnObject(String)
    case missing(String)
    case notAString(String)
    case invalidKind(String)
    case invalidID(String)

    /// The member the error is about, when it is present in the object.
    package var field: String? {
        switch self {
        case .notAString(let field): field
        case .invalidKind: "kind"
        case .invalidID: "id"
        case .notAnObject, .missing: nil
        }
    }

    package var description: String {
        switch self {
        case .notAnObject(let type): "a record must be a JSON object, not \(type)"
        case .missing(let field): "missing \"\(field)\"; every record needs \"kind\" and \"id\""
        case .notAString(let field): "\"\(field)\" must be a string"
        case .invalidKind(let kind): "invalid kind \(JSONWriter.line(.string(kind))); it must match \(RecordKey.kindPattern)"
        case .invalidID(let id): "invalid id \(JSONWriter.line(.string(id))); it must match \(RecordKey.idPattern)"
        }
    }
}
