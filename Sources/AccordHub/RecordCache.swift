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

    private static func insert(_ record: StoredRecord, into state: inout State, maxBytes: Int) {
        if let old = state.entries.updateValue(record, forKey: record.key) {
            state.bytes -= old.fieldsJSON.utf8.count
        }
        state.bytes += record.fieldsJSON.utf8.count
        if state.bytes > maxBytes {
            // Over budget: drop about a quarter, whichever entries come first.
            var dropped = 0
            for key in state.entries.keys where dropped < state.entries.count / 4 {
                state.bytes -= state.entries.removeValue(forKey: key)?.fieldsJSON.utf8.count ?? 0
                dropped += 1
            }
        }
    }
}
