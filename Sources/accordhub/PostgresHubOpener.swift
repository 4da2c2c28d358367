import AccordCLI
import AccordCore
import AccordFiles
import AccordHub
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Turns a `db = "postgres://…"` into served datasets, with start-up errors said in
/// one line: a bad URL, an unreachable server, a schema newer than this hub.
enum PostgresHubOpener {
    /// The URL when `db` names PostgreSQL; nil for a SQLite file.
    static func url(_ db: String) throws -> PostgresURL? {
        guard PostgresURL.names(db) else { return nil }
        do {
            let password = getenv("PGPASSWORD").map { String(cString: $0) }
            return try PostgresURL(parsing: db, environment: password.map { ["PGPASSWORD": $0] } ?? [:])
        } catch {
            throw CommandStatus.usage("accordhub: db: \(error); for example postgres://accord@127.0.0.1:5432/accord")
        }
    }

    /// The connection pool for `url`; a CA file (`sslrootcert`) that cannot be read is
    /// said in one line.
    static func connect(_ url: PostgresURL, logger: Logger) throws -> PostgresHub {
        do {
            return try PostgresHub(url: url, logger: logger)
        } catch {
            throw CommandStatus.usage("accordhub: db: \(error)")
        }
    }

    /// Migrates (or refuses a newer schema) and opens every declared dataset.
    static func open(_ postgres: PostgresHub, _ settings: HubConfig) async throws -> [HubDataset] {
        try await migrate(postgres)
        var opened: [HubDataset] = []
        for name in settings.datasetNames {
            let folder = settings.datasets.first { $0.name == name }?.schemas ?? settings.schemas
            let schemas: SchemaSet
            do {
                schemas = try SchemaDirectory.load(folder)
            } catch {
                throw CommandStatus.failed("accordhub: dataset \(name): \(error.message)")
            }
            do {
                opened.append(HubDataset(name: name, storage: try await postgres.storage(key: name), schemas: schemas))
            } catch {
                throw CommandStatus.failed("accordhub: cannot open dataset \(name) in \(postgres.url.redacted): \(error)")
            }
        }
        return opened
    }

    /// Checks the server with one connection of its own (the server's reason, at
    /// once), then migrates or refuses a newer schema, each said in one line.
    @discardableResult
    static func migrate(_ postgres: PostgresHub) async throws -> (before: Int, after: Int, recreated: [String]) {
        do {
            try await postgres.checkConnection()
        } catch {
            throw CommandStatus.failed(
                "accordhub: cannot use PostgreSQL at \(postgres.url.redacted): \(error); check that it runs, the URL, and PGPASSWORD")
        }
        do {
            return try await postgres.migrate()
        } catch let error as NewerDatabaseError {
            throw CommandStatus.failed("accordhub: \(error)")
        } catch {
            throw CommandStatus.failed(
                "accordhub: cannot migrate the schema in \(postgres.url.redacted): \(StorageFailure.reason(error)); check the database, or restore a backup")
        }
    }
}
