import AccordCore
import AccordStore

/// How an operator settles an open conflict (`accordctl resolve`).
package enum ConflictResolution: Sendable, Equatable {
    /// The local values of the conflicting fields win.
    case local
    /// The hub's current version wins.
    case remote
    /// This whole record wins (the fields, without kind and id).
    case record(JSONObject)
}

package struct ResolveError: Error, Sendable, CustomStringConvertible {
    package var description: String
    /// The record has no open conflict (a usage error, not a failure).
    package var notFound: Bool
}

extension SyncEngine {
    /// Settles `key`'s open conflicts: the hub's current version becomes the base, the
    /// chosen result goes into the file, and whatever differs from the hub is queued.
    /// Returns a one-line summary for the event log.
    package func resolve(_ key: RecordKey, keep: ConflictResolution) async throws -> String {
        try commitHeld()
        let conflicts = try store.openConflicts().filter { $0.key == key }
        guard !conflicts.isEmpty else { throw ResolveError(description: "\(key) has no open conflict", notFound: true) }
        if index.isEmpty { try scan() }
        let remote: RemoteRecord?
        do { remote = try await hub.record(key) } catch {
            throw ResolveError(description: "cannot reach the hub to resolve \(key): \(error); try again when it is back", notFound: false)
        }
        let local = try readLocal(key)
        let chosen: JSONObject?
        switch keep {
        case .local:
            var fields = local ?? remote?.liveFields ?? JSONObject()
            for conflict in conflicts { fields.setValue(conflict.local, at: conflict.path) }
            chosen = fields
        case .remote:
            chosen = remote?.liveFields
        case .record(let fields):
            chosen = fields
        }
        let label: String
        switch keep {
        case .local: label = "local"
        case .remote: label = "remote"
        case .record: label = "a given record"
        }
        let summary = "kept \(label) for \(conflicts.map { $0.path.joined(separator: ".") }.joined(separator: ", "))"
        var plan = RecordPlan(key: key)
        if chosen != local { plan.file = chosen.map { .write($0) } ?? .remove }
        if let pending = try store.pendingOperation(key) { plan.changes.append(.dropOperation(pending)) }
        if let remote { plan.changes.append(.saveBase(remote)) }
        plan.changes.append(.setConflicts(key, []))
        if chosen != remote?.liveFields {
            if let chosen {
                plan.changes.append(.enqueue(key: key, kind: .put, baseRev: remote?.rev, fields: chosen, changedAt: clock.now()))
            } else if let remote, !remote.deleted {
                plan.changes.append(.enqueue(key: key, kind: .delete, baseRev: remote.rev, fields: nil, changedAt: clock.now()))
            }
        }
        plan.changes.append(.event(type: "resolved", record: key.description, summary: summary))
        // The file first: if it cannot be written, nothing else moves.
        do {
            try carryOut(plan)
        } catch let error as RecordWriteError {
            throw ResolveError(description: "cannot write \(key) into the root: \(error); fix that and run the command again", notFound: false)
        }
        return summary
    }

    /// The record as the root holds it and as it was last agreed with the hub
    /// (read-only: the root as the last scan placed it).
    package func localAndBase(_ key: RecordKey) throws -> (local: JSONObject?, base: JSONObject?) {
        try commitHeld()
        return (try readLocal(key), try store.base(key)?.liveFields)
    }
}
