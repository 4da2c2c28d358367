import AccordCore
import Synchronization

/// The changes feed since the hub started, in memory: for each record committed since
/// then, its latest seq, rev and deletion, in seq order. A page from a recent point
/// (every live daemon's) needs no database read. Commits append in commit order before
/// they are acknowledged, so what it holds is always a prefix of the committed feed:
/// a reader may see less than the database, never a seq it does not hold.
final class FeedIndex: Sendable {
    struct Entry: Sendable, Equatable {
        var seq: Int64
        var key: RecordKey
        var rev: String
        var deleted: Bool
    }

    private struct State {
        /// Every record whose latest seq is above `floor` has its entry here.
        var floor: Int64
        /// Ascending seq; an entry whose record moved on since is stale and skipped.
        var entries: [Entry] = []
        var latest: [RecordKey: Int64] = [:]
        var stale = 0
    }

    private let state: Mutex<State>
    private let maxEntries: Int

    /// `floor`: the database's latest seq when the hub opened it (nothing above it yet).
    /// `maxEntries` bounds the memory (about 150 bytes an entry): past it the older half
    /// is forgotten and those points are read from the database again.
    init(floor: Int64, maxEntries: Int = 50_000) {
        state = Mutex(State(floor: floor))
        self.maxEntries = maxEntries
    }

    /// A commit's new versions, in commit order.
    func committed(_ records: [StoredRecord]) {
        state.withLock { state in
            for record in records {
                if state.latest.updateValue(record.seq, forKey: record.key) != nil { state.stale += 1 }
                state.entries.append(Entry(seq: record.seq, key: record.key, rev: record.rev, deleted: record.deleted))
            }
            if state.entries.count > maxEntries {
                // Forget the older half: the floor rises to the last entry dropped.
                let dropped = state.entries.count / 2
                state.floor = state.entries[dropped - 1].seq
                state.entries.removeFirst(dropped)
                let floor = state.floor
                state.latest = state.latest.filter { $0.value > floor }
                Self.compact(&state)
            } else if state.stale > state.entries.count / 2 {
                Self.compact(&state)
            }
        }
    }

    /// Latest versions with `seq > since`, at most `limit`, in seq order; nil when
    /// `since` is below what is held (the database answers then).
    func page(since: Int64, limit: Int) -> [Entry]? {
        state.withLock { state in
            guard since >= state.floor else { return nil }
            var low = 0
            var high = state.entries.count
            while low < high {
                let middle = (low + high) / 2
                if state.entries[middle].seq <= since { low = middle + 1 } else { high = middle }
            }
            var page: [Entry] = []
            var index = low
            while index < state.entries.count, page.count < limit {
                let entry = state.entries[index]
                if state.latest[entry.key] == entry.seq { page.append(entry) }
                index += 1
            }
            return page
        }
    }

    private static func compact(_ state: inout State) {
        let latest = state.latest
        state.entries.removeAll { latest[$0.key] != $0.seq }
        state.stale = 0
    }
}
