import AccordTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL that cannot be used stops `accordhub migrate` (and serving, and copy)
/// at once with one line in the server's words, not after the pool's minute of quiet
/// retries with the driver's type names.
struct PostgresStartupErrorTests {
    static func migrate(_ url: String) async throws -> (status: Int32, error: String, seconds: Double, output: String) {
        let folder = try TemporaryFolder()
        let start = Date()
        let process = try ChildProcess(try BuiltProducts.path(of: "accordhub"), ["migrate", "--db", url], logFolder: folder.path)
        let status = try await process.waitForExit(timeout: 40)
        // The program's own time, to its last write on stderr: on two busy cores this
        // test's task may be scheduled many seconds late, the file's mtime is not.
        var info = stat()
        guard stat(process.stderrPath, &info) == 0 else { throw TestSupportError("cannot stat \(process.stderrPath)") }
        let lastWrite = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        return (status, process.standardError, lastWrite - start.timeIntervalSince1970, process.standardOutput)
    }

    /// The URL of another database on the test's server.
    static func database(_ name: String) throws -> String {
        let url = try #require(TestPostgres.url)
        var components = try #require(URLComponents(string: url))
        components.path = "/" + name
        return try #require(components.string)
    }

    static let psql = "/usr/bin/psql"

    /// A new database on the test's server, migrated, named `prefix` and a number.
    static func migratedDatabase(_ prefix: String) async throws -> String {
        let name = "\(prefix)_\(UInt32.random(in: 0..<UInt32.max))"
        #expect(try ProgramRun.run(psql, [try #require(TestPostgres.url), "-qc", "CREATE DATABASE \(name)"]).status == 0)
        let url = try database(name)
        #expect(try await migrate(url).status == 0)
        return url
    }

    @Test func nothingListeningIsSaidAtOnce() async throws {
        let port = try LoopbackSocket.freePort()
        let run = try await Self.migrate("postgres://accord@127.0.0.1:\(port)/accord?sslmode=disable")
        #expect(run.status == 1 && run.seconds < 20, "exit \(run.status) after \(run.seconds) s")
        #expect(run.error.contains("cannot use PostgreSQL at postgres://accord@127.0.0.1:\(port)/accord: Connection refused"), "\(run.error)")
        #expect(run.error.split(separator: "\n").count == 1)
    }

    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aMissingDatabaseIsNamedByTheServer() async throws {
        let run = try await Self.migrate(try Self.database("no_such_database"))
        #expect(run.status == 1 && run.seconds < 20, "exit \(run.status) after \(run.seconds) s")
        #expect(run.error.contains("database \"no_such_database\" does not exist (SQLSTATE 3D000)"), "\(run.error)")
        #expect(run.error.split(separator: "\n").count == 1)
    }

    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aDroppedLockFunctionIsMadeAgain() async throws {
        let url = try await Self.migratedDatabase("dropped")
        // Every write calls it: without it a hub answers 503 to all of them, while the
        // schema's version says it is up to date.
        #expect(try ProgramRun.run(Self.psql, [url, "-qc", "DROP FUNCTION accord_lock_group"]).status == 0)
        let run = try await Self.migrate(url)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("the function accord_lock_group() was missing"), "\(run.output)")
        let check = "SELECT to_regprocedure('accord_lock_group(text,text[],text[],text[])') IS NOT NULL"
        #expect(try ProgramRun.run(Self.psql, [url, "-qXAtc", check]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
        let again = try await Self.migrate(url)
        #expect(again.output.contains("nothing to do") && !again.output.contains("missing"), "\(again.output)")
    }

    /// The same under a running hub: its next write makes the function again and
    /// goes through, rather than every write answering 503 until a restart.
    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aRunningHubMakesADroppedLockFunctionAgain() async throws {
        let url = try await Self.migratedDatabase("dropped_live")
        let hub = try HubLauncher(database: url)
        try await hub.createAgreements(["before"])
        #expect(try ProgramRun.run(Self.psql, [url, "-qc", "DROP FUNCTION accord_lock_group"]).status == 0)
        try await hub.createAgreements(["after"])
        let check = "SELECT to_regprocedure('accord_lock_group(text,text[],text[],text[])') IS NOT NULL"
        #expect(try ProgramRun.run(Self.psql, [url, "-qXAtc", check]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
        let log = hub.process.standardError + hub.process.standardOutput
        #expect(log.contains("made again what the database lacked: accord_lock_group()"), "\(log)")
    }

    /// A database with history from before feed IDs (schema 2) gets its ID from that
    /// history: a backup taken before the upgrade, restored and migrated again, gets
    /// the same ID, so its daemons carry on.
    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aDatabaseFromBeforeFeedIDsGetsTheSameIDEveryTime() async throws {
        let url = try await Self.migratedDatabase("before_ids")
        let hub = try HubLauncher(database: url)
        try await hub.createAgreements(["one", "two"])
        hub.process.signal(SIGTERM)
        _ = try await hub.process.waitForExit(timeout: 30)
        let read = "SELECT feed_id FROM accord_datasets WHERE name = 'default'"
        let back = "ALTER TABLE accord_datasets DROP COLUMN feed_id; DELETE FROM accord_schema WHERE version = 3"
        var ids: [String] = []
        for _ in 0..<2 {
            #expect(try ProgramRun.run(Self.psql, [url, "-qc", back]).status == 0)
            #expect(try await Self.migrate(url).status == 0)
            ids.append(try ProgramRun.run(Self.psql, [url, "-qXAtc", read]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(ids[0] == ids[1] && ids[0].count == 36, "\(ids)")
    }

    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aNewerSchemaIsRefusedInOneLine() async throws {
        let url = try await Self.migratedDatabase("newer")
        #expect(try ProgramRun.run(Self.psql, [url, "-qc", "INSERT INTO accord_schema (version, applied_at) VALUES (99, 0)"]).status == 0)
        let run = try await Self.migrate(url)
        #expect(run.status == 1)
        #expect(run.error.contains("was upgraded by a newer accordhub") && !run.error.contains("PostgresTransactionError"), "\(run.error)")
        #expect(run.error.split(separator: "\n").count == 1)
    }
}
