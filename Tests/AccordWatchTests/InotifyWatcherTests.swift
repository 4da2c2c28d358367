import AccordCore
import AccordTestSupport
import Foundation
import Synchronization
import Testing

@testable import AccordWatch

/// Collects what a watcher reports, and waits for what a test expects.
final class Collected: Sendable {
    let signals = Mutex<[WatchSignal]>([])

    func add(_ batch: [WatchSignal]) { signals.withLock { $0 += batch } }

    var paths: Set<String> {
        Set(
            signals.withLock { list in
                list.compactMap { if case .changed(let path) = $0 { path } else { nil } }
            })
    }

    func clear() { signals.withLock { $0.removeAll() } }

    /// Polls until `condition` holds, for at most `timeout` seconds.
    func wait(timeout: Double = 5, _ condition: (Collected) -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if condition(self) { return true }
            usleep(2000)
        }
        return condition(self)
    }
}

/// The watcher against a real folder and the real kernel.
@Suite struct InotifyWatcherTests {
    func start(_ folder: TemporaryFolder, ignore: IgnoreRules = IgnoreRules()) throws -> (InotifyWatcher, Collected) {
        let collected = Collected()
        let watcher = try InotifyWatcher(root: folder.path, ignore: ignore) { collected.add($0) }
        watcher.start()
        return (watcher, collected)
    }

    @Test func aSavedFileIsReported() throws {
        let folder = try TemporaryFolder()
        let (watcher, collected) = try start(folder)
        defer { watcher.stop() }
        try folder.write("a.json", "{}")
        #expect(collected.wait { $0.paths.contains("a.json") })
    }

    @Test func foldersCreatedAfterStartAreWatched() throws {
        let folder = try TemporaryFolder()
        let (watcher, collected) = try start(folder)
        defer { watcher.stop() }
        try FileManager.default.createDirectory(atPath: folder.child("x/y/z"), withIntermediateDirectories: true)
        #expect(collected.wait { _ in watcher.watchCount == 4 })
        try folder.write("x/y/z/deep.json", "{}")
        #expect(collected.wait { $0.paths.contains("x/y/z/deep.json") })
        // A new folder is reported itself too, so files made before its watch are found.
        #expect(collected.paths.contains("x"))
    }

    @Test func renamesIntoAndOutOfTheRoot() throws {
        let folder = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.child("inner"), withIntermediateDirectories: true)
        let (watcher, collected) = try start(folder)
        defer { watcher.stop() }
        try outside.write("in.json", "{}")
        try FileManager.default.moveItem(atPath: outside.child("in.json"), toPath: folder.child("in.json"))
        #expect(collected.wait { $0.paths.contains("in.json") })
        collected.clear()
        try FileManager.default.moveItem(atPath: folder.child("in.json"), toPath: outside.child("out.json"))
        #expect(collected.wait { $0.paths.contains("in.json") })
        // A folder moved out is no longer watched: changes inside it are not ours.
        try FileManager.default.moveItem(atPath: folder.child("inner"), toPath: outside.child("inner"))
        // The folder's watches go first, then its move is reported: wait for both.
        #expect(collected.wait { $0.paths.contains("inner") && watcher.watchCount == 1 })
        collected.clear()
        try outside.write("inner/late.json", "{}")
        // A barrier, not a sleep: events arrive in order, so once a file written after
        // it is reported, an event for late.json would have come before.
        try folder.write("barrier.json", "{}")
        #expect(collected.wait { $0.paths.contains("barrier.json") })
        #expect(collected.paths == ["barrier.json"])
    }

    @Test func anEditorStyleSaveIsOneChangeOfTheRealFile() throws {
        let folder = try TemporaryFolder()
        try folder.write("doc.json", "{}")
        let (watcher, collected) = try start(folder)
        defer { watcher.stop() }
        // vim-like: write a swap/temp file, then rename it over the original.
        try folder.write(".doc.json.swp", "x")
        try folder.write("doc.json.tmp", "{\"a\": 1}")
        try FileManager.default.removeItem(atPath: folder.child("doc.json"))
        try FileManager.default.moveItem(atPath: folder.child("doc.json.tmp"), toPath: folder.child("doc.json"))
        #expect(collected.wait { $0.paths.contains("doc.json") })
        try folder.write("barrier.json", "{}")
        #expect(collected.wait { $0.paths.contains("barrier.json") })
        #expect(collected.paths == ["doc.json", "barrier.json"])
    }

    @Test func tenThousandFilesAtOnceAreAllReportedOrOverflow() throws {
        let folder = try TemporaryFolder()
        let (watcher, collected) = try start(folder)
        defer { watcher.stop() }
        for index in 0..<10_000 {
            #expect(FileManager.default.createFile(atPath: folder.child("r\(index).json"), contents: Data("{}".utf8)))
        }
        // Either every file is named, or the queue overflowed and a full rescan is asked
        // for: never a silent loss.
        #expect(
            collected.wait(timeout: 20) { collected in
                collected.paths.count == 10_000 || collected.signals.withLock { $0.contains(.overflow) }
            })
    }

    @Test func anOverflowEventBecomesAnOverflowSignal() throws {
        let folder = try TemporaryFolder()
        let (watcher, _) = try start(folder)
        defer { watcher.stop() }
        // The kernel's IN_Q_OVERFLOW record: wd -1, mask 0x4000, no name.
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: Int32(-1).littleEndian) { for (index, byte) in $0.enumerated() { bytes[index] = byte } }
        withUnsafeBytes(of: UInt32(0x4000).littleEndian) { for (index, byte) in $0.enumerated() { bytes[4 + index] = byte } }
        var signals: [WatchSignal] = []
        bytes.withUnsafeMutableBytes { watcher.decode($0.baseAddress!, count: 16, into: &signals) }
        #expect(signals == [.overflow])
    }

    @Test func ignoredPathsAreNotReported() throws {
        let folder = try TemporaryFolder()
        let (watcher, collected) = try start(folder, ignore: IgnoreRules(globs: ["drafts/**"]))
        defer { watcher.stop() }
        try folder.write(".hidden.json", "{}")
        try folder.write("notes.txt", "x")
        try folder.write("drafts/d.json", "{}")
        try folder.write("kept.json", "{}")
        #expect(collected.wait { $0.paths.contains("kept.json") })
        try folder.write("barrier.json", "{}")
        #expect(collected.wait { $0.paths.contains("barrier.json") })
        #expect(!collected.paths.contains(".hidden.json") && !collected.paths.contains("notes.txt") && !collected.paths.contains("drafts/d.json"))
    }

    @Test func losingTheRootIsReported() throws {
        let parent = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: parent.child("root"), withIntermediateDirectories: true)
        let collected = Collected()
        let watcher = try InotifyWatcher(root: parent.child("root"), ignore: IgnoreRules()) { collected.add($0) }
        watcher.start()
        defer { watcher.stop() }
        try FileManager.default.moveItem(atPath: parent.child("root"), toPath: parent.child("gone"))
        #expect(collected.wait { $0.signals.withLock { $0.contains(.rootLost) } })
        #expect(!watcher.isWatchingRoot)
        try FileManager.default.moveItem(atPath: parent.child("gone"), toPath: parent.child("root"))
        watcher.rewatch()
        #expect(watcher.isWatchingRoot)
    }
}
