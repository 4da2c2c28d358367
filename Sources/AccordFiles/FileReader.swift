#if canImport(Glibc)
    import Glibc
#endif

/// Why a file could not be read, in words a user can act on.
package struct FileReadError: Error, Sendable, CustomStringConvertible {
    package var path: String
    package var reason: String
    /// Set when the file was refused for its size (in bytes), so callers can name their limit.
    package var tooLargeSize: Int? = nil

    package var description: String { "\(path): \(reason)" }
}

/// Reads whole files with plain syscalls: no Foundation bridging on the hot path of a
/// scan, and a refusal to open anything but a regular file (a FIFO named `x.json` must
/// not hang the daemon).
package enum FileReader {
    package static func readRegularFile(_ path: String, maxBytes: Int = Int.max) throws(FileReadError) -> [UInt8] {
        var before = stat()
        guard stat(path, &before) == 0 else {
            let code = errno
            var link = stat()
            if code == ENOENT, lstat(path, &link) == 0 {
                throw FileReadError(path: path, reason: "broken symlink; remove it or restore its target")
            }
            if code == ELOOP { throw FileReadError(path: path, reason: "symlink loop; remove the link") }
            throw FileReadError(path: path, reason: "cannot open: \(errnoText(code))")
        }
        guard before.st_mode & S_IFMT == S_IFREG else {
            throw FileReadError(path: path, reason: "not a regular file (\(kindName(before.st_mode))); record files must be plain files")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw FileReadError(path: path, reason: "cannot open: \(errnoText())") }
        defer { close(fd) }
        return try read(descriptor: fd, path: path, maxBytes: maxBytes)
    }

    /// Reads the whole of an open file (`path` only names it in errors); refuses
    /// anything but a regular file.
    package static func read(descriptor fd: Int32, path: String, maxBytes: Int = Int.max) throws(FileReadError) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileReadError(path: path, reason: "cannot stat: \(errnoText())") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileReadError(path: path, reason: "not a regular file; record files must be plain files")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw FileReadError(path: path, reason: "file is \(size) bytes, over the limit of \(maxBytes)", tooLargeSize: size)
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let got = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + filled, size - filled)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw FileReadError(path: path, reason: "cannot read: \(errnoText())")
            }
            if got == 0 { break }  // shrank while reading: take what is there
            filled += got
        }
        if filled < size { bytes.removeSubrange(filled...) }
        // Grew while reading: read the rest too, so a record is never cut short.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if got < 0, errno == EINTR { continue }
            if got <= 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
            guard bytes.count <= maxBytes else {
                throw FileReadError(path: path, reason: "file grew past the limit of \(maxBytes) bytes while being read", tooLargeSize: bytes.count)
            }
        }
        return bytes
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFLNK: "a symlink"
        default: "not a plain file"
        }
    }

    static func errnoText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }
}
