/// What one write does to a record, decided from the record's current version alone:
/// the precondition (CONTRACT 3), the writes that change nothing, and the new
/// revision. Pure, so that every storage applies the same rules inside its own
/// transaction.
package enum WritePlan: Sendable, Equatable {
    /// Nothing to store: answer with this outcome.
    case answer(WriteOutcome)
    /// Store this new revision; `created` when no live version existed before it.
    case store(rev: String, deleted: Bool, fieldsJSON: String, created: Bool)

    package static func decide(_ request: WriteRequest, current: StoredRecord?) -> WritePlan {
        let live = current.flatMap { $0.deleted ? nil : $0 }
        switch request.precondition {
        case .ifNoneMatch:
            if let live { return .answer(.preconditionFailed(live)) }
        case .ifMatchAny:
            guard live != nil else {
                if current == nil, request.change == .delete { return .answer(.notFound) }
                return .answer(.preconditionFailed(current))
            }
        case .ifMatch(let revs):
            guard let current else { return .answer(request.change == .delete ? .notFound : .preconditionFailed(nil)) }
            guard revs.contains(current.rev) else { return .answer(.preconditionFailed(current)) }
        }
        switch request.change {
        case .put(let json):
            // Writing what is already there makes no new revision.
            if let live, live.fieldsJSON == json { return .answer(.updated(live)) }
            return .store(rev: RevisionID.next(after: current?.rev, deleted: false, fieldsJSON: json), deleted: false, fieldsJSON: json, created: live == nil)
        case .delete:
            // Deleting a tombstone (its rev matched) changes nothing.
            if let current, current.deleted { return .answer(.deleted(current)) }
            return .store(rev: RevisionID.next(after: current?.rev, deleted: true, fieldsJSON: "{}"), deleted: true, fieldsJSON: "{}", created: false)
        }
    }

    /// The outcome of a stored revision, once the storage has given it its seq.
    package static func outcome(_ stored: StoredRecord, created: Bool) -> WriteOutcome {
        if stored.deleted { return .deleted(stored) }
        return created ? .created(stored) : .updated(stored)
    }
}
