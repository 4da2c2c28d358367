import AccordCore
import AccordStore
import Testing

@testable import AccordSync

@Suite("The root index: compact, places derived")
struct RootIndexTests {
    func entry(_ path: String, _ keys: [RecordKey], size: Int = 10) -> FileIndexEntry {
        FileIndexEntry(path: path, size: size, modifiedNanos: 1, inode: 2, changedNanos: 3, digest: ContentDigest(of: Array(path.utf8)), records: keys)
    }

    let a = RecordKey(kind: "news", id: "a")
    let b = RecordKey(kind: "news", id: "b")

    @Test func placesFollowTheFilesWhetherDerivedOrNoted() {
        var index = RootIndex()
        index.set(entry("news/a.json", [a]))  // the daemon's own layout
        index.set(entry("b.json", [b]))  // a flat folder by id
        #expect(index.location(of: a) == "news/a.json")
        #expect(index.location(of: b) == "b.json")
        let c = RecordKey(kind: "news", id: "c")
        let d = RecordKey(kind: "news", id: "d")
        index.set(entry("2021/lines.jsonl", [c, d]))
        #expect(index.location(of: c) == "2021/lines.jsonl" && index.location(of: d) == "2021/lines.jsonl")
        #expect(index.recordCount == 4 && index.fileCount == 3)
        // A line leaves the file: its place goes with it.
        index.set(entry("2021/lines.jsonl", [c]))
        #expect(index.location(of: d) == nil && index.recordCount == 3)
        index.remove("news/a.json")
        #expect(index.location(of: a) == nil && index.recordCount == 2)
        // The entry round-trips whole.
        #expect(index["b.json"] == entry("b.json", [b]))
        #expect(index["gone.json"] == nil)
    }

    @Test func theLastFileSetForAKeyHoldsIt() {
        var index = RootIndex()
        index.set(entry("news/a.json", [a]))
        index.set(entry("copy.json", [a]))
        #expect(index.location(of: a) == "copy.json")
        index.set(entry("news/a.json", [a], size: 11))
        #expect(index.location(of: a) == "news/a.json")
        index.remove("copy.json")
        #expect(index.location(of: a) == "news/a.json")
    }

    @Test func aRecordPlacedInAFileWhoseEntryLacksItIsFound() {
        var index = RootIndex()
        index.set(entry("news/a.json", []))
        index.place(a, at: "news/a.json")
        #expect(index.location(of: a) == "news/a.json")
        index.remove("news/a.json")
        #expect(index.location(of: a) == nil)
    }

    @Test func unchangedStampsAndChangedEntries() {
        var old = RootIndex()
        old.set(entry("x.json", [a]))
        old.set(entry("y.json", [b]))
        #expect(old.isUnchanged("x.json", size: 10, modifiedNanos: 1, inode: 2, changedNanos: 3))
        #expect(!old.isUnchanged("x.json", size: 10, modifiedNanos: 1, inode: 2, changedNanos: 4))
        var new = RootIndex()
        #expect(new.keep("x.json", from: old) == [a])
        new.set(entry("y.json", [b], size: 99))
        #expect(new.entries(changedFrom: old).map(\.path) == ["y.json"])
        #expect(new.location(of: a) == "x.json")
    }
}
