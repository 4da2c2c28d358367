import AccordCore
import AccordFiles
import AccordTestSupport
import Foundation
import Logging
import Testing

@testable import AccordHub

/// `accordhub copy` (CONTRACT 8.5): a SQLite hub written by the previous release
/// (Tests/Fixtures: two tokens, an edit, a deletion, an idempotency key) arrives in
/// PostgreSQL whole, with its seqs, so its daemons carry on from their cursors.
@Suite(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
struct PostgresCopyTests {
    @Test func aSQLiteHubArrivesWholeAndCarriesOn() async throws {
        let postgres = try #require(HubFixture.postgres)
        try await HubFixture.migrated.value
        let folder = try TemporaryFolder()
        let db = folder.child("hub.db")
        try FileManager.default.copyItem(atPath: BuiltProducts.repositoryRoot + "/Tests/Fixtures/hub-before-datasets.db", toPath: db)
        let key = "c\(UInt64.random(in: 0..<UInt64.max))"
        var source: SQLiteHubExport? = try SQLiteHubExport(path: db)
        let sourceFeedID = try #require(try source?.feedID())
        let counts = try await postgres.importDataset(key, from: try #require(source))
        source = nil  // its lock, for the second copy below
        #expect(counts == ImportCounts(revisions: 5, records: 3, idempotencyKeys: 1, lastSeq: 5))
        // A second copy into the same dataset is refused, whole.
        await #expect(throws: DatasetNotEmptyError.self) { try await postgres.importDataset(key, from: try SQLiteHubExport(path: db)) }

        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        let storage = try await postgres.storage(key: key)
        let tokens = [("alice", "alice-token"), ("bob", "bob-token")].map { TokenTable.Entry(name: $0, sha256: ContentHash.hex($1), access: .readWrite) }
        let handler = HubHandler(
            datasets: [HubDataset(name: "default", storage: storage, schemas: schemas)], tokens: TokenTable(tokens), maxBodyBytes: 1 << 20,
            logger: Logger(label: "test"))
        try await handler.setReady(true)
        func send(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "", query: [String: String] = [:]) async -> HubResponse {
            var lowered = ["authorization": "Bearer alice-token"]
            for (key, value) in headers { lowered[key.lowercased()] = value }
            return await handler.handle(HubRequest(method: method, path: path, query: query, headers: lowered, body: Array(body.utf8)))
        }
        // The same feed to its daemons: the same ID as the source's.
        let page = await send("GET", "/v1/changes")
        #expect(!sourceFeedID.isEmpty && page.header(FeedIdentity.header) == sourceFeedID)
        let feed = try #require(json(page))
        #expect(feed["last_seq"] == .number(JSONNumber(literal: "5")))
        #expect(feed["changes"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["us-japan-hns-fy2021", "n-2021-001", "gone"])
        let record = await send("GET", "/v1/records/agreement/us-japan-hns-fy2021")
        #expect(record.status == 200 && record.header("ETag") == "\"2-0973664c2a2bacfd\"")
        let history = try #require(json(await send("GET", "/v1/records/agreement/us-japan-hns-fy2021/revisions")))
        #expect(history["revisions"]?.arrayValue?.map { $0.objectValue?["author"] } == [.string("bob"), .string("alice")])
        #expect(await send("GET", "/v1/records/agreement/gone").status == 410)
        // alice's idempotency key still replays her first create.
        let replay = await send(
            "PUT", "/v1/records/agreement/us-japan-hns-fy2021", headers: ["If-None-Match": "*", "Idempotency-Key": "k-create-1"],
            body: #"{"title":"HNS FY2021","parties":["United States","Japan"],"status":"negotiating","value":{"amount":1910000000,"currency":"USD"}}"#)
        #expect(replay.status == 201 && replay.header("Idempotent-Replayed") == "true" && replay.header("ETag") == "\"1-3db62c4a324db20f\"")
        // New writes continue the feed after the copied seqs.
        let created = await send(
            "PUT", "/v1/records/news/n-2021-002", headers: ["If-None-Match": "*"], body: #"{"headline": "Signed", "source": "Wire", "published": "2021-03-01"}"#
        )
        #expect(created.status == 201)
        #expect(
            json(await send("GET", "/v1/changes", query: ["since": "5"]))?["changes"]?.arrayValue?.first?.objectValue?["seq"]
                == .number(JSONNumber(literal: "6")))
    }
}
