import AccordCore
import AccordStore

/// Why a revert was not done, as one line that says what to fix.
package struct RevertError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

extension SyncEngine {
    /// Writes an earlier revision's `fields` into the local record and queues them as
    /// an edit of the hub's current version (CONTRACT 8.2): a new revision, whatever
    /// this replica last pulled. History is never rewritten.
    ///
    /// Refused while the record has local changes the hub has not seen (they would be
    /// lost), or when the record cannot be written where it belongs.
    package func revert(_ key: RecordKey, to fields: JSONObject, rev: String) async throws -> String {
        try commitHeld()
        if index.isEmpty { try scan() }
        if case .held(let reason) = try localVersion(key) { throw RevertError(description: reason) }
        let local = try readLocal(key)
        let base = try store.base(key)
        if try store.pendingOperation(key) != nil || (local != nil && local != base?.liveFields) {
            throw RevertError(
                description: "\(key) has local changes the hub has not seen; let them sync (accordctl sync) or undo them, then revert")
        }
        let remote: RemoteRecord?
        do { remote = try await hub.record(key) } catch {
            throw RevertError(description: "cannot reach the hub to revert \(key): \(error); try again when it is back")
        }
        var plan = RecordPlan(key: key)
        if fields != local { plan.file = .write(fields) }
        if let remote { plan.changes.append(.saveBase(remote)) }
        // A revert settles the record: conflicts on older values no longer apply.
        plan.changes.append(.setConflicts(key, []))
        let summary: String
        if fields == remote?.liveFields {
            summary = "already as at \(rev) on the hub"
        } else {
            plan.changes.append(.enqueue(key: key, kind: .put, baseRev: remote?.rev, fields: fields, changedAt: clock.now()))
            summary = "reverted to \(rev)"
        }
        plan.changes.append(.event(type: "reverted", record: key.description, summary: summary))
        do {
            try carryOut(plan)
        } catch let error as RecordWriteError {
            throw RevertError(description: "cannot write \(key) into the root: \(error); fix that and run the command again")
        }
        return summary
    }
}
