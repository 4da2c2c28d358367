/// One field that differs between two versions of a record. `path` walks into nested
/// objects (`["value", "amount"]`); arrays and scalars are compared whole.
package struct FieldChange: Sendable, Hashable, CustomStringConvertible {
    package var path: [String]
    /// nil: the field was absent.
    package var old: JSONValue?
    package var new: JSONValue?

    package init(path: [String], old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.old = old
        self.new = new
    }

    package var dottedPath: String { path.joined(separator: ".") }

    /// `value.amount: 1910000000 -> 2010000000`
    package var description: String {
        "\(dottedPath): \(Self.show(old)) -> \(Self.show(new))"
    }

    /// The same line with each value cut to `width` characters, for logs and terminals.
    package func summary(width: Int = 40) -> String {
        "\(dottedPath): \(Self.show(old, width: width)) -> \(Self.show(new, width: width))"
    }

    static func show(_ value: JSONValue?, width: Int? = nil) -> String {
        guard let value else { return "(none)" }
        let text =
            value.stringValue.flatMap { $0.contains(where: { $0 == "\n" || $0 == "\"" }) ? nil : $0 }
            ?? JSONWriter.line(value)
        guard let width, text.count > width else { return text }
        return String(text.prefix(max(1, width - 1))) + "…"
    }
}

/// Field-level diff between two versions of a record's fields.
package enum FieldDiff {
    /// Changes from `old` to `new`, in the order of `new`'s keys, then removed keys.
    package static func diff(_ old: JSONObject, _ new: JSONObject) -> [FieldChange] {
        var changes: [FieldChange] = []
        diff(old, new, path: [], into: &changes)
        return changes
    }

    package static func diff(_ old: Record, _ new: Record) -> [FieldChange] {
        diff(old.fields, new.fields)
    }

    private static func diff(_ old: JSONObject, _ new: JSONObject, path: [String], into changes: inout [FieldChange]) {
        for member in new {
            let memberPath = path + [member.key]
            guard let before = old[member.key] else {
                changes.append(FieldChange(path: memberPath, old: nil, new: member.value))
                continue
            }
            if before == member.value { continue }
            if case .object(let oldObject) = before, case .object(let newObject) = member.value {
                diff(oldObject, newObject, path: memberPath, into: &changes)
            } else {
                changes.append(FieldChange(path: memberPath, old: before, new: member.value))
            }
        }
        for member in old where new[member.key] == nil {
            changes.append(FieldChange(path: path + [member.key], old: member.value, new: nil))
        }
    }
}
