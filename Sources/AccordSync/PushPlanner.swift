import AccordCore
import AccordStore

/// What happened to one operation sent to the hub.
package enum SendOutcome: Sendable, Equatable {
    /// Applied (or replayed): the hub's new version.
    case applied(RemoteRecord)
    /// 412: the hub holds another version (nil: the record does not exist there).
    case preconditionFailed(RemoteRecord?)
    /// Refused for good (400, 403, 413, 422...): retrying cannot help.
    case rejected(status: Int, detail: String)
    /// May pass (the network, 429, 5xx): try again after a backoff.
    case retryable(reason: String, retryAfter: Double?)
}

/// Decides (pure) what a push outcome means. A 412 is not decided here: the hub's
/// version goes to `IncomingPlanner` with the operation's content as the local side.
package enum PushPlanner {
    /// - Parameters:
    ///   - oldBase: the base before the push, for the event's field summary.
    ///   - jitter: a number in [0, 1) for the backoff.
    package static func plan(
        _ operation: OutboxOperation, outcome: SendOutcome, oldBase: BaseSnapshot?, retry: RetryPolicy, jitter: Double, now: Double
    ) -> RecordPlan {
        var plan = RecordPlan(key: operation.key)
        switch outcome {
        case .applied(let remote):
            plan.changes = [
                .dropOperation(operation), .saveBase(remote),
                .event(type: "pushed", record: operation.key.description, summary: EventSummary.describe(old: oldBase?.liveFields, new: remote.liveFields)),
            ]
            plan.report.pushed = 1
        case .rejected(let status, let detail):
            // Waits for the next local change, which replaces it.
            plan.changes = [
                .reschedule(operation, at: .greatestFiniteMagnitude, error: "\(status): \(detail)"),
                .event(type: "rejected", record: operation.key.description, summary: "\(status): \(detail)"),
            ]
            plan.report.rejected = 1
        case .retryable(let reason, let retryAfter):
            let delay = retry.delay(attempt: operation.attempts, random: jitter, retryAfter: retryAfter)
            plan.changes = [.reschedule(operation, at: now + delay, error: reason)]
            plan.report.retrying = 1
            plan.report.unreachable = reason
        case .preconditionFailed:
            break  // the caller hands a 412 to IncomingPlanner
        }
        return plan
    }
}
