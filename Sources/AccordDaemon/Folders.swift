import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// Creating the folders the daemon's own files live in (the state database, the
/// control socket), as `mkdir -p` would. Never used for the root: a missing root may
/// be an unmounted disk, and creating it would hide that.
enum Folders {
    /// Creates `folder` and its missing parents with `mode`; true if it exists after.
    @discardableResult
    static func create(_ folder: String, mode: mode_t = 0o750) -> Bool {
        var info = stat()
        if stat(folder, &info) == 0 { return info.st_mode & S_IFMT == S_IFDIR }
        let parent = PathFolder.of(folder)
        if parent != folder, parent != "." { create(parent, mode: mode) }
        return mkdir(folder, mode) == 0 || errno == EEXIST
    }
}
