/// The mass-delete guard of CONTRACT section 5 (pure): decides whether the deletions
/// one scan found may go to the hub, or must be held until an operator allows them.
/// An unmounted disk looks exactly like a user deleting everything; only a person
/// can tell them apart.
package enum DeleteGuard {
    package enum Verdict: Sendable, Equatable {
        case allow
        case hold(reason: String)
    }

    /// - Parameters:
    ///   - deletions: records this scan would delete on the hub.
    ///   - liveRecords: records the replica and the hub last agreed exist.
    ///   - rootReadable: the root exists and is a readable folder.
    ///   - rootEmpty: the root holds no record file at all (with two or more deletions:
    ///     one last record deleted on purpose empties a root too).
    package static func check(deletions: Int, liveRecords: Int, rootReadable: Bool, rootEmpty: Bool, maxDeletePercent: Int) -> Verdict {
        guard deletions > 0 else { return .allow }
        if !rootReadable {
            return .hold(reason: "the root is missing or unreadable (an unmounted disk?)")
        }
        // Several records gone at once leaving nothing is an unmounted disk or an
        // `rm -rf` until a person says otherwise; deleting the one last record is not.
        if rootEmpty, deletions >= 2 {
            return .hold(reason: "the root is suddenly empty (an unmounted disk?)")
        }
        if deletions >= 10, deletions * 100 > maxDeletePercent * liveRecords {
            return .hold(reason: "one scan would delete \(deletions) of \(liveRecords) records, more than max_delete_percent (\(maxDeletePercent)%)")
        }
        return .allow
    }
}
