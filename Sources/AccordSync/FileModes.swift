#if canImport(Glibc)
    import Glibc
#endif

/// The permission bits of files and folders the daemon creates in the root
/// (CONTRACT 8.6 `file_mode`, `dir_mode`).
///
/// Modes the config names are applied exactly (with `fchmod`, so the umask does not
/// cut them): that is how a group folder gets `0664`/`2775` under a service's strict
/// umask. Without them the defaults are `0644`/`0755`, or `0664`/`2775` when the root
/// is setgid (a folder set up for a group), and the process umask applies as it does
/// to any program.
package struct FileModes: Sendable, Equatable {
    package var file: mode_t
    package var folder: mode_t
    /// Set from the config: applied as given, whatever the umask.
    package var fileExact: Bool
    package var folderExact: Bool

    package init(file: mode_t = 0o644, folder: mode_t = 0o755, fileExact: Bool = false, folderExact: Bool = false) {
        self.file = file
        self.folder = folder
        self.fileExact = fileExact
        self.folderExact = folderExact
    }

    /// The modes for `root` from the config's `file_mode`/`dir_mode` (nil: not set).
    package static func resolve(fileMode: mode_t?, dirMode: mode_t?, root: String) -> FileModes {
        var info = stat()
        let groupFolder = stat(root, &info) == 0 && info.st_mode & S_ISGID != 0
        let file = fileMode ?? (groupFolder ? 0o664 : 0o644)
        let folder = dirMode ?? (groupFolder ? 0o2775 : 0o755)
        return FileModes(file: file, folder: folder, fileExact: fileMode != nil, folderExact: dirMode != nil)
    }

    /// `"0664"` → 0o664; nil unless it is 3 or 4 octal digits.
    package static func parse(_ text: String) -> mode_t? {
        guard (3...4).contains(text.count), text.allSatisfy({ ("0"..."7").contains($0) }), let value = mode_t(text, radix: 8) else { return nil }
        return value
    }

    /// The mode for a file that replaces `existing` (nil: a new file). A replaced file
    /// keeps its permission bits, never its setuid, setgid or sticky bits, and gains
    /// the configured ones, so a group member can still edit what a pull rewrote.
    func forFile(replacing existing: mode_t?) -> mode_t {
        guard let existing else { return file & 0o777 }
        let kept = existing & 0o777
        return fileExact ? kept | (file & 0o777) : kept
    }
}
