import AccordCore
import Testing

@testable import AccordHub

@Suite("Record cache")
struct RecordCacheTests {
    let key = RecordKey(kind: "news", id: "a")

    func version(_ seq: Int64) -> StoredRecord {
        StoredRecord(key: key, rev: "\(seq)-x", seq: seq, deleted: false, fieldsJSON: "{\"n\": \(seq)}")
    }

    @Test func aReadThatRacedACommitIsNotCached() {
        let cache = RecordCache()
        let (_, generation) = cache.lookup(key)
        cache.committed([version(2)])
        cache.fill(version(1), readAt: generation)  // read before the commit, arriving after it
        #expect(cache.lookup(key).record?.seq == 2)
    }

    @Test func aMissIsFilledWhenNothingRaced() {
        let cache = RecordCache()
        let (_, generation) = cache.lookup(key)
        cache.fill(version(1), readAt: generation)
        #expect(cache.lookup(key).record?.seq == 1)
    }

    @Test func staysWithinItsBudget() {
        let cache = RecordCache(maxBytes: 10_000)
        cache.committed(
            (0..<1000).map {
                StoredRecord(
                    key: RecordKey(kind: "news", id: "r\($0)"), rev: "1-x", seq: Int64($0), deleted: false, fieldsJSON: String(repeating: "x", count: 100))
            })
        #expect(cache.count <= 100)
        #expect(cache.count > 0)
    }

    @Test func tinyRecordsCountWhatTheyHold() {
        // Fields of two bytes each: a budget that counted only the fields would keep
        // all 50,000 of them (about 15 MB of memory) in 100 KB.
        let cache = RecordCache(maxBytes: 100_000)
        cache.committed(
            (0..<50_000).map { StoredRecord(key: RecordKey(kind: "news", id: "r\($0)"), rev: "1-x", seq: Int64($0), deleted: false, fieldsJSON: "{}") })
        #expect(cache.count <= 100_000 / RecordCache.entryOverhead)
        #expect(cache.bytes <= 100_000)
        #expect(cache.count > 0)
    }
}
