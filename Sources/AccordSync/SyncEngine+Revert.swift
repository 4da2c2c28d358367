import AccordCore
import AccordStore

/// Why a revert was not done, as one line that says what to fix.
package struct RevertError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

extension SyncEngine {
    /// Writes an earlier revision's `fields` into the local record and queues them as
    /// an ordinary edit against the last version agreed with the hub (CONTRACT 8.2):
    /// a new revision, merged by the usual rules if the hub moved on. History is never
    /// rewritten.
    package func revert(_ key: RecordKey, to fields: JSONObject, rev: String) throws -> String {
        if index.isEmpty { try scan() }
        if protectedKeys.contains(key) {
            throw RevertError(description: "\(key) is invalid or defined twice in the root; fix its file first (accordctl status says where)")
        }
        let local = try readLocal(key)
        let base = try store.base(key)
        var plan = RecordPlan(key: key)
        if fields != local { plan.file = .write(fields) }
        if let pending = try store.pendingOperation(key) { plan.changes.append(.dropOperation(pending)) }
        if fields != base?.liveFields {
            plan.changes.append(.enqueue(key: key, kind: .put, baseRev: base?.rev, fields: fields, changedAt: clock.now()))
        }
        let summary = "reverted to \(rev)"
        plan.changes.append(.event(type: "reverted", record: key.description, summary: summary))
        do {
            try carryOut(plan)
        } catch let error as RecordWriteError {
            throw RevertError(description: "cannot write \(key) into the root: \(error); fix that and run the command again")
        }
        return summary
    }
}
