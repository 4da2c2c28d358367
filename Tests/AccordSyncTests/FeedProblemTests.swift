import Testing

@testable import AccordSync

/// What one page of the feed says about whether this root can follow it.
@Suite struct FeedProblemTests {
    @Test func theSameFeedAtOrPastTheCursorIsFollowed() {
        #expect(SyncEngine.feedProblem(hubLastSeq: 5, cursor: 5, feedID: "a", knownFeedID: "a") == nil)
        #expect(SyncEngine.feedProblem(hubLastSeq: 9, cursor: 5, feedID: "a", knownFeedID: "a") == nil)
    }

    @Test func anotherFeedIsRefusedEvenPastTheCursor() throws {
        let problem = try #require(SyncEngine.feedProblem(hubLastSeq: 9, cursor: 5, feedID: "b", knownFeedID: "a"))
        #expect(problem.description.contains("the hub's changes feed is b, not a that this root synced with"))
    }

    @Test func aFeedEndingBeforeTheCursorIsRefused() throws {
        let problem = try #require(SyncEngine.feedProblem(hubLastSeq: 4, cursor: 5, feedID: "a", knownFeedID: "a"))
        #expect(problem.description.contains("ends at seq 4, before this root's cursor 5"))
    }

    /// A hub from before IDs sends none, and a root that never saw one knows none:
    /// neither is held against the feed (the seqs and the anchor still are).
    @Test func aMissingIDOnEitherSideIsNotHeldAgainstTheFeed() {
        #expect(SyncEngine.feedProblem(hubLastSeq: 9, cursor: 5, feedID: nil, knownFeedID: "a") == nil)
        #expect(SyncEngine.feedProblem(hubLastSeq: 9, cursor: 5, feedID: "a", knownFeedID: nil) == nil)
        #expect(SyncEngine.feedProblem(hubLastSeq: 4, cursor: 5, feedID: nil, knownFeedID: "a") != nil)
    }
}
