import AccordCore
import AccordStore

/// Whether this root can follow the hub's feed. Its cursor is a seq in one feed: in
/// another, or in the same one restored from an older backup, the changes at seqs the
/// cursor has passed would be skipped for good, and pushes would land in a database
/// that lacks what this root's bases say the hub holds. Three checks, cheapest first:
/// the feed's ID (`Accord-Feed-Id`, every page), its end against the cursor (every
/// page), and the anchor (`FeedAnchor`): against the write the hub names at the
/// page's `since` (`Accord-Since-Rev`, every page), or, when the anchor is not at
/// `since` or the hub names none, with one request after a start or a lost hub.
extension SyncEngine {
    /// Notes whether `page`, read after `cursor`, comes from a feed this root cannot
    /// follow (`hubBehind`, which holds pushes too) and throws its error if so; a
    /// feed that is right again clears it. The first feed ID seen is kept. After a
    /// start or a lost hub, and while the hub is behind, the anchor is looked up too;
    /// a failure to ask throws without changing `hubBehind`. A loss reported while
    /// the anchor is being looked up (`hubLost`) keeps the next page looked at too.
    package func checkFeed(_ page: Page, cursor: Int64) async throws {
        let known = try store.feedID()
        let losses = hubLosses
        let moves = hub.hubMoves
        var problem = Self.feedProblem(hubLastSeq: page.lastSeq, cursor: cursor, feedID: page.feedID, knownFeedID: known)
        if problem == nil, let atSince = page.atSince, let anchor = try store.feedAnchor(), anchor.seq == atSince.seq {
            problem = Self.anchorProblem(anchor, found: atSince)
        } else if problem == nil, !feedLooked || hubBehind != nil || moves != movesAtLook {
            problem = try await anchorProblem()
        }
        hubBehind = problem
        if hubLosses == losses {
            feedLooked = true
            movesAtLook = moves
        }
        if let problem { throw problem }
        if known == nil, let id = page.feedID { try store.setFeedID(id) }
    }

    /// Notes whether this root can follow the hub's feed, with one short read of it.
    /// The first push after a start needs it: a hub whose database was restored from
    /// an older backup while the daemon was down must get nothing, and the feed may
    /// not have been read yet. While the hub is behind, each try looks again, since
    /// the feed itself is not read while deletions are held.
    func lookAtFeed() async throws {
        let cursor = try store.cursor()
        let known = try store.feedID()
        guard cursor > 0 || known != nil else {
            feedLooked = true
            return
        }
        let page = try await hub.changes(since: cursor, limit: 1, waitSeconds: 0)
        do { try await checkFeed(page, cursor: cursor) } catch is HubError where hubBehind != nil {}
    }

    /// Why the hub's history contradicts the anchor, nil if it agrees or there is
    /// none yet: the revision this root applied at that seq is not there. (Revisions
    /// are named by their content: the same record written with the same content at
    /// the same seq would pass, and would lose nothing.)
    func anchorProblem() async throws -> HubError? {
        guard let anchor = try store.feedAnchor() else { return nil }
        let newest = try await hub.revisions(anchor.key, before: anchor.seq + 1, limit: 1)?.revisions.first
        return Self.anchorProblem(anchor, found: newest.map { FeedAnchor(seq: $0.seq, key: anchor.key, rev: $0.rev) })
    }

    /// Why `found`, the write the hub has at the anchor's seq (or the anchor record's
    /// newest revision up to it), contradicts the anchor; nil if it is the anchor.
    static func anchorProblem(_ anchor: FeedAnchor, found: FeedAnchor?) -> HubError? {
        if found == anchor { return nil }
        return .retryable(
            reason: "the hub's history has no revision \(anchor.rev) of \(anchor.key) at seq \(anchor.seq), which this root applied: its "
                + "database was restored from an older backup and has taken other changes since; " + Self.feedRemedy, retryAfter: nil)
    }

    /// Why this root cannot follow a feed, from one page, nil if it can:
    /// - another feed (`feedID` is not the one first seen): a database made afresh
    ///   at the hub's address, or another dataset's. A page without an ID (a hub from
    ///   before IDs) is not held against it;
    /// - a feed that ends before the cursor: the database restored from an older
    ///   backup.
    /// Such a feed gets nothing pushed and nothing pulled, and is asked again with
    /// backoff as a hub that is away; the error stays in status until it is resolved.
    package static func feedProblem(hubLastSeq: Int64, cursor: Int64, feedID: String?, knownFeedID: String?) -> HubError? {
        if let feedID, let knownFeedID, feedID != knownFeedID {
            return .retryable(
                reason: "the hub's changes feed is \(feedID), not \(knownFeedID) that this root synced with: its database was made afresh "
                    + "or is another one; " + feedRemedy, retryAfter: nil)
        }
        guard hubLastSeq < cursor else { return nil }
        return .retryable(
            reason: "the hub's changes feed ends at seq \(hubLastSeq), before this root's cursor \(cursor): its database was restored "
                + "from an older backup or is another one; " + feedRemedy, retryAfter: nil)
    }

    /// What the user can do about a feed this root cannot follow.
    static let feedRemedy =
        "nothing is pulled or pushed until it is back, or stop accordd, move the state file (with its -wal and -shm) away and start "
        + "it again to merge this root with the hub afresh"
}
