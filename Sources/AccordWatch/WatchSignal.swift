/// What the watcher tells its consumer. Paths are relative to the root, with `/`.
package enum WatchSignal: Sendable, Equatable {
    /// Something at this path may have changed (a file, or a folder that appeared or went).
    case changed(String)
    /// Events were lost (queue overflow): only a full rescan can tell what changed.
    case overflow
    /// The root itself was deleted, moved or unmounted.
    case rootLost
    /// Not every folder could be watched (the inotify watch limit); the message says
    /// which limit to raise. The consumer must fall back to periodic scans.
    case limitReached(String)
}
