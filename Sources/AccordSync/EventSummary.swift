import AccordCore

/// The one-line, field-level summary an event carries (`accordctl log`): the changed
/// fields for an edit; just "created" or "deleted" when the whole record came or went,
/// since listing every field of a new record says nothing.
package enum EventSummary {
    package static func describe(old: JSONObject?, new: JSONObject?) -> String {
        switch (old, new) {
        case (nil, nil): return "no change"
        case (nil, .some(let created)): return "created (\(created.count) fields)"
        case (.some, nil): return "deleted"
        case (.some(let before), .some(let after)):
            let changes = FieldDiff.diff(before, after)
            return changes.isEmpty ? "no field changed" : changes.map { $0.summary() }.joined(separator: "; ")
        }
    }
}
