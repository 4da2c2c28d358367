import AccordCore
import Synchronization

/// The current version of recently used records, so a GET needs no database read.
///
/// Commits update it before their writes are acknowledged. A reader fills a miss only
/// if no commit happened while it was reading (the generation check), so a slow reader
/// can never put back a version older than one already acknowledged.
final class RecordCache: Sendable {
    private struct State {
        var entries: [RecordKey: StoredRecord] = [:]
        var bytes = 0
        var generation: UInt64 = 0
    }

    private let state = Mutex(State())
    let maxBytes: Int

    init(maxBytes: Int = 8 << 20) {
        self.maxBytes = maxBytes
    }

    func lookup(_ key: RecordKey) -> (record: StoredRecord?, generation: UInt64) {
        state.withLock { ($0.entries[key], $0.generation) }
    }

    /// Fills a miss read at `generation`; ignored if a commit came in between.
    func fill(_ record: StoredRecord, readAt generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation, state.entries[record.key] == nil else { return }
            Self.insert(record, into: &state, maxBytes: maxBytes)
        }
    }

    /// Records a commit's new versions (in commit order).
    func committed(_ records: [StoredRecord]) {
        state.withLock { state in
            state.generation &+= 1
            for record in records { Self.insert(record, into: &state, maxBytes: maxBytes) }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// What an entry really holds: its strings (key twice, as the dictionary's key and
    /// inside the record), the record's other fields and the dictionary slot. Counting
    /// only the fields let a million tiny records pass for a few megabytes.
    static func cost(of record: StoredRecord) -> Int {
        let key = record.key.kind.utf8.count + record.key.id.utf8.count
        return record.fieldsJSON.utf8.count + record.rev.utf8.count + 2 * key + entryOverhead
    }

    /// The fixed part of an entry: two `RecordKey`s and the record's `String` headers,
    /// seq and flag (about 120 bytes), the dictionary's slot, hash and growth room.
    static let entryOverhead = 200

    private static func insert(_ record: StoredRecord, into state: inout State, maxBytes: Int) {
        if let old = state.entries.updateValue(record, forKey: record.key) {
            state.bytes -= cost(of: old)
        }
        state.bytes += cost(of: record)
        if state.bytes > maxBytes {
            // Over budget: drop about a quarter, whichever entries come first.
            let victims = Array(state.entries.keys.prefix(max(1, state.entries.count / 4)))
            for key in victims {
                if let removed = state.entries.removeValue(forKey: key) { state.bytes -= cost(of: removed) }
            }
        }
    }

    /// The bytes counted against the budget now.
    var bytes: Int { state.withLock { $0.bytes } }
}
