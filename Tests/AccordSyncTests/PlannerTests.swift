import AccordCore
import AccordStore
import Testing

@testable import AccordSync

/// Parses a JSON object literal written in a table; a typo fails loudly.
private func fields(_ text: String) -> JSONObject {
    guard let value = try? JSONParser.parse(text), case .object(let object) = value else { fatalError("not a JSON object: \(text)") }
    return object
}

private let key = RecordKey(kind: "agreement", id: "hns")
private let now = 1_800_000_000.0

private func version(_ rev: String, _ text: String?) -> VersionedRecord {
    VersionedRecord(key: key, rev: rev, deleted: text == nil, fields: text.map(fields) ?? JSONObject())
}

private func operation(_ kind: OutboxOperation.Kind, _ text: String?, base: String?, changedAt: Double = now - 10) -> OutboxOperation {
    OutboxOperation(
        seq: 7, key: key, kind: kind, baseRev: base, fields: text.map(fields), idempotencyKey: "k7", attempts: 0, nextAttemptAt: 0, lastError: nil,
        changedAt: changedAt)
}

/// One situation for `IncomingPlanner`: what the replica holds, what the hub sent, and
/// the plan that must come out.
struct IncomingCase: CustomTestStringConvertible, Sendable {
    let name: String
    var base: VersionedRecord? = nil
    var local: LocalVersion = .absent
    var pending: OutboxOperation? = nil
    var remote: VersionedRecord? = nil
    var policy = ConflictPolicy.merge
    var remoteChangedAt: Double? = nil
    var unapplied: UnappliedChange? = nil
    /// The file action expected.
    var file: FileAction = .none
    /// The state changes expected, in order.
    var changes: [StateChange] = []
    var testDescription: String { name }
}

private let b1 = version("1-b", #"{"title": "HNS", "status": "negotiating"}"#)
private let r2Status = version("2-r", #"{"title": "HNS", "status": "extended"}"#)
private let tombstone = version("2-d", nil)

let incomingTable: [IncomingCase] = [
    IncomingCase(name: "our own write comes back", base: b1, local: .present(b1.fields, changedAt: nil), remote: b1),
    IncomingCase(
        name: "only the hub changed: the file takes its version", base: b1, local: .present(b1.fields, changedAt: nil), remote: r2Status,
        file: .write(r2Status.fields),
        changes: [.saveBase(r2Status), .event(type: "pulled", record: "agreement/hns", summary: "status: negotiating -> extended")]),
    IncomingCase(
        name: "a new record from the hub lands in the root", remote: r2Status, file: .write(r2Status.fields),
        changes: [.saveBase(r2Status), .event(type: "pulled", record: "agreement/hns", summary: "created (2 fields)")]),
    IncomingCase(
        name: "the hub deleted an unchanged record", base: b1, local: .present(b1.fields, changedAt: nil), remote: tombstone, file: .remove,
        changes: [.saveBase(tombstone), .event(type: "pulled", record: "agreement/hns", summary: "deleted")]),
    IncomingCase(
        name: "the hub deleted a record the root no longer has", base: version("1-b", nil), remote: tombstone,
        changes: [.saveBase(tombstone), .event(type: "pulled", record: "agreement/hns", summary: "no change")]),
    IncomingCase(
        name: "an invalid or duplicated local record is held back", base: b1,
        local: .held("agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow"),
        remote: tombstone,
        changes: [
            .markUnapplied(
                key, rev: "2-d", attempts: 0, nextAttemptAt: now + 0.1,
                error: "agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow"),
            .event(
                type: "deferred", record: "agreement/hns",
                summary: "agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow"),
        ]),
    IncomingCase(
        name: "a retry with the same reason logs no new event", base: b1,
        local: .held("agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow"),
        remote: tombstone,
        unapplied: UnappliedChange(
            key: key, rev: "2-d", attempts: 2, nextAttemptAt: now,
            lastError: "agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow",
            since: now - 60),
        changes: [
            .markUnapplied(
                key, rev: "2-d", attempts: 3, nextAttemptAt: now + 0.8,
                error: "agreement/hns is invalid or defined twice in the root, so the hub's version is held back; fix the file and it will follow")
        ]),
    IncomingCase(
        name: "a hub version nested too deep is held back", base: b1, local: .present(b1.fields, changedAt: nil),
        remote: version("2-x", #"{"x": "# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"),
        changes: [
            .markUnapplied(
                key, rev: "2-x", attempts: 0, nextAttemptAt: now + 0.1, error: "the hub's version of agreement/hns nests 65 levels, over 64; fix it on the hub"),
            .event(type: "deferred", record: "agreement/hns", summary: "the hub's version of agreement/hns nests 65 levels, over 64; fix it on the hub"),
        ]),
    IncomingCase(
        name: "different fields changed: merged, written, queued against the hub's rev", base: b1,
        local: .present(fields(#"{"title": "HNS 2021", "status": "negotiating"}"#), changedAt: nil), remote: r2Status,
        file: .write(fields(#"{"title": "HNS 2021", "status": "extended"}"#)),
        changes: [
            .setConflicts(key, []), .saveBase(r2Status),
            .enqueue(key: key, kind: .put, baseRev: "2-r", fields: fields(#"{"title": "HNS 2021", "status": "extended"}"#), changedAt: now),
            .event(type: "merged", record: "agreement/hns", summary: "title: HNS -> HNS 2021"),
        ]),
    IncomingCase(
        name: "both made the same change: the waiting operation goes, nothing is written", base: b1,
        local: .present(r2Status.fields, changedAt: nil), pending: operation(.put, #"{"title": "HNS", "status": "extended"}"#, base: "1-b"),
        remote: r2Status,
        changes: [
            .setConflicts(key, []), .saveBase(r2Status), .dropOperation(operation(.put, #"{"title": "HNS", "status": "extended"}"#, base: "1-b")),
            .event(type: "merged", record: "agreement/hns", summary: "no field changed"),
        ]),
    IncomingCase(
        name: "the same field under merge: the hub's value, the local one an open conflict", base: b1,
        local: .present(fields(#"{"title": "HNS", "status": "signed"}"#), changedAt: nil),
        pending: operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b"),
        remote: r2Status, file: .write(r2Status.fields),
        changes: [
            .setConflicts(
                key,
                [
                    StoredConflict(
                        key: key, path: ["status"], base: .string("negotiating"), local: .string("signed"), remote: .string("extended"), remoteRev: "2-r",
                        createdAt: now)
                ]),
            .event(type: "conflict", record: "agreement/hns", summary: "status: local signed, remote extended (kept remote, open)"),
            .saveBase(r2Status), .dropOperation(operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b")),
            .event(type: "merged", record: "agreement/hns", summary: "no field changed"),
        ]),
    IncomingCase(
        name: "the same field under manual: held, neither written nor pushed", base: b1,
        local: .present(fields(#"{"title": "HNS", "status": "signed"}"#), changedAt: nil),
        pending: operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b"),
        remote: r2Status, policy: .manual,
        changes: [
            .setConflicts(
                key,
                [
                    StoredConflict(
                        key: key, path: ["status"], base: .string("negotiating"), local: .string("signed"), remote: .string("extended"), remoteRev: "2-r",
                        createdAt: now)
                ]),
            .event(type: "conflict", record: "agreement/hns", summary: "status: local signed, remote extended (kept remote, open)"),
            .dropOperation(operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b")),
        ]),
    IncomingCase(
        name: "newest: the local change is newer and wins", base: b1, local: .present(fields(#"{"title": "HNS", "status": "signed"}"#), changedAt: nil),
        pending: operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b", changedAt: now - 1), remote: r2Status, policy: .newest,
        remoteChangedAt: now - 5,
        changes: [
            .setConflicts(key, []),
            .event(type: "conflict", record: "agreement/hns", summary: "status: local signed, remote extended (kept local)"),
            .saveBase(r2Status),
            .enqueue(key: key, kind: .put, baseRev: "2-r", fields: fields(#"{"title": "HNS", "status": "signed"}"#), changedAt: now),
            .event(type: "merged", record: "agreement/hns", summary: "status: extended -> signed"),
        ]),
    IncomingCase(
        name: "newest: the hub's change is newer and wins", base: b1, local: .present(fields(#"{"title": "HNS", "status": "signed"}"#), changedAt: nil),
        pending: operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b", changedAt: now - 5), remote: r2Status, policy: .newest,
        remoteChangedAt: now - 1, file: .write(r2Status.fields),
        changes: [
            .setConflicts(key, []),
            .event(type: "conflict", record: "agreement/hns", summary: "status: local signed, remote extended (kept remote)"),
            .saveBase(r2Status), .dropOperation(operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b", changedAt: now - 5)),
            .event(type: "merged", record: "agreement/hns", summary: "no field changed"),
        ]),
    IncomingCase(
        name: "deleted here, changed on the hub: the change wins and comes back", base: b1, local: .absent,
        pending: operation(.delete, nil, base: "1-b"), remote: r2Status, file: .write(r2Status.fields),
        changes: [
            .setConflicts(key, []), .saveBase(r2Status), .dropOperation(operation(.delete, nil, base: "1-b")),
            .event(type: "merged", record: "agreement/hns", summary: "no field changed"),
        ]),
    IncomingCase(
        name: "the hub lost the record (restored backup): created there again", base: b1, local: .present(b1.fields, changedAt: nil),
        changes: [.enqueue(key: key, kind: .put, baseRev: nil, fields: b1.fields, changedAt: now)]),
    IncomingCase(
        name: "a field literally named a.b is one key, not a path", base: version("1-b", #"{"a.b": 1, "a": {"b": 1}}"#),
        local: .present(fields(#"{"a.b": 2, "a": {"b": 1}}"#), changedAt: nil), remote: version("2-r", #"{"a.b": 3, "a": {"b": 1}}"#),
        file: .write(fields(#"{"a.b": 3, "a": {"b": 1}}"#)),
        changes: [
            .setConflicts(
                key,
                [
                    StoredConflict(
                        key: key, path: ["a.b"], base: .number(JSONNumber(1)), local: .number(JSONNumber(2)), remote: .number(JSONNumber(3)),
                        remoteRev: "2-r", createdAt: now)
                ]),
            .event(type: "conflict", record: "agreement/hns", summary: "a.b: local 2, remote 3 (kept remote, open)"),
            .saveBase(version("2-r", #"{"a.b": 3, "a": {"b": 1}}"#)),
            .event(type: "merged", record: "agreement/hns", summary: "no field changed"),
        ]),
]

@Suite("Planners: the engine's decisions as values")
struct PlannerTests {
    @Test("incoming hub versions", arguments: incomingTable)
    func incoming(_ row: IncomingCase) {
        let plan = IncomingPlanner.plan(
            IncomingInput(
                key: key, base: row.base, local: row.local, pending: row.pending, remote: row.remote, policy: row.policy,
                remoteChangedAt: row.remoteChangedAt, unapplied: row.unapplied, retry: RetryPolicy(baseDelayMilliseconds: 100, maxDelayMilliseconds: 30_000),
                jitter: 1, now: now))
        #expect(plan.file == row.file)
        #expect(plan.changes == row.changes)
        // A plan that writes a file says what to keep if the write fails.
        #expect((plan.onFileFailure != nil) == (plan.file != .none))
    }

    @Test func aFailedWriteKeepsTheChangeAndPutsOffTheOperation() {
        let pending = operation(.put, #"{"title": "HNS", "status": "signed"}"#, base: "1-b")
        let plan = IncomingPlanner.plan(
            IncomingInput(
                key: key, base: b1, local: .present(fields(#"{"title": "X", "status": "negotiating"}"#), changedAt: nil), pending: pending,
                remote: r2Status, policy: .merge, jitter: 0.5, now: now))
        let failure = try! #require(plan.onFileFailure)
        #expect(
            failure.changes(key: key, error: "No space left on device") == [
                .markUnapplied(key, rev: "2-r", attempts: 0, nextAttemptAt: now + 0.05, error: "No space left on device"),
                .reschedule(pending, at: now + 0.05, error: "No space left on device"),
                .event(type: "deferred", record: "agreement/hns", summary: "No space left on device"),
            ])
    }

    @Test(
        "push outcomes",
        arguments: [
            (SendOutcome.applied(r2Status), [StateChange.dropOperation(operation(.put, "{}", base: "1-b"))]),
            (.rejected(status: 422, detail: "bad"), [.reschedule(operation(.put, "{}", base: "1-b"), at: .greatestFiniteMagnitude, error: "422: bad")]),
            (.retryable(reason: "down", retryAfter: nil), [.reschedule(operation(.put, "{}", base: "1-b"), at: now + 0.4, error: "down")]),
            (.retryable(reason: "busy", retryAfter: 7), [.reschedule(operation(.put, "{}", base: "1-b"), at: now + 7, error: "busy")]),
        ])
    func push(_ outcome: SendOutcome, _ first: [StateChange]) {
        var sent = operation(.put, "{}", base: "1-b")
        sent.attempts = 3
        var expected = first
        if case .reschedule(_, let at, let error) = first[0] { expected = [.reschedule(sent, at: at, error: error)] }
        if case .dropOperation = first[0] { expected = [.dropOperation(sent)] }
        // Attempt 3 waits base·2³ = 0.8 s at most; jitter 0.5 gives 0.4 s.
        let plan = PushPlanner.plan(sent, outcome: outcome, oldBase: b1, retry: RetryPolicy(), jitter: 0.5, now: now)
        #expect(plan.changes.first == expected.first)
        switch outcome {
        case .applied: #expect(plan.changes.contains(.saveBase(r2Status)) && plan.report.pushed == 1)
        case .rejected: #expect(plan.report.rejected == 1 && plan.changes.count == 2)
        case .retryable(let reason, _): #expect(plan.report.retrying == 1 && plan.report.unreachable == reason)
        case .preconditionFailed: Issue.record("not a push outcome")
        }
    }

    @Test func deletionsWaitForTheVanishedSetToSettleAtExactInstants() {
        var settle = DeleteSettle(window: 1)
        let a = RecordKey(kind: "agreement", id: "a")
        let b = RecordKey(kind: "agreement", id: "b")
        #expect(settle.observe([a], now: 100) == 101)
        #expect(settle.observe([a], now: 100.999) == 101)
        // One more file gone: the window starts again.
        #expect(settle.observe([a, b], now: 100.5) == 101.5)
        #expect(settle.observe([a, b], now: 101.5) == nil)
        #expect(settle.observe([], now: 102) == nil)
    }

    @Test func theGuardHoldsAMassDeleteAndLogsItOnce() {
        var settle = DeleteSettle(window: 0)
        let deletions = (0..<12).map {
            LocalChange(key: RecordKey(kind: "agreement", id: "r\($0)"), operation: .delete, baseRev: "1-a")
        }
        let first = DeletionPlanner.decide(
            deletions, settle: &settle, allowed: false, liveRecords: 20, rootReadable: true, rootEmpty: false, maxDeletePercent: 50,
            previousHold: (nil, 0), now: now)
        #expect(first.queue.isEmpty && first.held.count == 12)
        #expect(first.event?.hasPrefix("12 deletions held: one scan would delete 12 of 20 records") == true)
        let again = DeletionPlanner.decide(
            deletions, settle: &settle, allowed: false, liveRecords: 20, rootReadable: true, rootEmpty: false, maxDeletePercent: 50,
            previousHold: (first.holdReason, 12), now: now + 1)
        #expect(again.event == nil, "the same hold is not logged twice")
        let allowed = DeletionPlanner.decide(
            deletions, settle: &settle, allowed: true, liveRecords: 20, rootReadable: true, rootEmpty: false, maxDeletePercent: 50,
            previousHold: (first.holdReason, 12), now: now + 2)
        #expect(allowed.queue.count == 12 && allowed.holdReason == nil)
    }

    @Test func aHoldDoesNotWaitForTheSettleWindow() {
        // After a restart the window starts over; the emptied root must still hold at
        // once, or a pull would fill it meanwhile.
        var settle = DeleteSettle(window: 1)
        let deletions = (0..<3).map { LocalChange(key: RecordKey(kind: "agreement", id: "r\($0)"), operation: .delete, baseRev: "1-a") }
        let decision = DeletionPlanner.decide(
            deletions, settle: &settle, allowed: false, liveRecords: 3, rootReadable: true, rootEmpty: true, maxDeletePercent: 50,
            previousHold: ("the root is suddenly empty (an unmounted disk?)", 3), now: now)
        #expect(decision.holdReason == "the root is suddenly empty (an unmounted disk?)")
        #expect(decision.held.count == 3 && decision.queue.isEmpty && decision.event == nil)
        // A few deletions the guard allows still wait out the window.
        var calm = DeleteSettle(window: 1)
        let few = DeletionPlanner.decide(
            Array(deletions.prefix(1)), settle: &calm, allowed: false, liveRecords: 30, rootReadable: true, rootEmpty: false, maxDeletePercent: 50,
            previousHold: (nil, 0), now: now)
        #expect(few.queue.isEmpty && few.settleAt == now + 1 && few.holdReason == nil)
    }
}
