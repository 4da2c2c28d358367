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
    package func write(_ record: Record, in relativePath: String?, expectedHash: String?) throws(RecordWriteError) -> FileIndexEntry {
        guard let relativePath else {
            let path = "\(record.key.kind)/\(record.key.id).json"
            let folder = try FolderHandle.open(root: root, path: path, createLast: record.key.kind, modes: modes)
            defer { folder.close() }
            var info = stat()
            if fstatat(folder.fd, folder.name, &info, AT_SYMLINK_NOFOLLOW) == 0 { throw .changedMeanwhile(path) }  // someone put a file there meanwhile
            return try replace(in: folder, path, with: try fileBytes(record, path: path), keys: [record.key], existing: nil)
        }
        let folder = try FolderHandle.open(root: root, path: relativePath, createLast: nil, modes: modes)
        defer { folder.close() }
        let existing = try read(in: folder, relativePath, expectedHash: expectedHash)
        let current = existing.bytes
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            return try replace(in: folder, relativePath, with: try fileBytes(record, path: relativePath), keys: [record.key], existing: existing)
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: current, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == record.key }) else { throw .changedMeanwhile(relativePath) }
            let text = Array(JSONWriter.line(.object(record.object)).utf8)
            guard text.count <= maxRecordBytes else { throw .tooLarge(relativePath, size: text.count, limit: maxRecordBytes) }
            var bytes = current
            bytes.replaceSubrange(line.byteRange, with: text)
            return try replace(in: folder, relativePath, with: bytes, keys: parsed.records.map(\.record.key), existing: existing)
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
    }

    /// Removes the record: deletes a `.json` file (returns nil), or drops the line from
    /// a `.jsonl` (returns the file's new entry).
    package func remove(_ key: RecordKey, from relativePath: String, expectedHash: String?) throws(RecordWriteError) -> FileIndexEntry? {
        let folder = try FolderHandle.open(root: root, path: relativePath, createLast: nil, modes: modes)
        defer { folder.close() }
        let existing = try read(in: folder, relativePath, expectedHash: expectedHash)
        let current = existing.bytes
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            // RACE: a save between this check and the unlink would be lost; the window
            // is a syscall wide (the file was read and hashed before the check).
            guard existing.identity == FileIdentity(at: folder, relativePath) else { throw .changedMeanwhile(relativePath) }
            guard unlinkat(folder.fd, folder.name, 0) == 0 || errno == ENOENT else {
                throw .io("cannot remove \(relativePath): \(String(cString: strerror(errno)))")
            }
            fsync(folder.fd)
            return nil
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: current, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == key }) else { throw .changedMeanwhile(relativePath) }
            var bytes = current
            var end = line.byteRange.upperBound
            if end < bytes.count, bytes[end] == UInt8(ascii: "\n") { end += 1 }
            bytes.removeSubrange(line.byteRange.lowerBound..<end)
            return try replace(
                in: folder, relativePath, with: bytes, keys: parsed.records.map(\.record.key).filter { $0 != key }, existing: existing)
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
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
    private func read(in folder: FolderHandle, _ relativePath: String, expectedHash: String?) throws(RecordWriteError) -> ExistingFile {
        let fd = openat(folder.fd, folder.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw .changedMeanwhile(relativePath) }
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, let bytes = try? FileReader.read(descriptor: fd, path: relativePath) else { throw .changedMeanwhile(relativePath) }
        if let expectedHash, ContentHash.hex(bytes) != expectedHash { throw .changedMeanwhile(relativePath) }
        var after = stat()
        fstat(fd, &after)
        return ExistingFile(bytes: bytes, mode: info.st_mode, identity: FileIdentity(after))
    }

    /// Atomic replace: temp file beside it, write, fsync, then put it in place, fsync
    /// the folder. A new file is linked in (which fails if anything appeared at its
    /// name meanwhile); an existing one is renamed over only if it is still the file
    /// that was read.
    private func replace(
        in folder: FolderHandle, _ relativePath: String, with bytes: [UInt8], keys: [RecordKey], existing: ExistingFile?
    )
        throws(RecordWriteError) -> FileIndexEntry
    {
        let existingMode = existing?.mode
        let mode = modes.forFile(replacing: existingMode)
        let temporary = ".\(folder.name).accord-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = openat(folder.fd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io("cannot create a temporary file beside \(relativePath): \(String(cString: strerror(errno)))") }
        func fail(_ reason: String) -> RecordWriteError {
            Glibc.close(fd)
            unlinkat(folder.fd, temporary, 0)
            return .io(reason)
        }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw fail("cannot write \(relativePath): \(String(cString: strerror(errno)))") }
            written += count
        }
        // A replaced file keeps its bits; a new one gets the configured bits exactly
        // when the config names them, else what the umask left of the default.
        if existingMode != nil || modes.fileExact {
            guard fchmod(fd, mode) == 0 else { throw fail("cannot set the mode of \(relativePath): \(String(cString: strerror(errno)))") }
        }
        guard fsync(fd) == 0 else { throw fail("cannot flush \(relativePath) to disk: \(String(cString: strerror(errno)))") }
        var info = stat()
        fstat(fd, &info)
        Glibc.close(fd)
        if let existing {
            // RACE: a save that lands between this check and the rename is overwritten;
            // the window is a syscall wide instead of the fsync's milliseconds, and the
            // saved content was never seen by a scan, so nothing recorded is lost.
            guard existing.identity == FileIdentity(at: folder, relativePath) else {
                unlinkat(folder.fd, temporary, 0)
                throw .changedMeanwhile(relativePath)
            }
            guard renameat(folder.fd, temporary, folder.fd, folder.name) == 0 else {
                let reason = String(cString: strerror(errno))
                unlinkat(folder.fd, temporary, 0)
                throw .io("cannot replace \(relativePath): \(reason)")
            }
        } else {
            let linked = linkat(folder.fd, temporary, folder.fd, folder.name, 0)
            let code = errno
            unlinkat(folder.fd, temporary, 0)
            if linked != 0 {
                if code == EEXIST { throw .changedMeanwhile(relativePath) }
                throw .io("cannot create \(relativePath): \(String(cString: strerror(code)))")
            }
        }
        fsync(folder.fd)
        // The entry describes the file as it now stands (the rename or link moved its
        // ctime), so the next scan does not read our own write again.
        var placed = stat()
        if fstatat(folder.fd, folder.name, &placed, AT_SYMLINK_NOFOLLOW) == 0, placed.st_ino == info.st_ino { info = placed }
        return FileIndexEntry(
            path: relativePath, size: Int(info.st_size),
            modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), inode: UInt64(info.st_ino),
            changedNanos: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec), hash: ContentHash.hex(bytes), records: keys)
    }
}

/// A file as the writer read it, to check it is still that file before replacing it.
struct ExistingFile {
    var bytes: [UInt8]
    var mode: mode_t
    var identity: FileIdentity
}

/// What tells one version of a file from another without reading it: a replaced file
/// has another inode, an edited one another size or change time.
struct FileIdentity: Equatable {
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

    /// The identity of what is at `path` now (nil when nothing is).
    init?(at folder: FolderHandle, _ path: String) {
        var info = stat()
        guard fstatat(folder.fd, folder.name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        self.init(info)
    }
}

/// The folder of a root-relative path, opened component by component from the root
/// with `O_NOFOLLOW | O_DIRECTORY`, and the file's name in it.
struct FolderHandle {
    let fd: Int32
    let name: String

    /// `createLast` names the one folder that may be created if missing (a new
    /// record's `<kind>` folder directly under the root).
    static func open(root: String, path: String, createLast: String?, modes: FileModes) throws(RecordWriteError) -> FolderHandle {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !path.hasPrefix("/"), parts.count >= 1, !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw .outsideRoot(path)
        }
        var fd = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open the root \(root): \(String(cString: strerror(errno)))") }
        for (index, part) in parts.dropLast().enumerated() {
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, index == 0, part == createLast {
                guard mkdirat(fd, part, modes.folder & 0o1777) == 0 || errno == EEXIST else {
                    let reason = String(cString: strerror(errno))
                    Glibc.close(fd)
                    throw .io("cannot create \(root)/\(part): \(reason)")
                }
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if next >= 0, modes.folderExact { fchmod(next, modes.folder) }
                fsync(fd)
            }
            let code = errno
            guard next >= 0 else {
                var info = stat()
                let isLink = fstatat(fd, part, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFLNK
                Glibc.close(fd)
                let shown = parts[0...index].joined(separator: "/")
                if isLink || code == ELOOP { throw .outsideRoot(path) }
                if code == ENOTDIR { throw .io("cannot write \(path): \(shown) in the root is a file where a folder should be") }
                throw .io("cannot open the folder \(shown) in the root: \(String(cString: strerror(code)))")
            }
            Glibc.close(fd)
            fd = next
        }
        return FolderHandle(fd: fd, name: parts[parts.count - 1])
    }

    func close() {
        Glibc.close(fd)
    }
}
