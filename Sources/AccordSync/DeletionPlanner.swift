import AccordCore

/// Deletions wait until the set of vanished records has stayed the same for a while:
/// an `rm -rf` removes files one at a time, and the mass-delete guard must judge the
/// whole of it, not its first few files. A value that takes the time as a parameter.
package struct DeleteSettle: Sendable, Equatable {
    package private(set) var vanishing: Set<RecordKey> = []
    package private(set) var since = 0.0
    /// How long the set must stay the same (0: deletions go at once).
    package var window: Double

    package init(window: Double) {
        self.window = window
    }

    /// Observes the records one scan found gone, at `now`: nil when they may go now,
    /// else when they may (the caller scans again then).
    package mutating func observe(_ keys: Set<RecordKey>, now: Double) -> Double? {
        if keys != vanishing {
            vanishing = keys
            since = now
        }
        guard !keys.isEmpty, now - since < window else { return nil }
        return since + window
    }
}

/// What to do with the deletions one full scan found (pure): queue them, wait for
/// them to settle, or hold them for an operator.
package struct DeletionDecision: Sendable, Equatable {
    /// Deletions to queue now.
    package var queue: [LocalChange] = []
    /// Held by the guard: why, and which records.
    package var holdReason: String?
    package var held: [RecordKey] = []
    /// Waiting out the settle window until then.
    package var settleAt: Double?
    /// An event for the log (a new hold).
    package var event: String?
}

package enum DeletionPlanner {
    /// - Parameters:
    ///   - deletions: what the scan would delete on the hub.
    ///   - settle: the settle window's state, carried from scan to scan.
    ///   - allowed: `accordctl resume --allow-deletes` asked to let them through.
    ///   - previousHold: the hold before this scan (an event is logged when it changes).
    package static func decide(
        _ deletions: [LocalChange], settle: inout DeleteSettle, allowed: Bool, liveRecords: Int, rootReadable: Bool, rootEmpty: Bool,
        maxDeletePercent: Int, previousHold: (reason: String?, count: Int), now: Double
    ) -> DeletionDecision {
        var decision = DeletionDecision()
        // The guard judges everything found gone at once, settled or not: a hold must
        // not wait (an unmounted disk would meanwhile take the hub's records), only a
        // release does. This also keeps a hold across a restart, when the settle window
        // starts over.
        let verdict = DeleteGuard.check(
            deletions: deletions.count, liveRecords: liveRecords, rootReadable: rootReadable, rootEmpty: rootEmpty, maxDeletePercent: maxDeletePercent)
        let until = settle.observe(Set(deletions.map(\.key)), now: now)
        if case .hold(let reason) = verdict, !allowed {
            if previousHold.reason != reason || previousHold.count != deletions.count {
                decision.event = "\(deletions.count) deletions held: \(reason); run accordctl resume --allow-deletes to let them through"
            }
            decision.holdReason = reason
            decision.held = deletions.map(\.key)
            return decision
        }
        var going = deletions
        if let until, !allowed {
            decision.settleAt = until
            going = []
        }
        decision.queue = going
        return decision
    }
}
