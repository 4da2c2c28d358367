import AccordCore
import Testing

@testable import AccordHub

/// The group decider PostgreSQL commits with: a group must decide exactly as its
/// writes would one by one (the hub's suite checks the rest on a real database).
@Suite struct WriteBatchPlanTests {
    let key = RecordKey(kind: "news", id: "n1")
    static func answer(_ outcome: WriteOutcome) -> StoredResponse { StoredResponse(status: 200, etag: nil, body: "\(outcome)") }

    func put(_ json: String, _ precondition: WriteRequest.Precondition, key: String? = nil) -> (WriteRequest, (WriteOutcome) -> StoredResponse) {
        (WriteRequest(key: self.key, precondition: precondition, change: .put(fieldsJSON: json), idempotency: key.map { ($0, "fp-" + json) }), Self.answer)
    }

    @Test func laterWritesSeeEarlierOnesAndSeqsFollowTheCounter() {
        let plan = WriteBatchPlan(
            [put("{\"a\":1}", .ifNoneMatch), put("{\"a\":2}", .ifNoneMatch), put("{\"a\":1}", .ifMatchAny), put("{\"a\":3}", .ifMatchAny)],
            current: [:], keptResponses: [:], lastSeq: 41, now: 1)
        guard case .created(let first) = plan.outcomes[0], case .updated(let last) = plan.outcomes[3] else {
            Issue.record("\(plan.outcomes)")
            return
        }
        #expect(first.seq == 42 && last.seq == 43 && plan.lastSeq == 43)
        // The second create finds the first; writing the same fields again is no revision.
        #expect(plan.outcomes[1] == .preconditionFailed(first))
        #expect(plan.outcomes[2] == .updated(first))
        #expect(plan.revisions.map(\.record.seq) == [42, 43] && plan.records[key] == last)
    }

    @Test func idempotencyKeysReplayFromTheDatabaseAndFromEarlierInTheGroup() {
        let stored = WriteBatchPlan.KeptResponse(fingerprint: "fp-{\"a\":1}", response: StoredResponse(status: 201, etag: "\"1-x\"", body: "kept"))
        let plan = WriteBatchPlan(
            [
                put("{\"a\":1}", .ifNoneMatch, key: "old"), put("{\"a\":9}", .ifNoneMatch, key: "old"), put("{\"a\":5}", .ifNoneMatch, key: "new"),
                put("{\"a\":5}", .ifNoneMatch, key: "new"),
            ],
            current: [:], keptResponses: ["old": stored], lastSeq: 0, now: 1)
        #expect(plan.outcomes[0] == .replay(stored.response))
        #expect(plan.outcomes[1] == .idempotencyMismatch)
        guard case .created = plan.outcomes[2] else { Issue.record("\(plan.outcomes)"); return }
        #expect(plan.outcomes[3] == .replay(Self.answer(plan.outcomes[2])))
        #expect(plan.kept.map(\.key) == ["new"] && plan.revisions.count == 1)
    }
}
