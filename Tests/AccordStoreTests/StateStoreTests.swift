import AccordCore
import AccordTestSupport
import Testing

@testable import AccordStore

@Suite("State store on a real SQLite file")
struct StateStoreTests {
    let key = RecordKey(kind: "agreement", id: "us-japan-hns-fy2021")

    func fields(_ status: String) -> JSONObject {
        ["title": .string("HNS"), "status": .string(status)]
    }

    @Test func outboxKeepsOneOperationPerRecordWithAFreshKeyPerChange() throws {
        let folder = try TemporaryFolder()
        let store = try StateStore(path: folder.child("state.db"))
        let first = try store.enqueue(key, .put, baseRev: "1-a", fields: fields("agreed"), now: 10)
        let second = try store.enqueue(key, .put, baseRev: "1-a", fields: fields("signed"), now: 11)
        #expect(try store.pendingCount() == 1)
        #expect(first.idempotencyKey != second.idempotencyKey)
        #expect(second.idempotencyKey.count == 32)
        let due = try store.dueOperations(now: 20, limit: 10)
        #expect(due.map(\.fields) == [fields("signed")])
        #expect(due.first?.baseRev == "1-a")
    }

    @Test func retriesKeepTheirKeyAndWaitTheirTurn() throws {
        let folder = try TemporaryFolder()
        let store = try StateStore(path: folder.child("state.db"))
        let operation = try store.enqueue(key, .delete, baseRev: "3-c", fields: nil, now: 0)
        try store.reschedule(operation, nextAttemptAt: 100, error: "hub unreachable")
        #expect(try store.dueOperations(now: 50, limit: 10).isEmpty)
        let later = try #require(try store.dueOperations(now: 100, limit: 10).first)
        #expect(later.idempotencyKey == operation.idempotencyKey)
        #expect(later.attempts == 1)
        #expect(later.lastError == "hub unreachable")
        #expect(try store.nextAttemptTime() == 100)
    }

    @Test func completingMovesTheBaseAtomically() throws {
        let folder = try TemporaryFolder()
        let store = try StateStore(path: folder.child("state.db"))
        let operation = try store.enqueue(key, .put, baseRev: nil, fields: fields("agreed"), now: 0)
        try store.complete(operation, newBase: BaseSnapshot(key: key, rev: "1-x", deleted: false, fields: fields("agreed")))
        #expect(try store.pendingCount() == 0)
        #expect(try store.base(key)?.rev == "1-x")
        #expect(try store.allBases()[key]?.fields == fields("agreed"))
    }

    @Test func completingAnOperationReplacedMeanwhileKeepsTheNewOne() throws {
        let folder = try TemporaryFolder()
        let store = try StateStore(path: folder.child("state.db"))
        let sent = try store.enqueue(key, .put, baseRev: nil, fields: fields("agreed"), now: 0)
        _ = try store.enqueue(key, .put, baseRev: nil, fields: fields("signed"), now: 1)  // edited while in flight
        try store.complete(sent, newBase: BaseSnapshot(key: key, rev: "1-x", deleted: false, fields: fields("agreed")))
        #expect(try store.pendingOperation(key)?.fields == fields("signed"))
        #expect(try store.base(key)?.rev == "1-x")
    }

    /// The feed's ID and anchor go with the cursor: a reopened state still knows which
    /// feed it follows and a change it applied from it, a rev with a tab included.
    @Test func theFeedsIdentityAndAnchorAreKept() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("state.db")
        let anchor = FeedAnchor(seq: 9, key: key, rev: "3-odd\trev")
        do {
            let store = try StateStore(path: path)
            #expect(try store.feedID() == nil && store.feedAnchor() == nil)
            try store.setFeedID("feed-1")
            try store.commit([.setCursor(9, anchor: anchor)])
            try store.commit([.setCursor(12, anchor: nil)])
        }
        let reopened = try StateStore(path: path)
        #expect(try reopened.feedID() == "feed-1")
        #expect(try reopened.cursor() == 12)
        #expect(try reopened.feedAnchor() == anchor, "a cursor moved without a change keeps the anchor before it")
    }

    @Test func stateSurvivesReopening() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("state.db")
        do {
            let store = try StateStore(path: path)
            try store.enqueue(key, .put, baseRev: nil, fields: fields("agreed"), now: 0)
            try store.setCursor(42)
            try store.saveFile(
                FileIndexEntry(path: "a/b.json", size: 10, modifiedNanos: 5, inode: UInt64.max, digest: ContentDigest(of: Array("h".utf8)), records: [key]))
            try store.setConflicts(
                key,
                [
                    StoredConflict(
                        key: key, path: ["value", "amount"], base: .number(JSONNumber(1)), local: .number(JSONNumber(2)), remote: nil, remoteRev: "2-r",
                        createdAt: 7)
                ])
        }
        let reopened = try StateStore(path: path)
        #expect(try reopened.pendingCount() == 1)
        #expect(try reopened.cursor() == 42)
        #expect(try reopened.fileIndex()["a/b.json"]?.records == [key])
        #expect(try reopened.fileIndex()["a/b.json"]?.inode == UInt64.max)
        #expect(try reopened.fileIndex()["a/b.json"]?.digest == ContentDigest(of: Array("h".utf8)))
        let conflict = try #require(try reopened.openConflicts().first)
        #expect(conflict.path == ["value", "amount"] && conflict.local == .number(JSONNumber(2)) && conflict.remote == nil)
        try reopened.setConflicts(key, [])
        #expect(try reopened.openConflicts().isEmpty)
    }

    @Test func theEventLogIsBounded() throws {
        let folder = try TemporaryFolder()
        let store = try StateStore(path: folder.child("state.db"), maxEvents: 50)
        for index in 0..<500 {
            try store.recordEvent(type: "pushed", record: "agreement/a\(index)", summary: "status: a -> b", at: Double(index))
        }
        let events = try store.events(limit: 1000)
        #expect(events.count <= 150)
        #expect(events.first?.record == "agreement/a499")
    }
}
