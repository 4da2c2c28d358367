import AccordCore
import AccordStore

extension SyncEngine {
    /// Sends every due operation, `pushConcurrency` at a time, until none is due.
    /// Outcomes are planned by `PushPlanner` and committed together per round; a 412
    /// is planned by `IncomingPlanner` with the operation's content as the local side.
    package func push() async throws -> SyncReport {
        try commitHeld()
        var report = SyncReport()
        if let hold = pushHoldUntil, clock.now() < hold { return report }
        // Rounds continue while operations are acknowledged or resolved; a round that
        // only reschedules (the hub is down) ends the push until the next call. After
        // failed rounds, one operation goes first as a probe.
        while true {
            let limit = failedRounds > 0 ? 1 : settings.pushConcurrency * Self.batchWrites
            let due = try store.dueOperations(now: clock.now(), limit: limit)
            if due.isEmpty { break }
            // The feed is read before the first push after a start, a loss of the hub
            // or a move to another of its hubs and, while the hub is behind, before
            // each try; either failure holds pushes as a round
            // whose every send failed would, with the same backoff.
            if !feedLooked || hubBehind != nil || hub.hubMoves != movesAtLook {
                var retryAfter: Double?
                do {
                    try await lookAtFeed()
                } catch let error as HubError {
                    report.unreachable = error.description
                    if case .retryable(_, let after) = error { retryAfter = after }
                }
                if let hubBehind { report.unreachable = hubBehind.description }
                if report.unreachable != nil {
                    pushHoldUntil = clock.now() + retryDelay(attempt: failedRounds, retryAfter: retryAfter)
                    failedRounds += 1
                    break
                }
            }
            let results = await send(due)
            let now = clock.now()
            let oldBases = try store.bases(results.compactMap { if case .applied = $0.1 { $0.0.key } else { nil } })
            var changes: [StateChange] = []
            var progressed = false
            for (operation, outcome) in results {
                if case .preconditionFailed(let current) = outcome {
                    let local: LocalVersion = operation.kind == .put ? .present(operation.fields ?? JSONObject(), changedAt: nil) : .absent
                    report.add(try await bringIn(operation.key, remote: current, local: local, pending: operation))
                    progressed = true
                    continue
                }
                let plan = PushPlanner.plan(
                    operation, outcome: outcome, oldBase: oldBases[operation.key], retry: settings.retry, jitter: jitter.next(), now: now)
                changes += plan.changes
                report.add(plan.report)
                if plan.report.pushed > 0 { progressed = true }
            }
            try applier.commit(changes, now: now)
            movedBases.moved(results.compactMap { if case .applied = $0.1 { $0.0.key } else { nil } })
            if progressed {
                failedRounds = 0
                pushHoldUntil = nil
            } else {
                if results.contains(where: { if case .retryable = $0.1 { true } else { false } }) {
                    pushHoldUntil = now + retryDelay(attempt: failedRounds)
                    failedRounds += 1
                }
                break
            }
        }
        return report
    }

    /// Writes per batch, and the bytes of fields a batch may carry (half the hub's
    /// default body limit, so a default hub never refuses one for its size).
    static let batchWrites = 500
    static let batchBytes = 512 * 1024

    /// Sends `operations`: one alone as a single request, more in batches (several in
    /// flight, `pushConcurrency` at most), a record too large for a batch alone.
    private func send(_ operations: [OutboxOperation]) async -> [(OutboxOperation, SendOutcome)] {
        let hub = self.hub
        let concurrency = settings.pushConcurrency
        var groups: [[OutboxOperation]] = []
        var current: [OutboxOperation] = []
        var bytes = 0
        for operation in operations {
            let size = operation.fields.map { JSONWriter.line(.object($0)).utf8.count } ?? 0
            // Alone: a record too large to share a batch, and a delete of a record the
            // hub never had (settled without asking it).
            if size > Self.batchBytes / 2 || (operation.kind == .delete && operation.baseRev == nil) {
                groups.append([operation])
                continue
            }
            if current.count == Self.batchWrites || bytes + size > Self.batchBytes {
                groups.append(current)
                current = []
                bytes = 0
            }
            current.append(operation)
            bytes += size + 100
        }
        if !current.isEmpty { groups.append(current) }
        return await withTaskGroup(of: [(OutboxOperation, SendOutcome)].self) { group in
            var results: [(OutboxOperation, SendOutcome)] = []
            var iterator = groups.makeIterator()
            for _ in 0..<concurrency {
                guard let next = iterator.next() else { break }
                group.addTask { await Self.send(next, to: hub) }
            }
            while let result = await group.next() {
                results += result
                if let next = iterator.next() { group.addTask { await Self.send(next, to: hub) } }
            }
            return results
        }
    }

    /// One group: a single request for one operation, a batch for more. A batch the
    /// hub refuses whole (no batch route, or over its body limit) goes one by one.
    private static func send(_ operations: [OutboxOperation], to hub: HubClient) async -> [(OutboxOperation, SendOutcome)] {
        if operations.count == 1 { return [(operations[0], await send(operations[0], to: hub))] }
        do {
            return Array(zip(operations, try await hub.batch(operations)))
        } catch {
            switch error {
            case .rejected(404, _), .rejected(405, _), .rejected(413, _):
                // A hub without batches (protocol v1 only), or one with a smaller body
                // limit than a batch: one by one.
                var results: [(OutboxOperation, SendOutcome)] = []
                for operation in operations { results.append((operation, await send(operation, to: hub))) }
                return results
            case .retryable(_, let retryAfter):
                return operations.map { ($0, .retryable(reason: error.description, retryAfter: retryAfter)) }
            case .rejected(let status, let detail):
                return operations.map { ($0, .rejected(status: status, detail: detail)) }
            case .protocolError:
                return operations.map { ($0, .retryable(reason: error.description, retryAfter: nil)) }
            }
        }
    }

    private static func send(_ operation: OutboxOperation, to hub: HubClient) async -> SendOutcome {
        do {
            let result: HubWriteResult
            switch operation.kind {
            case .put:
                result = try await hub.put(
                    operation.key, fields: operation.fields ?? JSONObject(), baseRev: operation.baseRev, idempotencyKey: operation.idempotencyKey)
            case .delete:
                guard let baseRev = operation.baseRev else {
                    return .applied(RemoteRecord(key: operation.key, rev: "", deleted: true, fields: JSONObject()))
                }
                result = try await hub.delete(operation.key, baseRev: baseRev, idempotencyKey: operation.idempotencyKey)
            }
            switch result {
            case .applied(let remote): return .applied(remote)
            case .preconditionFailed(let current): return .preconditionFailed(current)
            }
        } catch {
            switch error {
            case .retryable(_, let retryAfter): return .retryable(reason: error.description, retryAfter: retryAfter)
            case .rejected(let status, let detail): return .rejected(status: status, detail: detail)
            case .protocolError: return .retryable(reason: error.description, retryAfter: nil)
            }
        }
    }

    /// The hub is back: operations waiting out a backoff may go now (with
    /// `includingParked`, also those the hub refused for good: a manual sync, a start).
    package func retryNow(includingParked: Bool = false) throws {
        pushHoldUntil = nil
        try store.retryAllNow(now: clock.now(), includingParked: includingParked)
    }

    /// When the earliest waiting operation may be tried again (nil: the outbox is empty),
    /// never before the hub-wide hold after failed rounds.
    package func nextAttemptTime() throws -> Double? {
        guard let next = try store.nextAttemptTime() else { return nil }
        return max(next, pushHoldUntil ?? next)
    }
}
