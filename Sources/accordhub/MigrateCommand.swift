import AccordCLI
import AccordHub
import ArgumentParser
import Logging

/// `accordhub migrate --db URL`: creates or upgrades the hub's schema in PostgreSQL
/// (CONTRACT 8.5). A hub also migrates at start; this lets an operator do it first,
/// or check that a database is usable.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the hub's schema in a PostgreSQL database (postgres://USER@HOST:PORT/DB).",
        discussion: "The password comes from the URL or PGPASSWORD. Refuses a schema newer than this accordhub knows."
    )

    @Option(help: "The database URL: postgres://USER@HOST:PORT/DB (sslmode=…, sslrootcert=CA-FILE and host=/socket/folder as query parameters).")
    var db: String

    func run() async throws {
        guard let url = try PostgresHubOpener.url(db) else {
            throw CommandStatus.usage("accordhub: migrate needs a postgres:// URL; a SQLite hub migrates its file itself at start")
        }
        var logger = Logger(label: "accordhub")
        logger.logLevel = .error
        let postgres = try PostgresHubOpener.connect(url, logger: logger)
        defer { postgres.shutdown() }
        let (before, after, recreated) = try await PostgresHubOpener.migrate(postgres)
        for name in recreated {
            CommandRunner.printOutput("\(url.redacted): the function \(name) was missing (dropped by hand, or a partial restore?): made it again")
        }
        CommandRunner.printOutput(
            before != after
                ? "\(url.redacted): schema upgraded from version \(before) to \(after)"
                : recreated.isEmpty ? "\(url.redacted): schema at version \(after), nothing to do" : "\(url.redacted): schema at version \(after)")
    }
}
