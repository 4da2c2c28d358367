import AccordCore
import AccordFiles
import AccordTestSupport
import Logging

@testable import AccordHub

/// A hub handler on a real SQLite file in a temporary folder, driven without HTTP.
struct HubFixture {
    let folder: TemporaryFolder
    let storage: SQLiteHubStorage
    let handler: HubHandler

    init(tokens: [TokenTable.Entry] = [], maxBodyBytes: Int = 1 << 20, limits: HubLimits = HubLimits()) async throws {
        folder = try TemporaryFolder()
        storage = try SQLiteHubStorage(path: folder.child("hub.db"))
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        handler = HubHandler(
            storage: storage, schemas: schemas, tokens: TokenTable(tokens), maxBodyBytes: maxBodyBytes, limits: limits,
            logger: Logger(label: "test"))
        try await handler.setReady(true)
    }

    func send(
        _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil, query: [String: String] = [:]
    ) async
        -> HubResponse
    {
        var lowered: [String: String] = [:]
        for (key, value) in headers { lowered[key.lowercased()] = value }
        return await handler.handle(HubRequest(method: method, path: path, query: query, headers: lowered, body: Array((body ?? "").utf8)))
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
