import AccordCore
import AccordStore

/// What a plan does to a record's file in the root.
public enum FileAction: Sendable, Equatable {
    case none
    /// Write these fields into the record's file (its home, or `<kind>/<id>.json`).
    case write(JSONObject)
    /// Remove the record from its file (a `.json` file goes, a `.jsonl` line goes).
    case remove
}

/// One change of the durable state that a plan asks for.
public enum StateChange: Sendable, Equatable {
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
public struct RecordPlan: Sendable, Equatable {
    public var key: RecordKey
    public var file: FileAction = .none
    public var changes: [StateChange] = []
    /// What the round reports when the plan is carried out.
    public var report = SyncReport()
    /// What to keep when the file action fails (nil for a plan without one).
    public var onFileFailure: FileFailure?

    public init(key: RecordKey) {
        self.key = key
    }

    /// A plan that changes nothing.
    public static func nothing(_ key: RecordKey) -> RecordPlan { RecordPlan(key: key) }
}

/// The state kept when a plan's file action fails: the hub's rev as unapplied, retried
/// at `nextAttemptAt`, and the operation that met it (a merge that cannot land must not
/// be pushed again at once, only to meet the same 412).
public struct FileFailure: Sendable, Equatable {
    public var rev: String
    public var attempts: Int
    public var nextAttemptAt: Double
    /// The reason kept last time: the event is logged only when the reason changes.
    public var previousError: String?
    public var operation: OutboxOperation?

    /// The changes to commit, given why the file action failed.
    public func changes(key: RecordKey, error: String) -> [StateChange] {
        var changes: [StateChange] = [.markUnapplied(key, rev: rev, attempts: attempts, nextAttemptAt: nextAttemptAt, error: error)]
        if let operation { changes.append(.reschedule(operation, at: nextAttemptAt, error: error)) }
        if previousError != error { changes.append(.event(type: "deferred", record: key.description, summary: error)) }
        return changes
    }
}
