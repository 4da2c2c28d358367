import AccordCore
import AccordFiles
import AccordStore

#if canImport(Glibc)
    import Glibc
#endif

/// Why a record could not be written to the root. Nothing was changed on disk.
package enum RecordWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file changed since it was read: re-scan and merge instead of overwriting.
    case changedMeanwhile(String)
    /// The path would leave the root (a `..`, an absolute path, a symlinked folder).
    case outsideRoot(String)
    /// Even the compact form of the record is over `max_record_bytes`.
    case tooLarge(String, size: Int, limit: Int)
    case io(String)

    package var description: String {
        switch self {
        case .changedMeanwhile(let path): "\(path) changed while being synced; it will be merged on the next scan"
        case .outsideRoot(let path): "refusing to write \(path): it is outside the root or reached through a symlink"
        case .tooLarge(let path, let size, let limit):
            "cannot write \(path): the record is \(size) bytes, over max_record_bytes (\(limit)); raise max_record_bytes to receive it"
        case .io(let reason): reason
        }
    }
}

/// Writes records into the root the way the contract asks: atomically (a temp file in
/// the same folder, fsync, rename, fsync of the folder), in the house style, a
/// `.jsonl` line replaced in place, never over a file that changed since it was
/// read, never outside the root. Returns the file's new index entry, so the daemon
/// does not take its own write for a local change.
///
/// Every step is relative to descriptors: the root is opened once per write, each
/// folder below it with `O_NOFOLLOW | O_DIRECTORY`, and the file is read, created,
/// renamed and removed with `openat`/`renameat`/`unlinkat` in the folder that was
/// checked. A folder swapped for a symlink at any moment makes the write fail; it can
/// never lead the write out of the root.
///
/// `max_record_bytes` measures the record as it stands in the file (a `.json` file, a
/// `.jsonl` line), on both the reading and the writing side: a record is written in
/// the house style when that fits the limit, in its compact form when only that fits,
/// and not at all (`tooLarge`) when neither does.
package struct RecordFileWriter: Sendable {
    package let root: String
    package var modes: FileModes
    package var maxRecordBytes: Int

    package init(root: String, modes: FileModes = FileModes(), maxRecordBytes: Int = RecordFileParser.defaultMaxRecordBytes) {
        self.root = root
        self.modes = modes
        self.maxRecordBytes = maxRecordBytes
    }

    /// Writes `record` into the file that holds it (`relativePath`), or into
    /// `<kind>/<id>.json` when it has no home yet. `expectedHash` is the content hash
    /// the caller last saw for that file.
    package func write(_ record: Record, in relativePath: String?, expectedHash: ContentDigest?) throws(RecordWriteError) -> FileIndexEntry {
        let folders = FolderCache(root: root, modes: modes)
        defer { folders.close() }
        let staged = try stage(record, in: relativePath, expectedHash: expectedHash, folders: folders, durable: true)
        guard let entry = try place(staged) else { throw .io("\(staged.relativePath) was not written") }
        folders.syncAll()
        return entry
    }

    /// Removes the record: deletes a `.json` file (returns nil), or drops the line from
    /// a `.jsonl` (returns the file's new entry).
    package func remove(_ key: RecordKey, from relativePath: String, expectedHash: ContentDigest?) throws(RecordWriteError) -> FileIndexEntry? {
        let folders = FolderCache(root: root, modes: modes)
        defer { folders.close() }
        let staged = try stageRemoval(key, from: relativePath, expectedHash: expectedHash, folders: folders, durable: true)
        let entry = try place(staged)
        folders.syncAll()
        return entry
    }

    // MARK: Staging: the new content beside the file, then placed

    /// A record's new file, written to a temporary file beside its place but not yet
    /// in it (or, for a `.json` file to delete, only checked).
    package struct Staged: Sendable {
        let folder: Int32
        let name: String
        package let relativePath: String
        /// The temporary file's name in the folder; nil for a removal.
        let temporary: String?
        let existing: ExistingFile?
        let digest: ContentDigest?
        let keys: [RecordKey]
    }

    /// Stages `record` for `relativePath` (nil: `<kind>/<id>.json`). With `durable`, the
    /// temporary file is fsynced; without, the caller flushes a whole page at once
    /// (`FolderCache.flush`) before placing anything.
    package func stage(
        _ record: Record, in relativePath: String?, expectedHash: ContentDigest?, folders: FolderCache, durable: Bool
    )
        throws(RecordWriteError) -> Staged
    {
        guard let relativePath else {
            let path = "\(record.key.kind)/\(record.key.id).json"
            let (folder, name) = try folders.open(path, createLast: record.key.kind)
            var info = stat()
            if fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 { throw .changedMeanwhile(path) }  // someone put a file there meanwhile
            return try stageBytes(
                try fileBytes(record, path: path), folder: folder, name: name, path: path, keys: [record.key], existing: nil, durable: durable)
        }
        let (folder, name) = try folders.open(relativePath, createLast: nil)
        let existing = try read(folder: folder, name: name, relativePath, expectedHash: expectedHash)
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            return try stageBytes(
                try fileBytes(record, path: relativePath), folder: folder, name: name, path: relativePath, keys: [record.key], existing: existing,
                durable: durable)
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: existing.bytes, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == record.key }) else { throw .changedMeanwhile(relativePath) }
            let text = Array(JSONWriter.line(.object(record.object)).utf8)
            guard text.count <= maxRecordBytes else { throw .tooLarge(relativePath, size: text.count, limit: maxRecordBytes) }
            var bytes = existing.bytes
            bytes.replaceSubrange(line.byteRange, with: text)
            return try stageBytes(
                bytes, folder: folder, name: name, path: relativePath, keys: parsed.records.map(\.record.key), existing: existing, durable: durable)
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
    }

    /// Stages the removal of `key` from `relativePath`: a `.json` file goes when
    /// placed; a `.jsonl` is rewritten without the line.
    package func stageRemoval(
        _ key: RecordKey, from relativePath: String, expectedHash: ContentDigest?, folders: FolderCache, durable: Bool
    )
        throws(RecordWriteError) -> Staged
    {
        let (folder, name) = try folders.open(relativePath, createLast: nil)
        let existing = try read(folder: folder, name: name, relativePath, expectedHash: expectedHash)
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            return Staged(folder: folder, name: name, relativePath: relativePath, temporary: nil, existing: existing, digest: nil, keys: [])
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: existing.bytes, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == key }) else { throw .changedMeanwhile(relativePath) }
            var bytes = existing.bytes
            var end = line.byteRange.upperBound
            if end < bytes.count, bytes[end] == UInt8(ascii: "\n") { end += 1 }
            bytes.removeSubrange(line.byteRange.lowerBound..<end)
            return try stageBytes(
                bytes, folder: folder, name: name, path: relativePath, keys: parsed.records.map(\.record.key).filter { $0 != key }, existing: existing,
                durable: durable)
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
    }

    /// Puts a staged file in place: a new file is linked in (which fails if anything
    /// appeared at its name meanwhile), an existing one renamed over or removed only if
    /// it is still the file that was read. The folder is not fsynced here
    /// (`FolderCache.syncAll`). Returns the file's new index entry (nil: removed).
    package func place(_ staged: Staged) throws(RecordWriteError) -> FileIndexEntry? {
        let (folder, name, path) = (staged.folder, staged.name, staged.relativePath)
        // RACE: a save that lands between this check and the rename is overwritten;
        // the window is a syscall wide instead of the fsync's milliseconds, and the
        // saved content was never seen by a scan, so nothing recorded is lost.
        if let existing = staged.existing, existing.identity != FileIdentity(folder: folder, name: name) {
            discard(staged)
            throw .changedMeanwhile(path)
        }
        guard let temporary = staged.temporary else {
            guard unlinkat(folder, name, 0) == 0 || errno == ENOENT else { throw .io("cannot remove \(path): \(String(cString: strerror(errno)))") }
            return nil
        }
        if staged.existing != nil {
            guard renameat(folder, temporary, folder, name) == 0 else {
                let reason = String(cString: strerror(errno))
                unlinkat(folder, temporary, 0)
                throw .io("cannot replace \(path): \(reason)")
            }
        } else {
            let linked = linkat(folder, temporary, folder, name, 0)
            let code = errno
            unlinkat(folder, temporary, 0)
            if linked != 0 {
                if code == EEXIST { throw .changedMeanwhile(path) }
                throw .io("cannot create \(path): \(String(cString: strerror(code)))")
            }
        }
        // The entry describes the file as it now stands (the rename or link moved its
        // ctime), so the next scan does not read our own write again.
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw .changedMeanwhile(path) }
        return FileIndexEntry(
            path: path, size: Int(info.st_size), modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            inode: UInt64(info.st_ino), changedNanos: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec),
            digest: staged.digest ?? ContentDigest(of: []),
            records: staged.keys)
    }

    /// Drops a staged file that will not be placed.
    package func discard(_ staged: Staged) {
        if let temporary = staged.temporary { unlinkat(staged.folder, temporary, 0) }
    }

    // MARK: Plumbing

    /// A `.json` file's bytes: the house style if it fits the limit, else compact.
    private func fileBytes(_ record: Record, path: String) throws(RecordWriteError) -> [UInt8] {
        let pretty = Array(JSONWriter.pretty(.object(record.object)).utf8)
        if pretty.count <= maxRecordBytes { return pretty }
        let compact = Array((JSONWriter.line(.object(record.object)) + "\n").utf8)
        guard compact.count <= maxRecordBytes else { throw .tooLarge(path, size: compact.count, limit: maxRecordBytes) }
        return compact
    }

    /// The file as read: its bytes, permission bits and identity, refused if it
    /// changed since the caller last saw it.
    private func read(folder: Int32, name: String, _ relativePath: String, expectedHash: ContentDigest?) throws(RecordWriteError) -> ExistingFile {
        let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw .changedMeanwhile(relativePath) }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, let bytes = try? FileReader.read(descriptor: fd, path: relativePath) else { throw .changedMeanwhile(relativePath) }
        if let expectedHash, ContentDigest(of: bytes) != expectedHash { throw .changedMeanwhile(relativePath) }
        var after = stat()
        fstat(fd, &after)
        return ExistingFile(bytes: bytes, mode: info.st_mode, identity: FileIdentity(after))
    }

    /// Writes `bytes` to a new temporary file beside `name`, with the right mode.
    private func stageBytes(
        _ bytes: [UInt8], folder: Int32, name: String, path: String, keys: [RecordKey], existing: ExistingFile?, durable: Bool
    ) throws(RecordWriteError) -> Staged {
        let existingMode = existing?.mode
        let mode = modes.forFile(replacing: existingMode)
        let temporary = ".\(name).accord-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = openat(folder, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io("cannot create a temporary file beside \(path): \(String(cString: strerror(errno)))") }
        func fail(_ reason: String) -> RecordWriteError {
            Glibc.close(fd)
            unlinkat(folder, temporary, 0)
            return .io(reason)
        }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw fail("cannot write \(path): \(String(cString: strerror(errno)))") }
            written += count
        }
        // A replaced file keeps its bits; a new one gets the configured bits exactly
        // when the config names them, else what the umask left of the default.
        if existingMode != nil || modes.fileExact {
            guard fchmod(fd, mode) == 0 else { throw fail("cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
        }
        if durable {
            guard fsync(fd) == 0 else { throw fail("cannot flush \(path) to disk: \(String(cString: strerror(errno)))") }
        }
        Glibc.close(fd)
        return Staged(
            folder: folder, name: name, relativePath: path, temporary: temporary, existing: existing, digest: ContentDigest(of: bytes), keys: keys)
    }
}

/// A file as the writer read it, to check it is still that file before replacing it.
struct ExistingFile: Sendable {
    var bytes: [UInt8]
    var mode: mode_t
    var identity: FileIdentity
}

/// What tells one version of a file from another without reading it: a replaced file
/// has another inode, an edited one another size or change time.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var changedNanos: Int64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        changedNanos = Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
    }

    /// The identity of what is at `name` in `folder` now (nil when nothing is).
    init?(folder: Int32, name: String) {
        var info = stat()
        guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        self.init(info)
    }
}
