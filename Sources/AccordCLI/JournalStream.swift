#if canImport(Glibc)
    import Glibc
#endif

/// Whether a descriptor is connected to systemd's journal: systemd names the stream it
/// gives a service in `JOURNAL_STREAM` ("device:inode"), so a program can tell the
/// journal (which wants `<N>` priority prefixes and adds its own time) from a terminal.
package enum JournalStream {
    package static func isConnected(_ descriptor: Int32) -> Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
