import AccordCore
import AccordStore

extension SyncEngine {
    /// Sends every due operation, `pushConcurrency` at a time, until none is due.
    /// Outcomes are planned by `PushPlanner` and committed together per round; a 412
    /// is planned by `IncomingPlanner` with the operation's content as the local side.
    package func push() async throws -> SyncReport {
        var report = SyncReport()
        // Rounds continue while operations are acknowledged or resolved; a round that
        // only reschedules (the hub is down) ends the push until the next call.
        while true {
            let due = try store.dueOperations(now: clock.now(), limit: settings.pushConcurrency * 8)
            if due.isEmpty { break }
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
            if !progressed { break }
        }
        return report
    }

    /// Sends `operations` with at most `pushConcurrency` in flight.
    private func send(_ operations: [OutboxOperation]) async -> [(OutboxOperation, SendOutcome)] {
        let hub = self.hub
        let concurrency = settings.pushConcurrency
        return await withTaskGroup(of: (OutboxOperation, SendOutcome).self) { group in
            var results: [(OutboxOperation, SendOutcome)] = []
            var iterator = operations.makeIterator()
            for _ in 0..<concurrency {
                guard let operation = iterator.next() else { break }
                group.addTask { (operation, await Self.send(operation, to: hub)) }
            }
            while let result = await group.next() {
                results.append(result)
                if let operation = iterator.next() { group.addTask { (operation, await Self.send(operation, to: hub)) } }
            }
            return results
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

    /// The hub is back: operations waiting out a backoff may go now.
    package func retryNow() throws { try store.retryAllNow(now: clock.now()) }

    /// When the earliest waiting operation may be tried again (nil: the outbox is empty).
    package func nextAttemptTime() throws -> Double? { try store.nextAttemptTime() }
}
