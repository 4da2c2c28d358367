import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordHub

@Suite("Hub protocol, in process on real SQLite")
struct HubHandlerTests {
    @Test(arguments: HubFixture.datasets) func createReadUpdateWithPreconditions(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        #expect(await hub.send("GET", agreementPath).status == 404)
        let created = await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: agreementBody)
        #expect(created.status == 201)
        let rev = try #require(created.header("ETag"))
        #expect(rev.hasPrefix("\"1-"))
        let read = await hub.send("GET", agreementPath)
        #expect(read.status == 200)
        #expect(read.header("ETag") == rev)
        let body = try #require(json(read))
        #expect(body["kind"] == .string("agreement"))
        #expect(body["rev"] == .string(String(rev.dropFirst().dropLast())))
        #expect(body["fields"]?.objectValue?["status"] == .string("negotiating"))
        #expect(body["fields"]?.objectValue?.keys == ["title", "parties", "status"])

        // The same create again: the record exists.
        let again = await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: agreementBody)
        #expect(again.status == 412)
        #expect(json(again)?["rev"] == body["rev"])

        let updated = agreementBody.replacingOccurrences(of: "negotiating", with: "extended")
        let stale = await hub.send("PUT", agreementPath, headers: ["If-Match": "\"1-0000000000000000\""], body: updated)
        #expect(stale.status == 412)
        #expect(stale.header("ETag") == rev, "a 412 names the current rev")
        #expect(json(stale)?["fields"]?.objectValue?["status"] == .string("negotiating"), "a 412 carries the current record")

        let ok = await hub.send("PUT", agreementPath, headers: ["If-Match": rev], body: updated)
        #expect(ok.status == 200)
        #expect(ok.header("ETag")?.hasPrefix("\"2-") == true)
        // An unquoted rev in If-Match is accepted too.
        let third = await hub.send("PUT", agreementPath, headers: ["If-Match": String(ok.header("ETag")!.dropFirst().dropLast())], body: agreementBody)
        #expect(third.status == 200)
    }

    @Test(arguments: HubFixture.datasets) func writesWithoutAPreconditionAre428(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        #expect(await hub.send("PUT", agreementPath, body: agreementBody).status == 428)
        #expect(await hub.send("PUT", agreementPath, body: "{}").status == 428, "the precondition is checked before the body")
        try await hub.create(agreementPath, agreementBody)
        let delete = await hub.send("DELETE", agreementPath)
        #expect(delete.status == 428)
        #expect(delete.header("Content-Type") == "application/problem+json")
    }

    @Test(arguments: HubFixture.datasets) func aFailedUpdateOfNothingIsAProblemDocument(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let response = await hub.send("PUT", agreementPath, headers: ["If-Match": "\"1-x\""], body: agreementBody)
        #expect(response.status == 412)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.header("ETag") == nil)
    }

    @Test(arguments: HubFixture.datasets) func anEncodedSlashStaysInsideItsSegment(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        try await hub.create(agreementPath, agreementBody)
        #expect(await hub.send("GET", agreementPath.replacingOccurrences(of: "agreement/", with: "agreement%2F")).status == 404)
        #expect(await hub.send("GET", agreementPath + "%2Frevisions").status == 400)
    }

    @Test(arguments: HubFixture.datasets) func writingTheSameFieldsMakesNoRevision(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let rev = try await hub.create(agreementPath, agreementBody)
        let same = await hub.send("PUT", agreementPath, headers: ["If-Match": rev], body: agreementBody)
        #expect(same.status == 200)
        #expect(same.header("ETag") == "\"\(rev)\"")
        let history = try #require(json(await hub.send("GET", agreementPath + "/revisions")))
        #expect(history["revisions"]?.arrayValue?.count == 1)
    }

    @Test(arguments: HubFixture.datasets) func tombstonesAnd410AndRecreation(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let rev = try await hub.create(agreementPath, agreementBody)
        #expect(await hub.send("DELETE", agreementPath, headers: ["If-Match": "\"9-bad\""]).status == 412)
        let deleted = await hub.send("DELETE", agreementPath, headers: ["If-Match": "\"\(rev)\""])
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        let tombstoneRev = try #require(deleted.header("ETag"))
        let gone = await hub.send("GET", agreementPath)
        #expect(gone.status == 410)
        #expect(gone.header("ETag") == tombstoneRev)
        #expect(json(gone)?["deleted"] == .bool(true))
        // An update against the old rev is told about the tombstone.
        let late = await hub.send("PUT", agreementPath, headers: ["If-Match": "\"\(rev)\""], body: agreementBody)
        #expect(late.status == 412)
        #expect(json(late)?["deleted"] == .bool(true))
        #expect(late.header("ETag") == tombstoneRev)
        // Deleting the tombstone again changes nothing.
        #expect(await hub.send("DELETE", agreementPath, headers: ["If-Match": tombstoneRev]).status == 204)
        // If-Match of the tombstone's rev recreates the record.
        let recreated = await hub.send("PUT", agreementPath, headers: ["If-Match": tombstoneRev], body: agreementBody)
        #expect(recreated.status == 201)
        #expect(await hub.send("GET", agreementPath).status == 200)
        #expect(await hub.send("DELETE", "/v1/records/agreement/never", headers: ["If-Match": "\"1-x\""]).status == 404)
    }

    @Test(arguments: HubFixture.datasets) func revisionsAreNewestFirstWithTheirFields(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        var rev = try await hub.create(agreementPath, agreementBody)
        for status in ["agreed", "signed"] {
            let response = await hub.send(
                "PUT", agreementPath, headers: ["If-Match": rev], body: agreementBody.replacingOccurrences(of: "negotiating", with: status))
            rev = String(try #require(response.header("ETag")).dropFirst().dropLast())
        }
        let response = await hub.send("GET", agreementPath + "/revisions")
        #expect(response.status == 200)
        let revisions = try #require(json(response)?["revisions"]?.arrayValue)
        #expect(revisions.compactMap { $0.objectValue?["fields"]?.objectValue?["status"]?.stringValue } == ["signed", "agreed", "negotiating"])
        #expect(revisions.first?.objectValue?["rev"] == .string(rev))
        #expect(await hub.send("GET", "/v1/records/agreement/unknown/revisions").status == 404)
    }

    @Test(
        "invalid identities are refused before storage",
        arguments: [
            "/v1/records/Agreement/x", "/v1/records/agreement/-x", "/v1/records/agreement/a..b/../x",
            "/v1/records/agreement/" + String(repeating: "x", count: 129),
        ])
    func invalidIdentity(_ path: String) async throws {
        let hub = try await HubFixture()
        let response = await hub.send("PUT", path, headers: ["If-None-Match": "*"], body: agreementBody)
        #expect([400, 404].contains(response.status), "\(path): \(response.status)")
        #expect(try await hub.storage.lastSeq() == 0)
    }

    @Test(arguments: HubFixture.datasets) func schemaViolationsAre422WithPaths(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let response = await hub.send(
            "PUT", agreementPath, headers: ["If-None-Match": "*"],
            body: #"{"title": "t", "parties": ["US"], "status": "pending", "value": {"amount": -1}}"#)
        #expect(response.status == 422)
        #expect(response.header("Content-Type") == "application/problem+json")
        let errors = try #require(json(response)?["errors"]?.arrayValue).compactMap(\.stringValue)
        #expect(errors.contains("/parties: must have at least 2 items, has 1"))
        #expect(errors.contains("/value/amount: must be >= 0"))
        #expect(errors.contains { $0.hasPrefix("/status:") })
    }

    @Test(
        "bad bodies",
        arguments: [
            ("{\"title\": ", 400), ("[1]", 400), (#"{"kind": "news", "title": "t"}"#, 400),
            // Not the wire form (not an object, or a member beside the wrapper): a bare
            // record with a field named "fields", which the schema then refuses.
            (#"{"fields": 3}"#, 422), (#"{"fields": {"title": "t", "parties": ["a", "b"], "status": "agreed"}, "extra": 1}"#, 422),
            // Deeper than a record may nest (CONTRACT 8.4), in either form.
            (
                #"{"fields": {"title": "t", "parties": ["a", "b"], "status": "agreed", "x": "# + String(repeating: "[", count: 64)
                    + String(repeating: "]", count: 64) + "}}", 422
            ),
            (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), 422),
        ])
    func badBodies(_ body: String, _ status: Int) async throws {
        let hub = try await HubFixture()
        let response = await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: body)
        #expect(response.status == status, "\(response.bodyText)")
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    @Test(arguments: HubFixture.datasets) func wireFormBodiesAreAccepted(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let response = await hub.send(
            "PUT", agreementPath, headers: ["If-None-Match": "*"],
            body: #"{"kind": "agreement", "id": "us-japan-hns-fy2021", "rev": "7-zz", "fields": {"title": "t", "parties": ["a", "b"], "status": "agreed"}}"#)
        #expect(response.status == 201)
    }

    @Test(arguments: HubFixture.datasets) func bodiesOverTheLimitAre413(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset, maxBodyBytes: 100)
        let response = await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: agreementBody + String(repeating: " ", count: 100))
        #expect(response.status == 413)
    }

    @Test(arguments: HubFixture.datasets) func changesFeedPagesBySeq(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        for index in 0..<5 { try await hub.create("/v1/records/agreement/a\(index)", agreementBody) }
        let first = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "0", "limit": "2"])))
        let firstChanges = try #require(first["changes"]?.arrayValue)
        #expect(firstChanges.compactMap { $0.objectValue?["id"]?.stringValue } == ["a0", "a1"])
        #expect(first["last_seq"] == .number(JSONNumber(2)))
        let rest = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "2"])))
        #expect(rest["changes"]?.arrayValue?.compactMap { $0.objectValue?["seq"]?.numberValue?.literal } == ["3", "4", "5"])
        // An update moves the record to the end of the feed: the feed holds latest versions.
        let rev = String(try #require(await hub.send("GET", "/v1/records/agreement/a0").header("ETag")))
        _ = await hub.send(
            "PUT", "/v1/records/agreement/a0", headers: ["If-Match": rev], body: agreementBody.replacingOccurrences(of: "negotiating", with: "agreed"))
        let after = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "5"])))
        #expect(after["changes"]?.arrayValue?.compactMap { $0.objectValue?["id"]?.stringValue } == ["a0"])
        #expect(after["last_seq"] == .number(JSONNumber(6)))
        let empty = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "6"])))
        #expect(empty["changes"]?.arrayValue?.isEmpty == true)
        #expect(empty["last_seq"] == .number(JSONNumber(6)))
        // A client ahead of the hub (restored database) is told the hub's seq, at once.
        let ahead = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "100", "wait": "30"])))
        #expect(ahead["last_seq"] == .number(JSONNumber(6)))
        // An empty page never reports a seq beyond what the client asked from.
        let behind = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "3", "limit": "1"])))
        #expect(behind["last_seq"] == .number(JSONNumber(4)), "a non-empty page reports its own last seq")
    }

    /// A daemon's cursor means something only in the feed that gave it: every page says
    /// which feed it is (`Accord-Feed-Id`), the same on every page and after a reopen,
    /// and another for every other dataset and database.
    @Test(arguments: HubFixture.datasets) func everyFeedPageNamesItsFeed(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let id = try #require(await hub.send("GET", "/v1/changes").header(FeedIdentity.header))
        #expect(id.count == 36, "a UUID: \(id)")
        try await hub.create("/v1/records/agreement/a1", agreementBody)
        #expect(await hub.send("GET", "/v1/changes", query: ["since": "0", "fields": "1"]).header(FeedIdentity.header) == id)
        #expect(await hub.send("GET", "/v1/changes", query: ["since": "1", "wait": "1"]).header(FeedIdentity.header) == id)
        // The write at `since`, for the client's anchor; none at 0 or past the end.
        let rev = try #require(await hub.send("GET", "/v1/records/agreement/a1").header("ETag")).trimmingCharacters(in: ["\""])
        #expect(await hub.send("GET", "/v1/changes", query: ["since": "1"]).header(FeedIdentity.sinceHeader) == "agreement/a1 \(rev)")
        #expect(await hub.send("GET", "/v1/changes", query: ["since": "0"]).header(FeedIdentity.sinceHeader) == nil)
        #expect(await hub.send("GET", "/v1/changes", query: ["since": "7"]).header(FeedIdentity.sinceHeader) == nil)
        let otherDataset = dataset == "default" ? "/v1/datasets/hns/changes" : "/v1/changes"
        let otherID = try #require(
            await hub.handler.handle(HubRequest(method: "GET", path: otherDataset, query: [:], headers: [:], body: [])).header(FeedIdentity.header))
        #expect(otherID != id)
        let another = try await HubFixture(dataset: dataset)
        #expect(await another.send("GET", "/v1/changes").header(FeedIdentity.header) != id)
        #expect(try await hub.storage.feedID() == id)
    }

    @Test func aSQLiteFeedKeepsItsIdentityAcrossAReopen() async throws {
        let folder = try TemporaryFolder()
        var storage: SQLiteHubStorage? = try SQLiteHubStorage(path: folder.child("hub.db"))
        let id = try await storage?.feedID()
        storage = nil
        let again = try SQLiteHubStorage(path: folder.child("hub.db"))
        #expect(try await again.feedID() == id)
        #expect(try await SQLiteHubStorage(path: folder.child("other.db")).feedID() != id)
    }

    /// Several hubs on one database serve one feed per dataset: the same ID through
    /// every storage over it, another for another dataset.
    @Test(.enabled(if: TestPostgres.url != nil, "needs ACCORD_TEST_POSTGRES_URL"))
    func aPostgresDatasetHasOneFeedIDForEveryHub() async throws {
        let postgres = try #require(HubFixture.postgres)
        try await HubFixture.migrated.value
        let key = "i\(UInt64.random(in: 0..<UInt64.max))"
        let id = try await postgres.storage(key: key).feedID()
        #expect(try await postgres.storage(key: key).feedID() == id)
        #expect(try await postgres.storage(key: key + "-other").feedID() != id)
    }

    /// A database written before feed IDs gets its ID from its history: a backup of
    /// it taken before the upgrade and restored after gets the same one again (its
    /// daemons carry on), and it has the UUID's form.
    @Test func aSQLiteDatabaseFromBeforeFeedIDsGetsTheSameIDEveryTime() async throws {
        let folder = try TemporaryFolder()
        let fixture = BuiltProducts.repositoryRoot + "/Tests/Fixtures/hub-before-datasets.db"
        var ids: [String] = []
        for name in ["live.db", "restored.db"] {
            try FileManager.default.copyItem(atPath: fixture, toPath: folder.child(name))
            ids.append(try await SQLiteHubStorage(path: folder.child(name)).feedID())
        }
        #expect(ids[0] == ids[1])
        #expect(ids[0].count == 36 && ids[0].split(separator: "-").map(\.count) == [8, 4, 4, 4, 12], "\(ids[0])")
        #expect(try await SQLiteHubStorage(path: folder.child("empty.db")).feedID() != ids[0])
    }

    @Test("bad feed parameters are 400", arguments: [["since": "-1"], ["since": "x"], ["limit": "0"], ["limit": "10001"], ["wait": "soon"]])
    func badFeedParameters(_ query: [String: String]) async throws {
        let hub = try await HubFixture()
        #expect(await hub.send("GET", "/v1/changes", query: query).status == 400)
    }

    @Test(arguments: HubFixture.datasets) func longPollIsWokenByAWrite(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let clock = ContinuousClock()
        let start = clock.now
        async let polled = hub.send("GET", "/v1/changes", query: ["since": "0", "wait": "60"])
        // The write happens once the poll is parked (or before: either way it must see it).
        let deadline = clock.now.advanced(by: .seconds(5))
        while hub.notifier.waiterCount == 0, clock.now < deadline { await Task.yield() }
        try await hub.create(agreementPath, agreementBody)
        let response = await polled
        let elapsed = clock.now - start
        #expect(json(response)?["changes"]?.arrayValue?.count == 1)
        // Far below the 60 s wait even on a loaded machine: woken by the write.
        #expect(elapsed < .seconds(40), "woken by the write, not by the 60 s timeout (took \(elapsed))")
    }

    @Test(arguments: HubFixture.datasets) func anEmptyPageNeverSkipsAConcurrentWrite(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        try await hub.create("/v1/records/agreement/a0", agreementBody)
        // Writers and a poller race; every seq the poller moves past must have been delivered.
        let writers = Task {
            for index in 1...150 { try await hub.create("/v1/records/agreement/a\(index)", agreementBody) }
        }
        var since: Int64 = 0
        var seen = Set<Int64>()
        while since < 151 {
            let page = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": String(since)])))
            let seqs = page["changes"]?.arrayValue?.compactMap { $0.objectValue?["seq"]?.numberValue.flatMap { Int64($0.literal) } } ?? []
            seen.formUnion(seqs)
            let last = try #require(page["last_seq"]?.numberValue.flatMap { Int64($0.literal) })
            #expect(last <= since || seqs.last == last, "last_seq \(last) beyond a page ending at \(String(describing: seqs.last))")
            since = max(since, last)
            await Task.yield()
        }
        try await writers.value
        #expect(seen == Set(1...151))
    }

    @Test(arguments: HubFixture.datasets) func longPollTimesOutEmpty(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let response = await hub.send("GET", "/v1/changes", query: ["since": "0", "wait": "1"])
        #expect(response.status == 200)
        #expect(json(response)?["changes"]?.arrayValue?.isEmpty == true)
    }

    @Test(arguments: HubFixture.datasets) func drainingReleasesLongPolls(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        async let polled = hub.send("GET", "/v1/changes", query: ["since": "0", "wait": "60"])
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while hub.notifier.waiterCount == 0, ContinuousClock.now < deadline { await Task.yield() }
        await hub.handler.drain()
        #expect(await polled.status == 200)
        #expect(await hub.send("GET", "/v1/health").status == 503)
    }

    @Test(arguments: HubFixture.datasets) func idempotentReplay(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let headers = ["If-None-Match": "*", "Idempotency-Key": "op-1"]
        let first = await hub.send("PUT", agreementPath, headers: headers, body: agreementBody)
        let second = await hub.send("PUT", agreementPath, headers: headers, body: agreementBody)
        #expect(first.status == 201)
        #expect(second.status == 201, "a replay returns the first response, not 412")
        #expect(second.header("ETag") == first.header("ETag"))
        #expect(second.bodyText == first.bodyText)
        #expect(second.header("Idempotent-Replayed") == "true")
        #expect(try await hub.storage.revisions(RecordKey(kind: "agreement", id: "us-japan-hns-fy2021"), before: nil, limit: 100).count == 1)
        let other = await hub.send("PUT", agreementPath, headers: headers, body: agreementBody.replacingOccurrences(of: "negotiating", with: "agreed"))
        #expect(other.status == 422)
        #expect(other.bodyText.contains("Idempotency-Key"))
    }

    @Test(arguments: HubFixture.datasets) func oldIdempotencyKeysArePurged(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let headers = ["If-None-Match": "*", "Idempotency-Key": "op-old"]
        #expect(await hub.send("PUT", agreementPath, headers: headers, body: agreementBody).status == 201)
        try await hub.storage.purgeIdempotencyKeys(olderThan: 3600)
        #expect(await hub.send("PUT", agreementPath, headers: headers, body: agreementBody).header("Idempotent-Replayed") == "true")
        try await hub.storage.purgeIdempotencyKeys(olderThan: -1)
        let afterPurge = await hub.send("PUT", agreementPath, headers: headers, body: agreementBody)
        #expect(afterPurge.status == 412, "once forgotten, the key no longer replays")
    }

    @Test func idempotencyKeysInFlightAreExclusive() {
        let gate = IdempotencyGate()
        #expect(gate.enter("k"))
        #expect(!gate.enter("k"))
        gate.leave("k")
        #expect(gate.enter("k"))
    }

    @Test(arguments: HubFixture.datasets) func sixteenConcurrentWritersOneWinner(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let rev = try await hub.create(agreementPath, agreementBody)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    await hub.send(
                        "PUT", agreementPath, headers: ["If-Match": rev], body: agreementBody.replacingOccurrences(of: "HNS FY2021", with: "writer \(writer)")
                    ).status
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 412 }.count == 15)
    }

    @Test(arguments: HubFixture.datasets) func bearerTokens(dataset: String) async throws {
        let hub = try await HubFixture(
            dataset: dataset,
            tokens: [
                TokenTable.Entry(name: "alice", sha256: ContentHash.hex("alice-secret"), access: .readWrite),
                TokenTable.Entry(name: "bob", sha256: ContentHash.hex("bob-secret"), access: .readOnly),
            ])
        #expect(await hub.send("GET", "/v1/health").status == 200, "health needs no token")
        let anonymous = await hub.send("GET", agreementPath)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(await hub.send("GET", agreementPath, headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(await hub.send("GET", agreementPath, headers: ["Authorization": "Bearer bob-secret"]).status == 404)
        let readOnlyWrite = await hub.send("PUT", agreementPath, headers: ["Authorization": "Bearer bob-secret", "If-None-Match": "*"], body: agreementBody)
        #expect(readOnlyWrite.status == 403)
        let write = await hub.send("PUT", agreementPath, headers: ["Authorization": "Bearer alice-secret", "If-None-Match": "*"], body: agreementBody)
        #expect(write.status == 201)
    }

    @Test(arguments: HubFixture.datasets) func unknownRoutesAndMethods(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        #expect(await hub.send("GET", "/v2/records").status == 404)
        #expect(await hub.send("GET", "/v1/nothing").status == 404)
        let post = await hub.send("POST", agreementPath, body: agreementBody)
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD, PUT, DELETE")
        #expect(await hub.send("HEAD", "/v1/changes").status == 200)
    }

    @Test func storageUsesFullSynchronousWAL() throws {
        let folder = try TemporaryFolder()
        let storage = try SQLiteHubStorage(path: folder.child("hub.db"))
        #expect(try storage.synchronousMode() == 2)
    }

    @Test func aSecondHubOnTheSameDatabaseIsRefused() throws {
        let folder = try TemporaryFolder()
        let first = try SQLiteHubStorage(path: folder.child("hub.db"))
        #expect(throws: DatabaseLockError.self) { _ = try SQLiteHubStorage(path: folder.child("hub.db")) }
        _ = first
    }
}

@Suite("Record depth and body forms (CONTRACT 8.4)")
struct HubBodyFormTests {
    /// A record whose field `x` holds `levels` nested arrays: the record is levels + 1 deep.
    func nested(_ levels: Int) -> String {
        #"{"title": "t", "parties": ["a", "b"], "status": "agreed", "x": "# + String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
            + "}"
    }

    @Test(arguments: HubFixture.datasets) func aRecordNests64LevelsAndNoMore(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let deepest = await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: nested(63))
        #expect(deepest.status == 201, "\(deepest.bodyText)")
        // Its wire form, one level deeper, is what every client reads.
        let read = await hub.send("GET", agreementPath)
        #expect(read.status == 200)
        #expect(json(read)?["fields"]?.objectValue?["x"].map { $0.depth } == 63)
        let tooDeep = await hub.send("PUT", "/v1/records/agreement/deeper", headers: ["If-None-Match": "*"], body: nested(64))
        #expect(tooDeep.status == 422)
        #expect(tooDeep.bodyText.contains("deeper than 64 levels"))
        let wrapped = await hub.send("PUT", "/v1/records/agreement/deeper", headers: ["If-None-Match": "*"], body: #"{"fields": "# + nested(64) + "}")
        #expect(wrapped.status == 422)
    }

    @Test(arguments: HubFixture.datasets) func aBareRecordMayHaveAFieldNamedFields(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let bare = #"{"title": "t", "parties": ["a", "b"], "status": "agreed", "fields": {"note": 1}}"#
        #expect(await hub.send("PUT", agreementPath, headers: ["If-None-Match": "*"], body: bare).status == 201)
        let read = try #require(json(await hub.send("GET", agreementPath)))
        #expect(read["fields"]?.objectValue?["fields"] == .object(["note": .number(JSONNumber(1))]))
        #expect(read["fields"]?.objectValue?["title"] == .string("t"))
    }
}
