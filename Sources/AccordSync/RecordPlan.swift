import AccordCore
import AccordStore

/// What a plan does to a record's file in the root.
package enum FileAction: Sendable, Equatable {
    case none
    /// Write these fields into the record's file (its home, or `<kind>/<id>.json`).
    case write(JSONObject)
    /// Remove the record from its file (a `.json` file goes, a `.jsonl` line goes).
    case remove
}

/// One change of the durable state that a plan asks for.
package enum StateChange: Sendable, Equatable {
    /// The version both sides now agree on.
    case saveBase(BaseSnapshot)
    /// Queue a local change for the hub, replacing whatever waits for the record.
    case enqueue(key: RecordKey, kind: OutboxOperation.Kind, baseRev: String?, fields: JSONObject?, changedAt: Double)
    /// Drop exactly this waiting operation (acknowledged, merged away, or held). If the
    /// record was queued again meanwhile, the newer operation stays.
    case dropOperation(OutboxOperation)
    /// A failed send: try again at `at` (`.greatestFiniteMagnitude`: only after the next
    /// local change).
    case reschedule(OutboxOperation, at: Double, error: String)
    /// Replace the record's open conflicts (empty: none left).
    case setConflicts(RecordKey, [StoredConflict])
    case event(type: String, record: String, summary: String)
    /// A hub change that could not be applied: kept, with its next try.
    case markUnapplied(RecordKey, rev: String, attempts: Int, nextAttemptAt: Double, error: String)
    case clearUnapplied(RecordKey)
}

/// A plan for one record: what the file must become, then the state changes committed
/// together once it is. Pure data, made by the planners and carried out by
/// `PlanApplier`; a plan whose file action fails commits `onFileFailure` instead.
package struct RecordPlan: Sendable, Equatable {
    package var key: RecordKey
    package var file: FileAction = .none
    package var changes: [StateChange] = []
    /// What the round reports when the plan is carried out.
    package var report = SyncReport()
    /// What to keep when the file action fails (nil for a plan without one).
    package var onFileFailure: FileFailure?

    package init(key: RecordKey) {
        self.key = key
    }

    /// A plan that changes nothing.
    package static func nothing(_ key: RecordKey) -> RecordPlan { RecordPlan(key: key) }
}

/// The state kept when a plan's file action fails: the hub's rev as unapplied, retried
/// at `nextAttemptAt`, and the operation that met it (a merge that cannot land must not
/// be pushed again at once, only to meet the same 412).
package struct FileFailure: Sendable, Equatable {
    package var rev: String
    package var attempts: Int
    package var nextAttemptAt: Double
    /// The reason kept last time: the event is logged only when the reason changes.
    package var previousError: String?
    package var operation: OutboxOperation?

    /// The changes to commit, given why the file action failed.
    package func changes(key: RecordKey, error: String) -> [StateChange] {
        var changes: [StateChange] = [.markUnapplied(key, rev: rev, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error)]
        if let operation { changes.append(.reschedule(operation, at: nextAttemptAt, error: error)) }
        if previousError != error { changes.append(.event(type: "deferred", record: key.description, summary: error)) }
        return changes
    }
}
