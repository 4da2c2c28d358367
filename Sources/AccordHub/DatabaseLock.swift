#if canImport(Glibc)
    import Glibc
#endif

/// One hub per SQLite database: the hub's in-memory state (the record cache, the
/// changes feed since start) holds only if no other process commits to the file, so a
/// second hub on the same database is refused at start instead of serving a feed that
/// misses the first one's writes. An flock on `<db>.hub-lock`, released when the
/// process ends, however it ends.
final class DatabaseLock: Sendable {
    private let descriptor: Int32

    init(database path: String) throws(DatabaseLockError) {
        let lockPath = path + ".hub-lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DatabaseLockError("cannot create \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DatabaseLockError(
                "another accordhub already serves \(path) (it holds \(lockPath)); run one hub per SQLite database, or PostgreSQL for several")
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

package struct DatabaseLockError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
