import AccordCore
import AccordFiles
import AccordTestSupport
import Logging

@testable import AccordHub

/// A hub handler on real storage, driven without HTTP: SQLite files in a temporary
/// folder, or, when `ACCORD_TEST_POSTGRES_URL` names a database, PostgreSQL (the hub's
/// suite runs once on each; every fixture then has dataset keys of its own). It serves
/// `default` and the named dataset `hns`; `dataset` picks the one the fixture's paths
/// address, so a protocol test runs once on each (CONTRACT 8.1): `/v1/...` paths given
/// to `send` go to `/v1/datasets/hns/...` for the named one.
struct HubFixture {
    /// The datasets every protocol test runs on.
    static let datasets = ["default", "hns"]

    /// The PostgreSQL the suite runs on, migrated once; nil for SQLite.
    static let postgres: PostgresHub? = {
        guard let text = TestPostgres.url else { return nil }
        guard let url = try? PostgresURL(parsing: text) else { fatalError("ACCORD_TEST_POSTGRES_URL is not a PostgreSQL URL: \(text)") }
        do {
            return try PostgresHub(url: url, logger: Logger(label: "test"))
        } catch {
            fatalError("cannot set up a pool for \(text): \(error)")
        }
    }()
    static let migrated = Task { try await postgres?.migrate() }
    static var onPostgres: Bool { postgres != nil }

    let folder: TemporaryFolder
    let dataset: String
    /// The addressed dataset's storage.
    let storage: any HubStorage
    /// The same, when it is SQLite (for what only SQLite has).
    var sqlite: SQLiteHubStorage? { storage as? SQLiteHubStorage }
    let handler: HubHandler

    init(dataset: String = "default", tokens: [TokenTable.Entry] = [], maxBodyBytes: Int = 1 << 20, limits: HubLimits = HubLimits()) async throws {
        folder = try TemporaryFolder()
        self.dataset = dataset
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        let run = "t\(UInt64.random(in: 0..<UInt64.max))"
        try await Self.migrated.value
        var served: [HubDataset] = []
        for name in Set(Self.datasets + [dataset]).sorted() {
            let storage: any HubStorage
            if let postgres = Self.postgres {
                storage = try await postgres.storage(key: "\(run)-\(name)")
            } else {
                storage = try SQLiteHubStorage(path: name == "default" ? folder.child("hub.db") : folder.child("\(name).db"))
            }
            served.append(HubDataset(name: name, storage: storage, schemas: schemas))
        }
        guard let storage = served.first(where: { $0.name == dataset })?.storage else {
            throw TestSupportError("no storage for dataset \(dataset)")
        }
        self.storage = storage
        handler = HubHandler(datasets: served, tokens: TokenTable(tokens), maxBodyBytes: maxBodyBytes, limits: limits, logger: Logger(label: "test"))
        try await handler.setReady(true)
    }

    /// The addressed dataset's long-poll wake-ups.
    var notifier: ChangeNotifier { handler.datasets[dataset]!.notifier }

    /// `path` as this fixture's dataset serves it.
    func route(_ path: String) -> String {
        guard dataset != "default", path.hasPrefix("/v1/"), path != "/v1/health", !path.hasPrefix("/v1/datasets") else { return path }
        return "/v1/datasets/\(dataset)/" + path.dropFirst("/v1/".count)
    }

    func send(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil, query: [String: String] = [:]
    ) async
        -> HubResponse
    {
        var lowered: [String: String] = [:]
        for (key, value) in headers { lowered[key.lowercased()] = value }
        return await handler.handle(HubRequest(method: method, path: route(path), query: query, headers: lowered, body: Array((body ?? "").utf8)))
    }

    /// Creates a record and returns its rev.
    @discardableResult
    func create(_ path: String, _ body: String) async throws -> String {
        let response = await send("PUT", path, headers: ["If-None-Match": "*"], body: body)
        guard response.status == 201, let etag = response.header("ETag") else {
            throw TestSupportError("create \(path) gave \(response.status): \(response.bodyText)")
        }
        return String(etag.dropFirst().dropLast())
    }
}

let agreementBody = #"{"title": "HNS FY2021", "parties": ["United States", "Japan"], "status": "negotiating"}"#
let agreementPath = "/v1/records/agreement/us-japan-hns-fy2021"

func json(_ response: HubResponse) -> JSONObject? {
    (try? JSONParser.parse(response.body))?.objectValue
}
