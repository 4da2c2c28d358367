import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// A record file found under a root, with the stat facts a scan compares against its
/// index to skip unchanged files.
package struct WalkedFile: Sendable, Hashable {
    /// Relative to the root, `/`-separated.
    package var relativePath: String
    package var size: Int
    package var modifiedNanos: Int64
    package var inode: UInt64
    /// ctime, in nanoseconds.
    package var changedNanos: Int64 = 0
}

/// Walks a root for record files, applying the ignore rules, never following symlinks
/// (a link inside the root is reached through its target; one leading out is reported).
package struct RecordTreeWalker {
    package var ignore: IgnoreRules

    package init(ignore: IgnoreRules = IgnoreRules()) {
        self.ignore = ignore
    }

    package struct Result: Sendable {
        package var files: [WalkedFile] = []
        /// Paths here are `displayRoot`-prefixed, as given by the caller.
        package var problems: [RecordProblem] = []
    }

    /// `root` is a folder; `displayRoot` is how paths are shown in problems.
    package func walk(root: String, displayRoot: String? = nil) -> Result {
        var result = Result()
        let shown = displayRoot ?? root
        guard let realRoot = realPath(root) else {
            result.problems.append(RecordProblem(path: shown, line: 1, column: 1, reason: "cannot resolve the root: \(FileReader.errnoText())"))
            return result
        }
        walkFolder(absolute: root, relative: "", realRoot: realRoot, shown: shown, into: &result)
        return result
    }

    private func walkFolder(absolute: String, relative: String, realRoot: String, shown: String, into result: inout Result) {
        guard let dir = opendir(absolute) else {
            let place = relative.isEmpty ? shown : join(shown, relative)
            result.problems.append(RecordProblem(path: place, line: 1, column: 1, reason: "cannot read folder: \(FileReader.errnoText())"))
            return
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let pointer = DirectoryEntry.name(entry)
            let (name, valid) = String(validatingCString: pointer).map { ($0, true) } ?? (String(cString: pointer), false)
            if name == "." || name == ".." { continue }
            guard valid else {
                // Not UTF-8: it cannot be opened through a String, and the hub could not name it.
                let shownPath = join(shown, relative.isEmpty ? name : relative + "/" + name)
                result.problems.append(
                    RecordProblem(path: shownPath, line: 1, column: 1, reason: "name is not valid UTF-8; rename it so it can be synced"))
                continue
            }
            names.append(name)
        }
        closedir(dir)
        for name in names.sorted() {
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            if ignore.isIgnored(childRelative) { continue }
            let childAbsolute = join(absolute, name)
            var info = stat()
            guard lstat(childAbsolute, &info) == 0 else { continue }  // vanished meanwhile
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                walkFolder(absolute: childAbsolute, relative: childRelative, realRoot: realRoot, shown: shown, into: &result)
            case S_IFREG:
                guard RecordFileFormat(path: name) != nil else { continue }
                result.files.append(
                    WalkedFile(
                        relativePath: childRelative, size: Int(info.st_size),
                        modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                        inode: UInt64(info.st_ino), changedNanos: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)))
            case S_IFLNK:
                checkSymlink(childAbsolute, relative: childRelative, name: name, realRoot: realRoot, shown: shown, into: &result)
            default:
                guard RecordFileFormat(path: name) != nil else { continue }
                result.problems.append(
                    RecordProblem(
                        path: join(shown, childRelative), line: 1, column: 1,
                        reason: "not a regular file (a device, FIFO or socket); record files must be plain files"))
            }
        }
    }

    private func checkSymlink(_ absolute: String, relative: String, name: String, realRoot: String, shown: String, into result: inout Result) {
        guard let target = realPath(absolute) else {
            if RecordFileFormat(path: name) != nil {
                result.problems.append(
                    RecordProblem(
                        path: join(shown, relative), line: 1, column: 1, reason: "broken symlink; remove it or restore its target"))
            }
            return
        }
        let rootPrefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        if target == realRoot || target.hasPrefix(rootPrefix) {
            // Inside the root: the target is walked in its own right, if it is a record
            // file that is not ignored. Otherwise the link would hide an unchecked file.
            let targetRelative = String(target.dropFirst(rootPrefix.count))
            var info = stat()
            let isFolder = stat(target, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
            if isFolder || RecordFileFormat(path: name) == nil || ignore.isRecordFile(targetRelative) { return }
            result.problems.append(
                RecordProblem(
                    path: join(shown, relative), line: 1, column: 1,
                    reason: "symlink to \(targetRelative), which is not a synced record file; replace the link with the file itself"))
            return
        }
        result.problems.append(
            RecordProblem(
                path: join(shown, relative), line: 1, column: 1,
                reason: "symlink leads outside the root (to \(target)); it is not synced: copy the file into the root instead"))
    }

    private func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
