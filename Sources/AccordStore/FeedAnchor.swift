import AccordCore

/// A change this root applied from the hub's feed, at or before its cursor: the
/// revision `rev` of `key` took seq `seq`. History is never rewritten, so the hub this
/// root follows has that revision at that seq for ever. A database restored from an
/// older backup that has since taken other writes past the cursor has the same feed
/// ID and a long enough feed, but not this: the one check that finds it.
package struct FeedAnchor: Sendable, Equatable {
    package var seq: Int64
    package var key: RecordKey
    package var rev: String

    package init(seq: Int64, key: RecordKey, rev: String) {
        self.seq = seq
        self.key = key
        self.rev = rev
    }

    /// As kept in the state's settings: seq, kind, id and rev, tab-separated (a kind
    /// or an id never holds a tab; the rev, last, may).
    var stored: String { "\(seq)\t\(key.kind)\t\(key.id)\t\(rev)" }

    init?(stored: String) {
        let parts = stored.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let seq = Int64(parts[0]), RecordKey.isValidKind(parts[1]), RecordKey.isValidID(parts[2]) else { return nil }
        self.init(seq: seq, key: RecordKey(kind: parts[1], id: parts[2]), rev: parts[3])
    }
}
