import AccordCore
import AccordFiles
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Watches a root and every folder under it with inotify, on one thread of its own,
/// and reports record files that may have changed. New folders are watched as they
/// appear and dropped as they go; lost events and a lost root are reported so the
/// consumer rescans everything. The watcher decides nothing about records: it only
/// says where to look.
package final class InotifyWatcher: Sendable {
    package let root: String
    private let descriptor: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let state: Mutex<State>
    private let deliver: @Sendable ([WatchSignal]) -> Void

    private struct State {
        var folders: [Int32: String] = [:]
        var watches: [String: Int32] = [:]
        var ignore: IgnoreRules
        var limitReported = false
        var thread: pthread_t?
        var stopped = false
    }

    // inotify's flags, spelled out: Glibc imports them with mixed integer types.
    static let closeWrite: UInt32 = 0x0000_0008
    static let movedFrom: UInt32 = 0x0000_0040
    static let movedTo: UInt32 = 0x0000_0080
    static let create: UInt32 = 0x0000_0100
    static let delete: UInt32 = 0x0000_0200
    static let deleteSelf: UInt32 = 0x0000_0400
    static let moveSelf: UInt32 = 0x0000_0800
    static let unmount: UInt32 = 0x0000_2000
    static let overflow: UInt32 = 0x0000_4000
    static let ignored: UInt32 = 0x0000_8000
    static let onlyFolder: UInt32 = 0x0100_0000
    static let dontFollow: UInt32 = 0x0200_0000
    static let excludeUnlinked: UInt32 = 0x0400_0000
    static let isFolder: UInt32 = 0x4000_0000
    static let folderMask =
        closeWrite | movedFrom | movedTo | create | delete | deleteSelf | moveSelf | onlyFolder | dontFollow | excludeUnlinked

    /// Opens the inotify instance; nothing is watched until `start`.
    package init(root: String, ignore: IgnoreRules, deliver: @escaping @Sendable ([WatchSignal]) -> Void) throws(WatchError) {
        self.root = root
        self.deliver = deliver
        descriptor = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard descriptor >= 0 else {
            throw WatchError("cannot start inotify: \(String(cString: strerror(errno))); raise fs.inotify.max_user_instances")
        }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            close(descriptor)
            throw WatchError("cannot create the watcher's wake-up pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        state = Mutex(State(ignore: ignore))
    }

    deinit {
        close(descriptor)
        close(wakeRead)
        close(wakeWrite)
    }

    /// Watches the root and every folder under it, then reads events on a new thread.
    package func start() {
        let signals = watchTree("")
        if !signals.isEmpty { deliver(signals) }
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { context in
                let watcher = Unmanaged<InotifyWatcher>.fromOpaque(context!).takeRetainedValue()
                watcher.readLoop()
                return nil
            }, context)
        precondition(created == 0, "cannot start the watcher thread: \(created)")
        state.withLock { $0.thread = handle }
    }

    /// Stops the thread and waits for it.
    package func stop() {
        let thread = state.withLock { state -> pthread_t? in
            state.stopped = true
            defer { state.thread = nil }
            return state.thread
        }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        if let thread { pthread_join(thread, nil) }
    }

    /// New ignore globs (a config reload).
    package func setIgnore(_ ignore: IgnoreRules) {
        state.withLock { $0.ignore = ignore }
    }

    /// How many folders are watched.
    package var watchCount: Int { state.withLock { $0.watches.count } }

    /// Whether the root itself is watched (false after it was lost, until `rewatch`).
    package var isWatchingRoot: Bool { state.withLock { $0.watches[""] != nil } }

    /// Drops every watch and watches the tree again: after the root came back, or to
    /// retry folders that hit the watch limit.
    package func rewatch() {
        state.withLock { state in
            for descriptor in state.folders.keys { inotify_rm_watch(self.descriptor, descriptor) }
            state.folders.removeAll()
            state.watches.removeAll()
            state.limitReported = false
        }
        let signals = watchTree("")
        if !signals.isEmpty { deliver(signals) }
    }

    // MARK: Watches

    /// Watches `relative` (a folder, "" for the root) and the folders under it.
    private func watchTree(_ relative: String) -> [WatchSignal] {
        var signals: [WatchSignal] = []
        var stack = [relative]
        while let folder = stack.popLast() {
            let absolute = folder.isEmpty ? root : root + "/" + folder
            let added = inotify_add_watch(descriptor, absolute, Self.folderMask)
            if added < 0 {
                let code = errno
                if code == ENOSPC {
                    let first = state.withLock { state -> Bool in
                        defer { state.limitReported = true }
                        return !state.limitReported
                    }
                    if first {
                        signals.append(
                            .limitReached(
                                "the inotify watch limit is reached at \(absolute); raise fs.inotify.max_user_watches (sysctl -w fs.inotify.max_user_watches=524288); until then changes are found by periodic scans"
                            ))
                    }
                    return signals
                }
                if folder.isEmpty { signals.append(.rootLost) }
                continue  // vanished meanwhile, or not a folder
            }
            state.withLock { state in
                state.folders[added] = folder
                state.watches[folder] = added
            }
            let ignore = state.withLock { $0.ignore }
            guard let handle = opendir(absolute) else { continue }
            while let entry = readdir(handle) {
                guard Int32(entry.pointee.d_type) == Int32(DT_DIR) else { continue }
                guard let name = String(validatingCString: DirectoryEntry.name(entry)), name != ".", name != ".." else { continue }
                let child = folder.isEmpty ? name : folder + "/" + name
                if !ignore.isIgnored(child) { stack.append(child) }
            }
            closedir(handle)
        }
        return signals
    }

    /// Forgets a folder and every folder under it (it was moved out or deleted).
    private func unwatchTree(_ relative: String) {
        state.withLock { state in
            let prefix = relative + "/"
            for (folder, descriptor) in state.watches where folder == relative || folder.hasPrefix(prefix) {
                inotify_rm_watch(self.descriptor, descriptor)
                state.watches[folder] = nil
                state.folders[descriptor] = nil
            }
        }
    }

    // MARK: Reading

    private func readLoop() {
        let bufferSize = 256 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var polled = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !state.withLock({ $0.stopped }) {
            let ready = poll(&polled, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if polled[1].revents != 0 { return }
            var signals: [WatchSignal] = []
            while true {
                let count = read(descriptor, buffer, bufferSize)
                if count <= 0 { break }
                decode(buffer, count: count, into: &signals)
            }
            if !signals.isEmpty { deliver(signals) }
        }
    }

    func decode(_ buffer: UnsafeMutableRawPointer, count: Int, into signals: inout [WatchSignal]) {
        var offset = 0
        while offset + 16 <= count {
            let watch = buffer.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let length = Int(buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            // The name is not imported into Swift's `inotify_event`: it follows the
            // 16-byte header, NUL-padded to `len`.
            let name = length > 0 ? String(validatingCString: (buffer + offset + 16).assumingMemoryBound(to: CChar.self)) : ""
            offset += 16 + length
            handle(watch: watch, mask: mask, name: name, into: &signals)
        }
    }

    private func handle(watch: Int32, mask: UInt32, name: String?, into signals: inout [WatchSignal]) {
        if mask & Self.overflow != 0 {
            signals.append(.overflow)
            return
        }
        guard let folder = state.withLock({ $0.folders[watch] }) else { return }
        if mask & (Self.deleteSelf | Self.moveSelf | Self.unmount | Self.ignored) != 0 {
            if folder.isEmpty {
                unwatchTree("")
                signals.append(.rootLost)
            } else if mask & Self.ignored != 0 {
                state.withLock { state in
                    state.folders[watch] = nil
                    if state.watches[folder] == watch { state.watches[folder] = nil }
                }
            }
            return
        }
        guard let name, !name.isEmpty else { return }  // a name that is not UTF-8 cannot be synced; the scan reports it
        let path = folder.isEmpty ? name : folder + "/" + name
        let ignore = state.withLock { $0.ignore }
        if ignore.isIgnored(path) { return }
        if mask & Self.isFolder != 0 {
            if mask & (Self.movedFrom | Self.delete) != 0 { unwatchTree(path) }
            if mask & (Self.create | Self.movedTo) != 0 { signals += watchTree(path) }
            signals.append(.changed(path))
            return
        }
        guard RecordFileFormat(path: name) != nil else { return }
        if mask & Self.create != 0 {
            // A new file is read once it is closed after writing; only a symlink, which
            // is never written, counts on creation.
            var info = stat()
            guard lstat(root + "/" + path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return }
        }
        signals.append(.changed(path))
    }
}

package struct WatchError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
