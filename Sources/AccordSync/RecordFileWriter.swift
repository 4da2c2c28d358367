import AccordCore
import AccordFiles
import AccordStore

#if canImport(Glibc)
    import Glibc
#endif

/// Why a record could not be written to the root. Nothing was changed on disk.
public enum RecordWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file changed since it was read: re-scan and merge instead of overwriting.
    case changedMeanwhile(String)
    /// The path would leave the root (a `..`, an absolute path, a symlinked folder).
    case outsideRoot(String)
    case io(String)

    public var description: String {
        switch self {
        case .changedMeanwhile(let path): "\(path) changed while being synced; it will be merged on the next scan"
        case .outsideRoot(let path): "refusing to write \(path): it is outside the root"
        case .io(let reason): reason
        }
    }
}

/// Writes records into the root the way the contract asks: atomically (a temp file in
/// the same folder, fsync, rename, fsync of the folder), in the house style, a
/// `.jsonl` line replaced in place, never over a file that changed since it was
/// read, never outside the root. Returns the file's new index entry, so the daemon
/// does not take its own write for a local change.
public struct RecordFileWriter: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// Writes `record` into the file that holds it (`relativePath`), or into
    /// `<kind>/<id>.json` when it has no home yet. `expectedHash` is the content hash
    /// the caller last saw for that file.
    public func write(_ record: Record, in relativePath: String?, expectedHash: String?) throws(RecordWriteError) -> FileIndexEntry {
        guard let relativePath else {
            let path = "\(record.key.kind)/\(record.key.id).json"
            try ensureFolder(record.key.kind)
            let full = try absolute(path)
            var info = stat()
            if lstat(full, &info) == 0 { throw .changedMeanwhile(path) }  // someone put a file there meanwhile
            return try replace(path, with: Array(JSONWriter.pretty(.object(record.object)).utf8), keys: [record.key])
        }
        let current = try read(relativePath, expectedHash: expectedHash)
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            return try replace(relativePath, with: Array(JSONWriter.pretty(.object(record.object)).utf8), keys: [record.key])
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: current, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == record.key }) else { throw .changedMeanwhile(relativePath) }
            var bytes = current
            bytes.replaceSubrange(line.byteRange, with: Array(JSONWriter.line(.object(record.object)).utf8))
            return try replace(relativePath, with: bytes, keys: parsed.records.map(\.record.key))
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
    }

    /// Removes the record: deletes a `.json` file (returns nil), or drops the line from
    /// a `.jsonl` (returns the file's new entry).
    public func remove(_ key: RecordKey, from relativePath: String, expectedHash: String?) throws(RecordWriteError) -> FileIndexEntry? {
        let current = try read(relativePath, expectedHash: expectedHash)
        switch RecordFileFormat(path: relativePath) {
        case .json?:
            let full = try absolute(relativePath)
            guard unlink(full) == 0 || errno == ENOENT else { throw .io("cannot remove \(relativePath): \(String(cString: strerror(errno)))") }
            syncFolder(of: full)
            return nil
        case .jsonl?:
            let parsed = RecordFileParser.parse(path: relativePath, bytes: current, format: .jsonl)
            guard let line = parsed.records.first(where: { $0.record.key == key }) else { throw .changedMeanwhile(relativePath) }
            var bytes = current
            var end = line.byteRange.upperBound
            if end < bytes.count, bytes[end] == UInt8(ascii: "\n") { end += 1 }
            bytes.removeSubrange(line.byteRange.lowerBound..<end)
            return try replace(relativePath, with: bytes, keys: parsed.records.map(\.record.key).filter { $0 != key })
        case nil:
            throw .io("\(relativePath) is not a record file")
        }
    }

    // MARK: Plumbing

    private func read(_ relativePath: String, expectedHash: String?) throws(RecordWriteError) -> [UInt8] {
        let full = try absolute(relativePath)
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(full)
        } catch {
            throw .changedMeanwhile(relativePath)
        }
        if let expectedHash, SHA256.hex(bytes) != expectedHash { throw .changedMeanwhile(relativePath) }
        return bytes
    }

    /// The absolute path, after checking it stays inside the root.
    private func absolute(_ relativePath: String) throws(RecordWriteError) -> String {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !relativePath.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw .outsideRoot(relativePath)
        }
        let full = root + "/" + relativePath
        // The folder must resolve inside the root: a symlinked folder could lead out.
        let folder = String(full[..<(full.lastIndex(of: "/") ?? full.endIndex)])
        guard let realRoot = realPath(root), let realFolder = realPath(folder),
            realFolder == realRoot || realFolder.hasPrefix(realRoot + "/")
        else { throw .outsideRoot(relativePath) }
        return full
    }

    private func ensureFolder(_ name: String) throws(RecordWriteError) {
        guard RecordKey.isValidKind(name) else { throw .outsideRoot(name) }
        let full = root + "/" + name
        if mkdir(full, 0o755) != 0, errno != EEXIST { throw .io("cannot create \(full): \(String(cString: strerror(errno)))") }
    }

    /// Atomic replace: temp file beside it, write, fsync, rename over, fsync the folder.
    private func replace(_ relativePath: String, with bytes: [UInt8], keys: [RecordKey]) throws(RecordWriteError) -> FileIndexEntry {
        let full = try absolute(relativePath)
        let folder = String(full[..<full.lastIndex(of: "/")!])
        let name = String(full[full.index(after: full.lastIndex(of: "/")!)...])
        var existing = stat()
        let mode: mode_t = stat(full, &existing) == 0 ? existing.st_mode & 0o7777 : 0o644
        let temporary = folder + "/.\(name).accord-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io("cannot create a temporary file in \(folder): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw .io("cannot write \(relativePath): \(reason)")
            }
            written += count
        }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else {
            close(fd)
            unlink(temporary)
            throw .io("cannot flush \(relativePath) to disk")
        }
        close(fd)
        guard rename(temporary, full) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .io("cannot replace \(relativePath): \(reason)")
        }
        syncFolder(of: full)
        var info = stat()
        stat(full, &info)
        return FileIndexEntry(
            path: relativePath, size: Int(info.st_size),
            modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec), inode: UInt64(info.st_ino),
            hash: SHA256.hex(bytes), records: keys)
    }

    private func syncFolder(of path: String) {
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
