import AccordCore
import AccordStore

/// A local change to send to the hub.
package struct LocalChange: Sendable, Equatable {
    package enum Operation: Sendable, Equatable {
        case upsert(JSONObject)
        case delete
    }

    package var key: RecordKey
    package var operation: Operation
    /// The rev the change was made against; nil for a record the hub never had.
    package var baseRev: String?

    package init(key: RecordKey, operation: Operation, baseRev: String?) {
        self.key = key
        self.operation = operation
        self.baseRev = baseRev
    }
}

/// Decides (pure) what changed locally since the last agreed versions.
///
/// - A record whose fields differ from its base (or that has no live base) is an upsert.
/// - A live base whose record is present nowhere is a delete, unless its key is
///   protected (its file is unreadable or invalid right now: a broken file is not a
///   deletion) or held (an open conflict under the `manual` policy).
/// - A change already waiting in the outbox with the same content is not repeated,
///   so its idempotency key survives rescans.
/// - Identity is `kind/id`: a record moved to another file is not a change.
package enum Differ {
    package static func changes(
        scanned: [RecordKey: JSONObject], present: Set<RecordKey>, protected: Set<RecordKey>, held: Set<RecordKey>,
        bases: [RecordKey: BaseSnapshot], pending: [RecordKey: OutboxOperation]
    ) -> [LocalChange] {
        var result: [LocalChange] = []
        for (key, fields) in scanned where !held.contains(key) {
            let base = bases[key]
            let liveBase = base.flatMap { $0.deleted ? nil : $0 }
            if let liveBase, liveBase.fields == fields {
                continue
            }
            if let waiting = pending[key], waiting.kind == .put, waiting.fields == fields { continue }
            result.append(LocalChange(key: key, operation: .upsert(fields), baseRev: base?.rev))
        }
        for (key, base) in bases where !base.deleted && !present.contains(key) && !protected.contains(key) && !held.contains(key) {
            if let waiting = pending[key], waiting.kind == .delete { continue }
            result.append(LocalChange(key: key, operation: .delete, baseRev: base.rev))
        }
        return result.sorted { $0.key < $1.key }
    }
}
