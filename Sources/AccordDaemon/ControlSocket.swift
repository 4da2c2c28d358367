import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// Claims the control socket's path so that nobody can connect before its mode is
/// 0660 and no second daemon can steal a live socket: a `flock` beside the path tells
/// a live owner (stop) from a stale socket left by a crash (replace). The server binds
/// in a private 0700 folder; `publish` sets the mode and renames it into place.
struct ControlSocket: Sendable {
    let path: String
    let privatePath: String
    let lock: StateLock

    struct Failure: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    static let maxPathBytes = 107

    init(path: String) throws(Failure) {
        self.path = path
        guard path.utf8.count <= Self.maxPathBytes else {
            throw Failure(
                description: "control.socket \(path) is longer than \(Self.maxPathBytes) bytes, the limit of a Unix socket path; choose a shorter one")
        }
        let folder = PathFolder.of(path)
        var info = stat()
        guard Folders.create(folder) else {
            throw Failure(
                description: "cannot create the control socket's folder \(folder): \(String(cString: strerror(errno))); create it or set control.socket")
        }
        do {
            lock = try StateLock(path: path + ".lock", what: "the control socket \(path)")
        } catch {
            throw Failure(description: error.description)
        }
        // We hold the lock: whatever is at the path is a stale socket from a crash.
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else {
                throw Failure(description: "\(path) exists and is not a socket; remove it or set control.socket")
            }
            unlink(path)
        }
        let hidden = folder + "/.accordd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(hidden, 0o700) == 0 else {
            throw Failure(description: "cannot create a private folder in \(folder): \(String(cString: strerror(errno)))")
        }
        privatePath = hidden + "/control.sock"
        guard privatePath.utf8.count <= Self.maxPathBytes else {
            rmdir(hidden)
            throw Failure(description: "the control socket's folder \(folder) has too long a path for a Unix socket; choose a shorter control.socket")
        }
    }

    /// Called once the server listens on `privatePath`.
    func publish() throws(Failure) {
        guard chmod(privatePath, 0o660) == 0, rename(privatePath, path) == 0 else {
            throw Failure(description: "cannot put the control socket at \(path): \(String(cString: strerror(errno)))")
        }
        rmdir(String(privatePath.dropLast("/control.sock".count)))
    }

    func remove() {
        unlink(path)
        unlink(privatePath)
        rmdir(String(privatePath.dropLast("/control.sock".count)))
    }
}
