import CLinux

#if canImport(Glibc)
    import Glibc
#endif

/// The folders of the root that one write or one page of writes touches, each opened
/// once from the root, component by component, with `O_NOFOLLOW | O_DIRECTORY`: a
/// folder swapped for a symlink at any moment makes the write fail; it can never lead
/// it out of the root. Kept open until `close`, so a whole page shares one descriptor
/// per folder and one fsync per folder.
package final class FolderCache {
    let root: String
    let modes: FileModes
    private var rootFD: Int32 = -1
    private var folders: [String: Int32] = [:]

    package init(root: String, modes: FileModes) {
        self.root = root
        self.modes = modes
    }

    deinit { close() }

    /// The folder holding root-relative `path`, and the file's name in it.
    /// `createLast` names the one folder that may be created if missing (a new
    /// record's `<kind>` folder directly under the root).
    func open(_ path: String, createLast: String?) throws(RecordWriteError) -> (folder: Int32, name: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !path.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw .outsideRoot(path)
        }
        let folderPath = parts.dropLast().joined(separator: "/")
        if let cached = folders[folderPath] { return (cached, parts[parts.count - 1]) }
        if rootFD < 0 {
            rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else { throw .io("cannot open the root \(root): \(String(cString: strerror(errno)))") }
        }
        var fd = dup(rootFD)
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
        folders[folderPath] = fd
        return (fd, parts[parts.count - 1])
    }

    /// Makes the data of every file staged without fsync durable: one syncfs per file
    /// system the folders are on, instead of one fsync per file.
    func flush() {
        var devices: Set<UInt64> = []
        for fd in folders.values {
            var info = stat()
            guard fstat(fd, &info) == 0, devices.insert(UInt64(info.st_dev)).inserted else { continue }
            if accord_syncfs(fd) != 0 { sync() }
        }
    }

    /// Makes every rename, link and removal in these folders durable: one fsync each.
    func syncAll() {
        for fd in folders.values { fsync(fd) }
    }

    func close() {
        for fd in folders.values { Glibc.close(fd) }
        folders = [:]
        if rootFD >= 0 { Glibc.close(rootFD) }
        rootFD = -1
    }
}
