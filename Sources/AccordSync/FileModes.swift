#if canImport(Glibc)
    import Glibc
#endif

/// The permission bits of files and folders the daemon creates in the root
/// (CONTRACT 8.6 `file_mode`, `dir_mode`).
///
/// Modes the config names are applied exactly (with `fchmod`, so the umask does not
/// cut them). Without them the daemon asks for `0666`/`0777`, as `cp` or an editor
/// does, and lets the process umask (the unit's `UMask=`) or the folder's default ACL
/// decide: `0644`/`0755` under the usual umask 022, `0664`/`0775` under 002, and what a
/// default ACL grants the group (asking for less would cap the ACL's mask). Folders
/// made inside a setgid folder inherit its setgid bit and group from the kernel.
package struct FileModes: Sendable, Equatable {
    package var file: mode_t
    package var folder: mode_t
    /// Set from the config: applied as given, whatever the umask.
    package var fileExact: Bool
    package var folderExact: Bool

    package init(file: mode_t = 0o666, folder: mode_t = 0o777, fileExact: Bool = false, folderExact: Bool = false) {
        self.file = file
        self.folder = folder
        self.fileExact = fileExact
        self.folderExact = folderExact
    }

    /// The modes from the config's `file_mode`/`dir_mode` (nil: not set).
    package static func resolve(fileMode: mode_t?, dirMode: mode_t?) -> FileModes {
        FileModes(file: fileMode ?? 0o666, folder: dirMode ?? 0o777, fileExact: fileMode != nil, folderExact: dirMode != nil)
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
