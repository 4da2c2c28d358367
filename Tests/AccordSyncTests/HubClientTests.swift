import AccordCore
import AccordHTTP
import AccordTestSupport
import Glibc
import Testing

@testable import AccordSync

@Suite("Hub client against the real hub")
struct HubClientTests {
    let key = RecordKey(kind: "agreement", id: "us-japan-hns-fy2021")
    let fields: JSONObject = ["title": .string("HNS"), "parties": .array([.string("US"), .string("JP")]), "status": .string("negotiating")]

    @Test func createUpdateConflictDeleteAndFeed() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = HubClient(baseURL: "http://127.0.0.1:\(hub.port)", token: nil, http: http)
        #expect(try await client.record(key) == nil)
        guard case .applied(let created) = try await client.put(key, fields: fields, baseRev: nil, idempotencyKey: "k1") else {
            Issue.record("create failed")
            return
        }
        #expect(created.fields == fields)
        // A retry of the same operation is replayed, not applied twice.
        #expect(try await client.put(key, fields: fields, baseRev: nil, idempotencyKey: "k1") == .applied(created))
        var changed = fields
        changed["status"] = .string("extended")
        guard case .applied(let updated) = try await client.put(key, fields: changed, baseRev: created.rev, idempotencyKey: "k2") else {
            Issue.record("update failed")
            return
        }
        // A stale writer learns the current version.
        let stale = try await client.put(key, fields: fields, baseRev: created.rev, idempotencyKey: "k3")
        #expect(stale == .preconditionFailed(updated))
        guard case .applied(let tombstone) = try await client.delete(key, baseRev: updated.rev, idempotencyKey: "k4") else {
            Issue.record("delete failed")
            return
        }
        #expect(tombstone.deleted)
        #expect(try await client.record(key)?.deleted == true)
        let page = try await client.changes(since: 0, limit: 10, waitSeconds: 0)
        #expect(page.changes.map(\.key) == [key])
        #expect(page.changes.first?.deleted == true)
        #expect(page.lastSeq == 3)
    }

    @Test func schemaViolationsAreRejectedNotRetried() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = HubClient(baseURL: "http://127.0.0.1:\(hub.port)", token: nil, http: http)
        await #expect(throws: HubError.rejected(status: 422, detail: "agreement/us-japan-hns-fy2021 does not match the agreement schema")) {
            try await client.put(key, fields: ["title": .string("t")], baseRev: nil, idempotencyKey: "k")
        }
    }

    /// With several remotes (CONTRACT 8.5), one that cannot be reached is skipped at
    /// once and the next that answers stays current; an answer (even 404) is not a
    /// reason to move on.
    @Test func anUnreachableHubFailsOverToTheNextRemote() async throws {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = HubClient(baseURLs: ["http://127.0.0.1:9", "http://127.0.0.1:\(hub.port)"], token: nil, http: http)
        #expect(client.baseURL == "http://127.0.0.1:9")
        #expect(try await client.record(key) == nil)
        #expect(client.baseURL == "http://127.0.0.1:\(hub.port)")
        guard case .applied = try await client.put(key, fields: fields, baseRev: nil, idempotencyKey: "k1") else {
            Issue.record("create through the second remote failed")
            return
        }
        // Both gone: a retryable error that names each.
        hub.process.signal(SIGKILL)
        _ = try await hub.process.waitForExit(timeout: 10)
        do {
            _ = try await client.record(key)
            Issue.record("expected an error")
        } catch {
            guard case .retryable(let reason, _) = error else { Issue.record("got \(error)"); return }
            #expect(reason.contains("127.0.0.1:9") && reason.contains("127.0.0.1:\(hub.port)"), "\(reason)")
        }
    }

    @Test func anUnreachableHubIsRetryable() async throws {
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = HubClient(baseURL: "http://127.0.0.1:9", token: nil, http: http)
        do {
            _ = try await client.record(key)
            Issue.record("expected an error")
        } catch {
            guard case .retryable = error else { Issue.record("got \(error)"); return }
        }
    }
}

@Suite("Hub client: bodies the hub must read back exactly")
struct HubClientBodyTests {
    @Test func aRecordWhoseOnlyFieldIsNamedFieldsRoundTrips() async throws {
        // A kind whose schema takes any object: the record's one field is `fields`,
        // exactly the shape a bare body would have to be read as the wrapper.
        let schemas = try TemporaryFolder()
        _ = try schemas.write("note.schema.json", #"{"type": "object"}"#)
        let hub = try HubLauncher(schemas: schemas.path)
        let http = HTTPClient()
        defer { http.shutdown() }
        let client = HubClient(baseURL: "http://127.0.0.1:\(hub.port)", token: nil, http: http)
        let key = RecordKey(kind: "note", id: "wrapped")
        let tricky: JSONObject = ["fields": .object(["title": .string("t")])]
        guard case .applied(let stored) = try await client.put(key, fields: tricky, baseRev: nil, idempotencyKey: "w1") else {
            Issue.record("the hub refused a record with a field named fields")
            return
        }
        #expect(stored.fields == tricky)
        #expect(try await client.record(key)?.fields == tricky)
    }

    @Test func aLegacyDeepRecordIsReadNotFatal() throws {
        // An older hub accepted records 128 levels deep; their wire form is 129 deep.
        let deep = String(repeating: "[", count: 127) + String(repeating: "]", count: 127)
        let body = #"{"kind": "agreement", "id": "old", "rev": "1-a", "fields": {"x": "# + deep + "}}"
        let record = try HubClient.parseRecord(Array(body.utf8), key: RecordKey(kind: "agreement", id: "old"))
        #expect(record.rev == "1-a")
        #expect(record.fields["x"]?.depth == 127)
    }
}

@Suite("Hub client against a hub that sends hostile feed headers")
struct HostileFeedHeaderTests {
    func page(through fault: FaultProxy.Fault) async throws -> Result<SyncEngine.Page, HubError> {
        let hub = try HubLauncher()
        let http = HTTPClient()
        defer { http.shutdown() }
        let direct = HubClient(baseURL: "http://127.0.0.1:\(hub.port)", token: nil, http: http)
        _ = try await direct.put(
            RecordKey(kind: "agreement", id: "a"),
            fields: ["title": .string("A"), "parties": .array([.string("US"), .string("JP")]), "status": .string("signed")], baseRev: nil,
            idempotencyKey: "k1")
        let proxy = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 1, faults: [fault]))
        defer { proxy.stop() }
        let client = HubClient(baseURL: "http://127.0.0.1:\(proxy.port)", token: nil, http: http)
        do {
            return .success(try await client.changes(since: 1, limit: 10, waitSeconds: 0, fields: true))
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: [100_000, 1, 2])
    func aFeedIDThatIsNoIDIsRefusedInOneShortLine(_ variant: Int) async throws {
        // 100 KB of one letter, a control byte, a space.
        let value = [100_000: String(repeating: "f", count: 100_000), 1: "abc\u{1}def", 2: "two words"][variant]!
        let result = try await page(through: .replaceHeader(name: "Accord-Feed-Id", value: value))
        guard case .failure(let error) = result, case .protocolError(let message) = error else {
            Issue.record("accepted: \(result)")
            return
        }
        #expect(message.utf8.count < 200 && !message.contains("ffff") && !message.contains("\u{1}"), "\(message.prefix(300))")
    }

    @Test func aSinceRevThatIsNoRevIsIgnored() async throws {
        let result = try await page(through: .replaceHeader(name: "Accord-Since-Rev", value: "agreement/a abc\u{1}"))
        let page = try result.get()
        #expect(page.atSince == nil && page.feedID != nil)
    }

    @Test func wellFormedHeadersPassThrough() async throws {
        let page = try await page(through: .pass).get()
        #expect(page.atSince?.key == RecordKey(kind: "agreement", id: "a") && page.feedID.map(HubClient.isToken) == true)
    }
}
