import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive `flock` on a file beside a resource, held for the life of the process,
/// so a second daemon on the same state database (or control socket) stops at start
/// instead of corrupting the first one's work. The kernel drops it when we die, so a
/// crash never leaves a stale lock behind.
package final class StateLock: Sendable {
    package let path: String
    private let descriptor: Int32

    package struct Busy: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// - Parameter what: how the resource is named in the message.
    package init(path: String, what: String) throws(Busy) {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw Busy(description: "cannot create the lock file \(path): \(String(cString: strerror(errno))); check that the folder exists and is writable")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = read(descriptor, &buffer, buffer.count)
            close(descriptor)
            let holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimming(" \n") : ""
            if code == EWOULDBLOCK {
                throw Busy(
                    description: "another accordd (pid \(holder.isEmpty ? "unknown" : holder)) is already using \(what); stop it first or give this one its own"
                )
            }
            throw Busy(description: "cannot lock \(path): \(String(cString: strerror(code)))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
