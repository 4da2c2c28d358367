/// Which paths under the root are not records (CONTRACT section 2): dot-files and
/// dot-folders, editor temporaries, and the config's `ignore` globs.
package struct IgnoreRules: Sendable {
    package var globs: [Glob]

    package init(globs: [String] = []) {
        self.globs = globs.map(Glob.init)
    }

    /// `relativePath` uses `/`, no leading slash; checks every segment, so a file inside
    /// a dot-folder is ignored too.
    package func isIgnored(_ relativePath: String) -> Bool {
        for segment in relativePath.split(separator: "/") where Self.isHiddenOrTemporary(segment) {
            return true
        }
        return globs.contains { $0.matches(relativePath) }
    }

    /// Whether a file of this name could hold records (not ignored, `.json` or `.jsonl`).
    package func isRecordFile(_ relativePath: String) -> Bool {
        RecordFileFormat(path: relativePath) != nil && !isIgnored(relativePath)
    }

    static func isHiddenOrTemporary(_ name: Substring) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".tmp")
            || (name.count >= 2 && name.hasPrefix("#") && name.hasSuffix("#"))
    }
}
