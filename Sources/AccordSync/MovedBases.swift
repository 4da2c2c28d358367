import AccordCore

/// Which records' bases a push, a merge, a revert or a resolve moved, numbered by
/// when. A feed page read before such a move may hold the hub's version that the move
/// replaced (the long-poll was answered before the push landed): applying it would
/// put that older version into the file until the next page. Such a page is read
/// again; one whose moved records come back with this root's own revs (the usual
/// echo of a push) is applied, so the daemon that pushed does not pay a round trip
/// to read it again. Pure, owned by the engine.
struct MovedBases {
    /// Moves so far; the feed notes it before each long-poll (`readAt`).
    private(set) var count = 0
    private var movedAt: [RecordKey: Int] = [:]
    /// Pages read before this were read before moves no longer remembered (the map is
    /// emptied past `limit` records): they are not applied at all.
    private var forgottenBefore = 0
    static let limit = 10_000

    mutating func moved(_ keys: some Sequence<RecordKey>) {
        count += 1
        for key in keys { movedAt[key] = count }
        if movedAt.count > Self.limit {
            movedAt.removeAll()
            forgottenBefore = count
        }
    }

    /// Whether a page read at `readAt` may be applied (its stale changes skipped).
    func isUsable(readAt: Int) -> Bool { readAt >= forgottenBefore }

    /// Whether `key`'s change in a page read at `readAt` predates a move of its base.
    func isStale(_ key: RecordKey, readAt: Int) -> Bool { (movedAt[key] ?? 0) > readAt }

    /// A page read at `readAt` was applied. The feed reads one page after another, so
    /// later pages are read later: moves up to `readAt` cannot matter to them.
    mutating func applied(readAt: Int) {
        if !movedAt.isEmpty { movedAt = movedAt.filter { $0.value > readAt } }
    }
}
