import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordHub

#if canImport(Glibc)
    import Glibc
#endif

/// `accordhub copy --from` a source it cannot use is refused in one line before any
/// database is touched (the URL here names no server at all).
@Suite struct CopySourceTests {
    static let unusedURL = "postgres://accord@127.0.0.1:1/accord?sslmode=disable"

    @Test func aFolderIsNotAHubFile() throws {
        let folder = try TemporaryFolder()
        let run = try ProgramRun.run(try BuiltProducts.path(of: "accordhub"), ["copy", "--from", folder.path, "--to", Self.unusedURL])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr == "accordhub: copy --from \(folder.path): not a regular file; give the SQLite hub's db file\n", "\(run.stderr)")
    }

    /// A backup on read-only storage: the copy would fail part-way at the hub's lock
    /// file. Needs root to run the copy as another user (CI runs as root).
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func aFolderItCannotWriteInIsSaidAtOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accord-copy-readonly-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/hub.db"
        try HubMigrations.migrator.migrate(try DatabaseQueue(path: path))
        #expect(chmod(path, 0o644) == 0)
        let run = try ProgramRun.run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", try BuiltProducts.path(of: "accordhub"), "copy", "--from", path, "--to", Self.unusedURL])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("accordhub: copy --from \(path): \(folder) is not writable"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: path + ".hub-lock"))
    }

    /// The files are opened and checked before PostgreSQL is: a named dataset's file
    /// that is no hub's is refused in its own words, not as a server that cannot be
    /// reached (the URL names none), and nothing was migrated anywhere.
    @Test func everySourceIsCheckedBeforeTheServer() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("hub.db")
        try HubMigrations.migrator.migrate(try DatabaseQueue(path: path))
        try FileManager.default.createDirectory(atPath: DatasetFiles.folder(db: path), withIntermediateDirectories: true)
        try DatabaseQueue(path: DatasetFiles.path(db: path, dataset: "hns")).write { db in try db.execute(sql: "CREATE TABLE notes (x)") }
        let run = try ProgramRun.run(try BuiltProducts.path(of: "accordhub"), ["copy", "--from", path, "--to", Self.unusedURL])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("hns.db is not an accordhub database") && !run.stderr.contains("127.0.0.1:1"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }
}
