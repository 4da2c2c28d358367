import AccordCore
import AccordStore

/// What the last look at the root saw: each file's stamp, digest and records, and
/// where each record lives. The daemon holds it for its whole life, so it is kept
/// compact: the digest is 32 bytes inline, a file of one record holds its key inline,
/// and a record's place is derived from the files, not stored beside them. Only a
/// record that lives somewhere else than `<kind>/<id>.json` or `<id>.json` (a line of
/// a `.jsonl`, a file named otherwise) has its place written down.
package struct RootIndex: Sendable, Equatable {
    /// One file as last seen, without its path (the dictionary's key holds it).
    private struct FileState: Sendable, Equatable {
        var size: Int
        var modifiedNanos: Int64
        var inode: UInt64
        var changedNanos: Int64
        var digest: ContentDigest
        var keys: Keys
    }

    /// A file's records: almost always one, held inline.
    private enum Keys: Sendable, Equatable {
        case one(RecordKey)
        case many([RecordKey])

        init(_ keys: [RecordKey]) {
            self = keys.count == 1 ? .one(keys[0]) : .many(keys)
        }

        var list: [RecordKey] {
            switch self {
            case .one(let key): [key]
            case .many(let keys): keys
            }
        }

        func contains(_ key: RecordKey) -> Bool {
            switch self {
            case .one(let only): only == key
            case .many(let keys): keys.contains(key)
            }
        }

        var count: Int {
            switch self {
            case .one: 1
            case .many(let keys): keys.count
            }
        }
    }

    private var files = FileTable()
    /// Places that cannot be derived from the record's key.
    private var elsewhere: [RecordKey: String] = [:]
    /// Keys placed in a file whose entry does not list them (rare: a file with a
    /// problem), so forgetting the file forgets them too.
    private var unlisted: [String: Set<RecordKey>] = [:]
    /// Records in the files (a key found in two files counts twice).
    package private(set) var recordCount = 0

    package init() {}

    package init(_ entries: some Sequence<FileIndexEntry>) {
        for entry in entries { set(entry) }
    }

    package var isEmpty: Bool { files.isEmpty }
    package var fileCount: Int { files.count }
    package var paths: some Collection<String> { files.paths }

    /// Every entry (for saving and for tests).
    package var entries: [FileIndexEntry] { files.paths.compactMap { self[$0] } }

    /// The entry of the file at `path` (root-relative), if it was seen.
    package subscript(path: String) -> FileIndexEntry? {
        guard let state = files[path] else { return nil }
        return FileIndexEntry(
            path: path, size: state.size, modifiedNanos: state.modifiedNanos, inode: state.inode, changedNanos: state.changedNanos,
            digest: state.digest, records: state.keys.list)
    }

    package func contains(_ path: String) -> Bool {
        files[path] != nil
    }

    /// The file's records without building an entry.
    package func records(at path: String) -> [RecordKey] {
        files[path]?.keys.list ?? []
    }

    /// The digest of the file at `path` as last seen.
    package func digest(at path: String) -> ContentDigest? {
        files[path]?.digest
    }

    /// Whether the file at `path` still has the size, mtime, inode and ctime it had
    /// when last seen (then it is not read again).
    package func isUnchanged(_ path: String, size: Int, modifiedNanos: Int64, inode: UInt64, changedNanos: Int64) -> Bool {
        guard let state = files[path] else { return false }
        return state.size == size && state.modifiedNanos == modifiedNanos && state.inode == inode && state.changedNanos == changedNanos
    }

    /// Takes over `previous`'s entry for `path` as it is; returns the file's records.
    @discardableResult
    package mutating func keep(_ path: String, from previous: RootIndex) -> [RecordKey] {
        guard let state = previous.files[path] else { return [] }
        if files[path] != nil { remove(path) }
        files[path] = state
        recordCount += state.keys.count
        let keys = state.keys.list
        for key in keys { place(key, at: path) }
        return keys
    }

    /// The entries of this index that `other` lacks or holds differently.
    package func entries(changedFrom other: RootIndex) -> [FileIndexEntry] {
        files.paths.compactMap { path in other.files[path] == files[path] ? nil : self[path] }
    }

    /// Records `entry` as the file's new state; its records live there now.
    package mutating func set(_ entry: FileIndexEntry) {
        if let old = files[entry.path] {
            recordCount -= old.keys.count
            forgetPlaces(in: entry.path, old)
        }
        let keys = Keys(entry.records)
        files[entry.path] = FileState(
            size: entry.size, modifiedNanos: entry.modifiedNanos, inode: entry.inode, changedNanos: entry.changedNanos, digest: entry.digest, keys: keys)
        recordCount += keys.count
        for key in entry.records { place(key, at: entry.path) }
    }

    /// Forgets the file at `path`, and the places of its records.
    package mutating func remove(_ path: String) {
        guard let old = files.removeValue(forKey: path) else { return }
        recordCount -= old.keys.count
        forgetPlaces(in: path, old)
    }

    private mutating func forgetPlaces(in path: String, _ old: FileState) {
        for key in old.keys.list where elsewhere[key] == path { elsewhere[key] = nil }
        for key in unlisted.removeValue(forKey: path) ?? [] where elsewhere[key] == path { elsewhere[key] = nil }
    }

    /// Notes that `key` lives in the file at `path` (also when that file's entry does
    /// not list it: a valid record in a file with a problem keeps the last good entry).
    package mutating func place(_ key: RecordKey, at path: String) {
        let listed = files[path]?.keys.contains(key) == true
        if listed, Self.derivedPlaces(of: key).contains(path) {
            elsewhere[key] = nil
        } else {
            elsewhere[key] = path
        }
        if !listed { unlisted[path, default: []].insert(key) }
    }

    /// The root-relative path of the file that holds `key`, if any.
    package func location(of key: RecordKey) -> String? {
        if let path = elsewhere[key] { return path }
        return Self.derivedPlaces(of: key).first { files[$0]?.keys.contains(key) == true }
    }

    /// Where a record lives unless noted otherwise: the daemon's own layout
    /// (`<kind>/<id>.json`, where it writes records that have no home yet) and a flat
    /// folder of `<id>.json` files.
    private static func derivedPlaces(of key: RecordKey) -> [String] {
        ["\(key.kind)/\(key.id).json", "\(key.id).json"]
    }

    package static func == (left: RootIndex, right: RootIndex) -> Bool {
        left.files.count == right.files.count && left.files.paths.allSatisfy { left.files[$0] == right.files[$0] } && left.elsewhere == right.elsewhere
            && left.unlisted == right.unlisted
    }

    /// Files by path, as a dictionary of slots into one array of states: the table of
    /// a dictionary holds 20 bytes per bucket instead of a whole state, and the states
    /// sit packed.
    private struct FileTable: Sendable {
        private var slots: [String: Int32] = [:]
        private var states: [FileState] = []
        private var free: [Int32] = []

        var count: Int { slots.count }
        var isEmpty: Bool { slots.isEmpty }
        var paths: Dictionary<String, Int32>.Keys { slots.keys }

        subscript(path: String) -> FileState? {
            get { slots[path].map { states[Int($0)] } }
            set {
                if let newValue {
                    if let slot = slots[path] {
                        states[Int(slot)] = newValue
                    } else if let slot = free.popLast() {
                        states[Int(slot)] = newValue
                        slots[path] = slot
                    } else {
                        slots[path] = Int32(states.count)
                        states.append(newValue)
                    }
                } else if let slot = slots.removeValue(forKey: path) {
                    free.append(slot)
                }
            }
        }

        mutating func removeValue(forKey path: String) -> FileState? {
            guard let state = self[path] else { return nil }
            self[path] = nil
            return state
        }
    }
}
