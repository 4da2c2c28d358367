import AccordCore
import AccordTestSupport
import GRDB
import Testing

@testable import AccordHub

/// Every revision keeps the name of the token that wrote it (CONTRACT 8.2), and a
/// database written before the hub kept authors opens with nothing lost.
@Suite struct RevisionAuthorTests {
    static let tokens = [("alice", "alice-token"), ("bob", "bob-token")].map { name, token in
        TokenTable.Entry(name: name, sha256: ContentHash.hex(Array(token.utf8)), access: .readWrite)
    }

    static func authors(_ hub: HubFixture, token: String) async throws -> [JSONValue?] {
        let response = await hub.send("GET", agreementPath + "/revisions", headers: ["Authorization": "Bearer \(token)"])
        let revisions = try #require(json(response)?["revisions"]?.arrayValue, "\(response.status) \(response.bodyText)")
        return revisions.map { $0.objectValue?["author"] }
    }

    @Test(arguments: HubFixture.datasets) func eachRevisionNamesTheTokenThatWroteIt(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset, tokens: Self.tokens)
        let created = await hub.send(
            "PUT", agreementPath, headers: ["Authorization": "Bearer alice-token", "If-None-Match": "*"], body: agreementBody)
        #expect(created.status == 201)
        let rev = try #require(created.header("ETag"))
        let edited = await hub.send(
            "PUT", agreementPath, headers: ["Authorization": "Bearer bob-token", "If-Match": rev],
            body: agreementBody.replacingOccurrences(of: "negotiating", with: "agreed"))
        #expect(edited.status == 200)
        let current = try #require(edited.header("ETag")).dropFirst().dropLast()
        // A write inside a batch is credited the same way.
        let batch = await hub.send(
            "POST", "/v1/batch", headers: ["Authorization": "Bearer alice-token"],
            body: #"{"writes": [{"kind": "agreement", "id": "us-japan-hns-fy2021", "if_match": "\#(current)", "delete": true}]}"#)
        #expect(batch.status == 200, "\(batch.bodyText)")
        #expect(try await Self.authors(hub, token: "bob-token") == [.string("alice"), .string("bob"), .string("alice")])
    }

    @Test(arguments: HubFixture.datasets) func anOpenHubRecordsNoAuthor(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        try await hub.create(agreementPath, agreementBody)
        #expect(try await Self.authors(hub, token: "unused") == [.null])
    }

    @Test func aDatabaseFromBeforeAuthorsOpensWithEverythingKept() async throws {
        let folder = try TemporaryFolder()
        let path = folder.child("hub.db")
        // The schema and rows as the previous release wrote them.
        let queue = try DatabaseQueue(path: path)
        try HubMigrations.migrator.migrate(queue, upTo: "0001-records-revisions-idempotency")
        try await queue.write { db in
            let fields = #"{"parties":["United States","Japan"],"status":"negotiating","title":"HNS FY2021"}"#
            try db.execute(
                sql:
                    "INSERT INTO revisions (kind, id, rev, deleted, fields, created_at) VALUES ('agreement', 'us-japan-hns-fy2021', '1-aaaa', 0, ?, 1700000000)",
                arguments: [fields])
            try db.execute(
                sql: "INSERT INTO records (kind, id, rev, seq, deleted, fields) VALUES ('agreement', 'us-japan-hns-fy2021', '1-aaaa', 1, 0, ?)",
                arguments: [fields])
        }
        try queue.close()

        let storage = try SQLiteHubStorage(path: path)
        let key = RecordKey(kind: "agreement", id: "us-japan-hns-fy2021")
        #expect(try await storage.record(key)?.rev == "1-aaaa")
        #expect(try await storage.lastSeq() == 1)
        let old = try await storage.revisions(key, before: nil, limit: 10)
        #expect(old.count == 1 && old[0].author == nil && old[0].createdAt == 1_700_000_000)
        // A new write continues the same feed and keeps its author.
        let outcome = try await storage.write(
            WriteRequest(key: key, precondition: .ifMatch(["1-aaaa"]), change: .put(fieldsJSON: #"{"status":"agreed"}"#), author: "alice"),
            respond: HubHandler.response(for:))
        guard case .updated(let stored) = outcome else {
            Issue.record("the update gave \(outcome)")
            return
        }
        #expect(stored.seq == 2)
        #expect(try await storage.revisions(key, before: nil, limit: 10).map(\.author) == ["alice", nil])
    }

    @Test func aDatabaseFromANewerHubIsRefused() async throws {
        let folder = try TemporaryFolder()
        let path = folder.child("hub.db")
        let queue = try DatabaseQueue(path: path)
        try HubMigrations.migrator.migrate(queue)
        try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999-from-the-future')") }
        try queue.close()
        #expect(throws: NewerDatabaseError.self) { try SQLiteHubStorage(path: path) }
    }
}
