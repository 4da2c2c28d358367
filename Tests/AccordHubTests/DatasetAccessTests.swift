import AccordCore
import AccordFiles
import AccordTestSupport
import Foundation
import Logging
import Testing

@testable import AccordHub

/// Datasets and access per dataset (CONTRACT 8.1): every route is probed for leaks
/// between datasets, and a dataset a token may not see answers exactly as one that
/// does not exist.
@Suite struct DatasetAccessTests {
    /// `admin` sees everything; `negotiator` only hns (rw); `reporter` only press (ro)
    /// and default (rw).
    static let tokens = [
        TokenTable.Entry(name: "admin", sha256: ContentHash.hex("admin-token"), access: .readWrite),
        TokenTable.Entry(name: "negotiator", sha256: ContentHash.hex("negotiator-token"), grant: .only(["hns": .readWrite])),
        TokenTable.Entry(name: "reporter", sha256: ContentHash.hex("reporter-token"), grant: .only(["press": .readOnly, "default": .readWrite])),
    ]

    struct Hub {
        let folder: TemporaryFolder
        let handler: HubHandler

        init(tokens: [TokenTable.Entry] = DatasetAccessTests.tokens) async throws {
            let folder = try TemporaryFolder()
            self.folder = folder
            let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
            let db = folder.child("hub.db")
            try FileManager.default.createDirectory(atPath: DatasetFiles.folder(db: db), withIntermediateDirectories: true)
            let datasets = try ["default", "hns", "press"].map { name in
                HubDataset(name: name, storage: try SQLiteHubStorage(path: DatasetFiles.path(db: db, dataset: name)), schemas: schemas)
            }
            handler = HubHandler(datasets: datasets, tokens: TokenTable(tokens), maxBodyBytes: 1 << 20, logger: Logger(label: "test"))
            try await handler.setReady(true)
        }

        func send(
            _ token: String?, _ method: String, _ path: String, headers: [String: String] = [:], body: String = "", query: [String: String] = [:]
        )
            async -> HubResponse
        {
            var lowered: [String: String] = [:]
            for (key, value) in headers { lowered[key.lowercased()] = value }
            if let token { lowered["authorization"] = "Bearer \(token)" }
            return await handler.handle(HubRequest(method: method, path: path, query: query, headers: lowered, body: Array(body.utf8)))
        }
    }

    static let record = "records/agreement/us-japan-hns-fy2021"
    static func batch(_ id: String) -> String {
        #"{"writes": [{"kind": "agreement", "id": "\#(id)", "if_none_match": "*", "fields": {"title": "T", "parties": ["A", "B"], "status": "negotiating"}}]}"#
    }

    /// Every route of a dataset, as (method, route inside the dataset, body).
    static let routes: [(String, String, String)] = [
        ("GET", record, ""), ("HEAD", record, ""), ("PUT", record, agreementBody), ("DELETE", record, ""),
        ("GET", record + "/revisions", ""), ("GET", "changes", ""), ("POST", "batch", batch("x")),
    ]

    @Test func aHiddenDatasetAnswersEveryRouteExactlyAsAMissingOne() async throws {
        let hub = try await Hub()
        for (method, route, body) in Self.routes {
            let headers = method == "PUT" ? ["If-None-Match": "*"] : method == "DELETE" ? ["If-Match": "\"1-x\""] : [:]
            let hidden = await hub.send("negotiator-token", method, "/v1/datasets/press/" + route, headers: headers, body: body)
            let missing = await hub.send("negotiator-token", method, "/v1/datasets/prss/" + route, headers: headers, body: body)
            #expect(hidden.status == 404, "\(method) \(route)")
            #expect(json(hidden)?["title"] == json(missing)?["title"] && missing.status == 404, "\(method) \(route)")
            // Read-only on press: still 404 for hns, 403 only where it may read.
            let readOnlyHidden = await hub.send("reporter-token", method, "/v1/datasets/hns/" + route, headers: headers, body: body)
            #expect(readOnlyHidden.status == 404, "a read-only token gets 404, not 403, on a dataset it may not see: \(method) \(route)")
            // The unprefixed routes are default, which negotiator may not see either.
            #expect(await hub.send("negotiator-token", method, "/v1/" + route, headers: headers, body: body).status == 404, "\(method) /v1/\(route)")
            // Refused from the headers alone, before any body is read.
            guard
                case .refused(let early) = hub.handler.authorizeBeforeBody(
                    method: method, path: "/v1/datasets/press/" + route, headers: ["authorization": "Bearer negotiator-token"])
            else {
                Issue.record("\(method) \(route) on a hidden dataset was not refused before its body")
                continue
            }
            #expect(early.status == 404)
        }
        #expect(
            await hub.send("reporter-token", "PUT", "/v1/datasets/press/" + Self.record, headers: ["If-None-Match": "*"], body: agreementBody).status == 403)
        #expect(await hub.send("reporter-token", "POST", "/v1/datasets/press/batch", body: Self.batch("y")).status == 403)
        #expect(await hub.send("reporter-token", "GET", "/v1/datasets/press/changes").status == 200)
        #expect(await hub.send(nil, "GET", "/v1/datasets/hns/changes").status == 401, "no token: 401 whatever the dataset")
    }

    @Test func recordsChangesRevisionsAndSeqsStayInTheirDataset() async throws {
        let hub = try await Hub()
        // Two writes in default first: hns still starts at seq 1.
        #expect(await hub.send("admin-token", "POST", "/v1/batch", body: Self.batch("a")).status == 200)
        #expect(await hub.send("admin-token", "POST", "/v1/batch", body: Self.batch("b")).status == 200)
        let created = await hub.send(
            "negotiator-token", "PUT", "/v1/datasets/hns/" + Self.record, headers: ["If-None-Match": "*"], body: agreementBody)
        #expect(created.status == 201)
        #expect(json(created)?["fields"]?.objectValue?["status"] == .string("negotiating"))
        let hnsFeed = try #require(json(await hub.send("negotiator-token", "GET", "/v1/datasets/hns/changes")))
        #expect(hnsFeed["last_seq"] == .number(JSONNumber(literal: "1")))
        #expect(hnsFeed["changes"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["us-japan-hns-fy2021"])
        for dataset in ["default", "press"] {
            let prefix = dataset == "default" ? "/v1/" : "/v1/datasets/\(dataset)/"
            #expect(await hub.send("admin-token", "GET", prefix + Self.record).status == 404, "\(dataset)")
            #expect(await hub.send("admin-token", "GET", prefix + Self.record + "/revisions").status == 404, "\(dataset)")
            let feed = try #require(json(await hub.send("admin-token", "GET", prefix + "changes")))
            #expect(feed["changes"]?.arrayValue?.contains { $0.objectValue?["id"] == .string("us-japan-hns-fy2021") } == false, "\(dataset)")
        }
        // The default dataset under both forms of its routes is one and the same.
        let viaPrefix = try #require(json(await hub.send("admin-token", "GET", "/v1/datasets/default/changes")))
        #expect(viaPrefix["last_seq"] == .number(JSONNumber(literal: "2")))
    }

    @Test func idempotencyKeysArePerDataset() async throws {
        let hub = try await Hub()
        let headers = ["If-None-Match": "*", "Idempotency-Key": "same-key"]
        let inDefault = await hub.send("admin-token", "PUT", "/v1/" + Self.record, headers: headers, body: agreementBody)
        #expect(inDefault.status == 201)
        // The same key for another request in another dataset is a new key there.
        let other = agreementBody.replacingOccurrences(of: "negotiating", with: "agreed")
        let inHNS = await hub.send("admin-token", "PUT", "/v1/datasets/hns/" + Self.record, headers: headers, body: other)
        #expect(inHNS.status == 201 && inHNS.header("Idempotent-Replayed") == nil)
        #expect(json(inHNS)?["fields"]?.objectValue?["status"] == .string("agreed"))
        // Replays come from their own dataset only; both forms of a default path agree.
        let replay = await hub.send("admin-token", "PUT", "/v1/datasets/default/" + Self.record, headers: headers, body: agreementBody)
        #expect(replay.status == 201 && replay.header("Idempotent-Replayed") == "true")
        #expect(json(replay)?["fields"]?.objectValue?["status"] == .string("negotiating"))
        let press = await hub.send("admin-token", "PUT", "/v1/datasets/press/" + Self.record, headers: headers, body: agreementBody)
        #expect(press.status == 201 && press.header("Idempotent-Replayed") == nil, "a key replays nothing from another dataset")
    }

    @Test func theDatasetListShowsWhatEachTokenMaySee() async throws {
        let hub = try await Hub()
        func list(_ token: String?) async -> [String] {
            let body = json(await hub.send(token, "GET", "/v1/datasets"))
            return body?["datasets"]?.arrayValue?.compactMap { item in
                guard let name = item.objectValue?["name"]?.stringValue, let access = item.objectValue?["access"]?.stringValue else { return nil }
                return "\(name)=\(access)"
            } ?? []
        }
        #expect(await list("admin-token") == ["default=rw", "hns=rw", "press=rw"])
        #expect(await list("negotiator-token") == ["hns=rw"])
        #expect(await list("reporter-token") == ["default=rw", "press=ro"])
        #expect(await hub.send(nil, "GET", "/v1/datasets").status == 401)
        #expect(await hub.send("admin-token", "POST", "/v1/datasets").status == 405)
        let open = try await Hub(tokens: [])
        let openList = json(await open.send(nil, "GET", "/v1/datasets"))?["datasets"]?.arrayValue?.count
        #expect(openList == 3)
    }
}

/// A database written by the release before datasets (Tests/Fixtures, made by that
/// release's accordhub: two tokens, an edit, a deletion, an idempotency key) is the
/// dataset `default` with nothing lost.
@Suite struct DatasetMigrationTests {
    @Test func aDatabaseFromThePreviousReleaseIsTheDefaultDataset() async throws {
        let folder = try TemporaryFolder()
        let db = folder.child("hub.db")
        try FileManager.default.copyItem(atPath: BuiltProducts.repositoryRoot + "/Tests/Fixtures/hub-before-datasets.db", toPath: db)
        let schemas = try SchemaDirectory.load(BuiltProducts.repositoryRoot + "/config/schemas")
        try FileManager.default.createDirectory(atPath: DatasetFiles.folder(db: db), withIntermediateDirectories: true)
        let datasets = try ["default", "hns"].map {
            HubDataset(name: $0, storage: try SQLiteHubStorage(path: DatasetFiles.path(db: db, dataset: $0)), schemas: schemas)
        }
        let tokens = [("alice", "alice-token"), ("bob", "bob-token")].map { TokenTable.Entry(name: $0, sha256: ContentHash.hex($1), access: .readWrite) }
        let handler = HubHandler(datasets: datasets, tokens: TokenTable(tokens), maxBodyBytes: 1 << 20, logger: Logger(label: "test"))
        try await handler.setReady(true)
        func send(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "") async -> HubResponse {
            var lowered = ["authorization": "Bearer alice-token"]
            for (key, value) in headers { lowered[key.lowercased()] = value }
            return await handler.handle(HubRequest(method: method, path: path, query: [:], headers: lowered, body: Array(body.utf8)))
        }
        for prefix in ["/v1/", "/v1/datasets/default/"] {
            let feed = try #require(json(await send("GET", prefix + "changes")))
            #expect(feed["last_seq"] == .number(JSONNumber(literal: "5")), "\(prefix)")
            #expect(feed["changes"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["us-japan-hns-fy2021", "n-2021-001", "gone"])
            let record = await send("GET", prefix + "records/agreement/us-japan-hns-fy2021")
            #expect(record.status == 200 && record.header("ETag") == "\"2-0973664c2a2bacfd\"")
            #expect(json(record)?["fields"]?.objectValue?["value"]?.objectValue?["amount"] == .number(JSONNumber(literal: "2010000000")))
            let history = try #require(json(await send("GET", prefix + "records/agreement/us-japan-hns-fy2021/revisions")))
            #expect(history["revisions"]?.arrayValue?.map { $0.objectValue?["author"] } == [.string("bob"), .string("alice")])
            #expect(await send("GET", prefix + "records/agreement/gone").status == 410)
        }
        // alice's idempotency key still replays her first create, byte for byte.
        let replay = await send(
            "PUT", "/v1/records/agreement/us-japan-hns-fy2021", headers: ["If-None-Match": "*", "Idempotency-Key": "k-create-1"],
            body: #"{"title":"HNS FY2021","parties":["United States","Japan"],"status":"negotiating","value":{"amount":1910000000,"currency":"USD"}}"#)
        #expect(replay.status == 201 && replay.header("Idempotent-Replayed") == "true" && replay.header("ETag") == "\"1-3db62c4a324db20f\"")
        // New writes continue the feed; the new dataset starts empty.
        let created = await send(
            "PUT", "/v1/datasets/default/records/news/n-2021-002", headers: ["If-None-Match": "*"],
            body: #"{"headline": "Signed", "source": "Wire", "published": "2021-03-01"}"#)
        #expect(created.status == 201)
        #expect(json(await send("GET", "/v1/changes", headers: [:]))?["last_seq"] == .number(JSONNumber(literal: "6")))
        #expect(json(await send("GET", "/v1/datasets/hns/changes"))?["changes"]?.arrayValue?.isEmpty == true)
    }
}
