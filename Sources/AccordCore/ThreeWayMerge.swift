/// The outcome of reconciling one record.
package struct MergeResult: Sendable, Equatable {
    /// The record's fields after the merge; nil when the record ends deleted.
    package var merged: JSONObject?
    package var conflicts: [FieldConflict]
    /// True under the `manual` policy when there is a conflict: push nothing, write nothing.
    package var isHeld: Bool
    /// Set when one side deleted the record and the other changed it: the change won.
    package var deleteOverriddenOn: MergeSide?

    package var openConflicts: [FieldConflict] { conflicts.filter(\.isOpen) }
}

/// Three-way, field-level merge of one record: base (last agreed version), local and
/// remote. Pure; CONTRACT section 5 is the specification and the table tests its proof.
///
/// - Different fields changed: both changes kept.
/// - The same change on both sides: no conflict.
/// - Nested objects merge field by field; arrays and scalars are replaced whole.
/// - A string with line breaks merges line by line when the sides changed different lines.
/// - The same field changed differently: `policy` picks the value and whether the
///   conflict stays open.
/// - A change against a delete: the change wins and the record stays.
package enum ThreeWayMerge {
    package static func merge(
        base: JSONObject?, local: JSONObject?, remote: JSONObject?, policy: ConflictPolicy,
        localChangedAt: Double? = nil, remoteChangedAt: Double? = nil
    ) -> MergeResult {
        if local == remote {
            return MergeResult(merged: local, conflicts: [], isHeld: false, deleteOverriddenOn: nil)
        }
        guard let local else {
            // Deleted here. Stays deleted unless the hub changed it since the base.
            if base == nil || remote == base {
                return MergeResult(merged: base == nil ? remote : nil, conflicts: [], isHeld: false, deleteOverriddenOn: nil)
            }
            return MergeResult(merged: remote, conflicts: [], isHeld: false, deleteOverriddenOn: .local)
        }
        guard let remote else {
            if base == nil || local == base {
                return MergeResult(merged: base == nil ? local : nil, conflicts: [], isHeld: false, deleteOverriddenOn: nil)
            }
            return MergeResult(merged: local, conflicts: [], isHeld: false, deleteOverriddenOn: .remote)
        }
        var context = Context(policy: policy, newer: newerSide(localChangedAt, remoteChangedAt))
        let merged = context.mergeObjects(base ?? JSONObject(), local, remote, path: [])
        let held = policy == .manual && !context.conflicts.isEmpty
        return MergeResult(merged: merged, conflicts: context.conflicts, isHeld: held, deleteOverriddenOn: nil)
    }

    private static func newerSide(_ local: Double?, _ remote: Double?) -> MergeSide {
        guard let local, let remote, local > remote else { return .remote }
        return .local
    }

    private struct Context {
        let policy: ConflictPolicy
        let newer: MergeSide
        var conflicts: [FieldConflict] = []

        mutating func mergeObjects(_ base: JSONObject, _ local: JSONObject, _ remote: JSONObject, path: [String]) -> JSONObject {
            // Keep the local file's key order; fields new from the hub go after, in its order.
            var members: [JSONObject.Member] = []
            members.reserveCapacity(max(local.count, remote.count))
            var visited: Set<String> = []
            for key in local.keys + remote.keys + base.keys where visited.insert(key).inserted {
                if let value = mergeValue(base[key], local[key], remote[key], path: path + [key]) {
                    members.append(JSONObject.Member(key: key, value: value))
                }
            }
            return JSONObject(members: members)
        }

        mutating func mergeValue(_ base: JSONValue?, _ local: JSONValue?, _ remote: JSONValue?, path: [String]) -> JSONValue? {
            if local == remote { return local }
            if local == base { return remote }
            if remote == base { return local }
            if case .object(let localObject)? = local, case .object(let remoteObject)? = remote {
                switch base {
                case nil:
                    return .object(mergeObjects(JSONObject(), localObject, remoteObject, path: path))
                case .object(let baseObject)?:
                    return .object(mergeObjects(baseObject, localObject, remoteObject, path: path))
                default:
                    break
                }
            }
            if case .string(let baseText)? = base, case .string(let localText)? = local, case .string(let remoteText)? = remote,
                baseText.contains("\n") || localText.contains("\n") || remoteText.contains("\n"),
                let merged = LineMerge.merge(base: baseText, local: localText, remote: remoteText)
            {
                return .string(merged)
            }
            let winner: MergeSide
            switch policy {
            case .merge, .preferRemote, .manual: winner = .remote
            case .preferLocal: winner = .local
            case .newest: winner = newer
            }
            let isOpen = policy == .merge || policy == .manual
            conflicts.append(FieldConflict(path: path, base: base, local: local, remote: remote, winner: winner, isOpen: isOpen))
            return winner == .local ? local : remote
        }
    }
}
