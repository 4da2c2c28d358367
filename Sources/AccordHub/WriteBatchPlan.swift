import AccordCore

/// A group of writes decided at once, in order, from the state the group starts from:
/// each write's outcome as `WritePlan` gives it (and replays of idempotency keys seen
/// before or earlier in the group), and the rows the group leaves behind. Pure: the
/// PostgreSQL storage reads the state in two queries and writes the rows in three,
/// whatever the group's size, instead of several round trips per write.
struct WriteBatchPlan {
    /// A kept answer of an idempotency key: the request's fingerprint and the response.
    struct KeptResponse: Equatable {
        var fingerprint: String
        var response: StoredResponse
    }

    struct NewRevision: Equatable {
        var record: StoredRecord
        var createdAt: Double
        var author: String?
    }

    private(set) var outcomes: [WriteOutcome] = []
    /// Every revision the group writes, in seq order.
    private(set) var revisions: [NewRevision] = []
    /// Each changed record's final version.
    private(set) var records: [RecordKey: StoredRecord] = [:]
    /// New idempotency keys with what they answer.
    private(set) var kept: [(key: String, kept: KeptResponse)] = []
    private(set) var lastSeq: Int64

    /// - Parameters:
    ///   - current: the current version of every record the group names (absent: none).
    ///   - keptResponses: the stored answers of the idempotency keys the group uses.
    init(
        _ writes: [(request: WriteRequest, respond: (WriteOutcome) -> StoredResponse)], current: [RecordKey: StoredRecord],
        keptResponses: [String: KeptResponse], lastSeq: Int64, now: Double
    ) {
        self.lastSeq = lastSeq
        var current = current
        var keptResponses = keptResponses
        for (request, respond) in writes {
            if let idempotency = request.idempotency, let known = keptResponses[idempotency.key] {
                outcomes.append(known.fingerprint == idempotency.fingerprint ? .replay(known.response) : .idempotencyMismatch)
                continue
            }
            let outcome: WriteOutcome
            switch WritePlan.decide(request, current: current[request.key]) {
            case .answer(let answer):
                outcome = answer
            case .store(let rev, let deleted, let fieldsJSON, let created):
                self.lastSeq += 1
                let stored = StoredRecord(key: request.key, rev: rev, seq: self.lastSeq, deleted: deleted, fieldsJSON: fieldsJSON)
                current[request.key] = stored
                records[request.key] = stored
                revisions.append(NewRevision(record: stored, createdAt: now, author: request.author))
                outcome = WritePlan.outcome(stored, created: created)
            }
            outcomes.append(outcome)
            if let idempotency = request.idempotency {
                let answer = KeptResponse(fingerprint: idempotency.fingerprint, response: respond(outcome))
                keptResponses[idempotency.key] = answer
                kept.append((idempotency.key, answer))
            }
        }
    }
}
