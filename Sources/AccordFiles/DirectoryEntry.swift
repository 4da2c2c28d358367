#if canImport(Glibc)
    import Glibc
#endif

/// Reading `readdir` results safely.
package enum DirectoryEntry {
    /// A pointer to the entry's NUL-terminated name, in place. Copying `d_name` as a
    /// Swift tuple reads all 256 bytes, but the kernel's record may be shorter
    /// (`d_reclen`): at the end of a buffer page that read faults.
    package static func name(_ entry: UnsafeMutablePointer<dirent>) -> UnsafePointer<CChar> {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        return (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self)
    }
}
