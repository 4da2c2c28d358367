import AccordTestSupport
import Foundation
import GRDB
import Testing

@testable import AccordHub

/// `accordhub copy --from` a file that is not a hub's database (a daemon's state
/// file, say) is refused with a line that says so, and the file is left as it was:
/// no hub tables written into it, no lock file beside it.
@Suite struct SQLiteHubExportTests {
    @Test func aFileThatIsNotAHubsIsRefusedAndLeftAlone() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("state.db")
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "CREATE TABLE files (path TEXT PRIMARY KEY)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: NotAHubDatabaseError.self) { try SQLiteHubExport(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + ".hub-lock"))
    }

    @Test func aFileThatIsNotSQLiteIsRefusedInWords() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write("notes.txt", String(repeating: "agreements to copy\n", count: 100))
        let error = #expect(throws: NotAHubDatabaseError.self) { try SQLiteHubExport(path: path) }
        #expect(error?.description == "\(path) is not an accordhub database (not a SQLite file); give the hub's db file, as in its config")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == String(repeating: "agreements to copy\n", count: 100))
    }

    @Test func aCutShortHubFileIsRefusedInWords() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("hub.db")
        try HubMigrations.migrator.migrate(try DatabaseQueue(path: path))
        // The first page only: the schema is there, the tables' pages are not.
        #expect(truncate(path, 4096) == 0)
        let error = #expect(throws: DamagedDatabaseError.self) { try SQLiteHubExport(path: path) }
        #expect(error?.description == "\(path) is damaged or cut short (SQLite finds it malformed); copy from an intact backup of the hub's db file")
    }

    @Test func aHubsDatabaseIsRead() throws {
        let folder = try TemporaryFolder()
        let path = folder.child("hub.db")
        try HubMigrations.migrator.migrate(try DatabaseQueue(path: path))
        #expect(try SQLiteHubExport(path: path).lastSeq() == 0)
    }
}
