import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordHub

/// `POST /v1/batch` and `GET /v1/changes?fields=1` (CONTRACT 8.3).
@Suite("Batches and changes with fields")
struct BatchTests {
    /// One generated write: what a single request would send, and the same as a batch
    /// entry.
    struct Write {
        var id: String
        var ifMatch: String?
        var ifNoneMatch = false
        var status: String?
        var delete = false
        var key: String?

        var single: (method: String, path: String, headers: [String: String], body: String?) {
            var headers: [String: String] = [:]
            if let ifMatch { headers["If-Match"] = "\"\(ifMatch)\"" }
            if ifNoneMatch { headers["If-None-Match"] = "*" }
            if let key { headers["Idempotency-Key"] = key }
            let body = delete ? nil : #"{"kind": "agreement", "id": "\#(id)", "fields": \#(fields)}"#
            return (delete ? "DELETE" : "PUT", "/v1/records/agreement/\(id)", headers, body)
        }

        var fields: String { #"{"title": "t", "parties": ["a", "b"], "status": "\#(status ?? "negotiating")"}"# }

        var batchEntry: String {
            var parts = [#""kind": "agreement""#, #""id": "\#(id)""#]
            if let ifMatch { parts.append(#""if_match": "\#(ifMatch)""#) }
            if ifNoneMatch { parts.append(#""if_none_match": "*""#) }
            parts.append(delete ? #""delete": true"# : #""fields": \#(fields)"#)
            if let key { parts.append(#""idempotency_key": "\#(key)""#) }
            return "{" + parts.joined(separator: ", ") + "}"
        }
    }

    /// Random writes over a few ids, with revs both current and stale (the generator
    /// tracks what the hub should hold), repeats of idempotency keys with the same and
    /// with a different request, deletes, and writes with no precondition.
    static func workload(seed: UInt64, count: Int) -> [Write] {
        var random = SplitMix(state: seed)
        var revs: [String: String] = [:]
        var writes: [Write] = []
        let statuses = ["negotiating", "agreed", "signed", "extended"]
        for index in 0..<count {
            let id = "r\(random.next() % 6)"
            var write = Write(id: id, status: statuses[Int(random.next() % 4)])
            switch random.next() % 10 {
            case 0: write.ifNoneMatch = true
            case 1: write.ifMatch = "9-stale"
            case 2: break  // no precondition: 428
            case 3:
                write.delete = true
                write.ifMatch = revs[id] ?? "1-none"
            case 4 where !writes.isEmpty:
                write = writes[Int(random.next() % UInt64(writes.count))]  // a retry, same key
            case 5 where !writes.isEmpty:
                write.key = writes[Int(random.next() % UInt64(writes.count))].key  // a key reused for another request
                write.ifMatch = revs[id]
                write.ifNoneMatch = revs[id] == nil
            default:
                write.ifMatch = revs[id]
                write.ifNoneMatch = revs[id] == nil
            }
            if write.key == nil, random.next() % 2 == 0 { write.key = "k\(index)" }
            writes.append(write)
            // The stand-in only needs a plausible rev for later preconditions.
            revs[id] = revs[id] ?? "1-unknown"
        }
        return writes
    }

    /// Every record's rev and fields on a hub, by id.
    static func state(_ hub: HubFixture) async throws -> [String: String] {
        var found: [String: String] = [:]
        for entry in try await hub.storage.changes(since: 0, limit: 10_000, fields: true) {
            found[entry.key.id] = "\(entry.rev) \(entry.deleted) \(entry.fieldsJSON ?? "")"
        }
        return found
    }

    @Test("a batch gives exactly what the same writes one by one give", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func batchEqualsSingles(_ seed: UInt64) async throws {
        // Two rounds, so preconditions can name the revs the first round made.
        let singles = try await HubFixture()
        let batched = try await HubFixture()
        for round in 0..<2 {
            var writes = Self.workload(seed: seed * 10 + UInt64(round), count: 60)
            // The second round's preconditions name real revs from the first.
            let known = try await Self.state(singles)
            for index in writes.indices where writes[index].ifMatch == "1-unknown" {
                writes[index].ifMatch = known[writes[index].id].map { String($0.split(separator: " ")[0]) } ?? "1-unknown"
            }
            var singleStatuses: [Int] = []
            for write in writes {
                let request = write.single
                singleStatuses.append(await singles.send(request.method, request.path, headers: request.headers, body: request.body).status)
            }
            let response = await batched.send("POST", "/v1/batch", body: #"{"writes": ["# + writes.map(\.batchEntry).joined(separator: ", ") + "]}")
            #expect(response.status == 200, "\(response.bodyText)")
            let results = try #require(json(response)?["results"]?.arrayValue)
            let batchStatuses = results.compactMap { $0.objectValue?["status"]?.numberValue.flatMap { Int($0.literal) } }
            #expect(batchStatuses == singleStatuses, "seed \(seed) round \(round)")
            #expect(try await Self.state(batched) == Self.state(singles), "seed \(seed) round \(round)")
        }
    }

    @Test(arguments: HubFixture.datasets) func aBatchCarriesRevsCurrentsAndProblems(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let rev = try await hub.create(agreementPath, agreementBody)
        let body = #"""
            {"writes": [
              {"kind": "agreement", "id": "new", "if_none_match": "*", "fields": {"title": "t", "parties": ["a", "b"], "status": "agreed"}},
              {"kind": "agreement", "id": "us-japan-hns-fy2021", "if_match": "1-stale", "fields": {"title": "t", "parties": ["a", "b"], "status": "agreed"}},
              {"kind": "agreement", "id": "bad", "if_none_match": "*", "fields": {"title": "t"}},
              {"kind": "agreement", "id": "x"},
              {"kind": "BAD", "id": "x", "if_none_match": "*", "fields": {}},
              {"kind": "agreement", "id": "us-japan-hns-fy2021", "if_match": "\#(rev)", "delete": true}
            ]}
            """#
        let response = await hub.send("POST", "/v1/batch", body: body)
        #expect(response.status == 200)
        let results = try #require(json(response)?["results"]?.arrayValue).compactMap(\.objectValue)
        #expect(results.map { $0["status"] } == [201, 412, 422, 428, 400, 204].map { .number(JSONNumber($0)) })
        #expect(results[0]["rev"]?.stringValue?.hasPrefix("1-") == true)
        #expect(results[1]["current"]?.objectValue?["rev"] == .string(rev))
        #expect(results[2]["problem"]?.objectValue?["errors"] != nil)
        #expect(results[5]["rev"] != nil)
        // One commit: the feed shows both applied writes.
        #expect(try await hub.storage.lastSeq() == 3)
    }

    @Test(arguments: HubFixture.datasets) func aBatchIsBoundedAndReadOnlyTokensMayNotSendOne(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset, tokens: [TokenTable.Entry(name: "reader", sha256: ContentHash.hex("r"), access: .readOnly)])
        let refused = await hub.send("POST", "/v1/batch", headers: ["Authorization": "Bearer r"], body: #"{"writes": []}"#)
        #expect(refused.status == 403)
        let open = try await HubFixture(dataset: dataset)
        let writes = (0...HubHandler.maxBatchWrites).map { #"{"kind": "agreement", "id": "r\#($0)", "if_none_match": "*", "fields": {}}"# }
        let tooMany = await open.send("POST", "/v1/batch", body: #"{"writes": ["# + writes.joined(separator: ",") + "]}")
        #expect(tooMany.status == 413)
        #expect(await open.send("POST", "/v1/batch", body: "[]").status == 400)
        #expect(await open.send("GET", "/v1/batch").status == 405)
    }

    @Test(arguments: HubFixture.datasets) func changesCarryFieldsAndStopBefore4MiB(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        let big = String(repeating: "x", count: 900_000)
        for index in 0..<6 {
            try await hub.create("/v1/records/agreement/big\(index)", #"{"title": "\#(big)", "parties": ["a", "b"], "status": "agreed"}"#)
        }
        _ = await hub.send("DELETE", "/v1/records/agreement/big0", headers: ["If-Match": "*"])
        let page = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "0", "fields": "1"])))
        let changes = try #require(page["changes"]?.arrayValue).compactMap(\.objectValue)
        #expect(changes.count == 4, "4 records of 0.9 MB fit in 4 MiB, a fifth does not")
        #expect(changes.allSatisfy { $0["fields"]?.objectValue?["title"] == .string(big) })
        #expect(page["last_seq"] == changes.last?["seq"])
        // A deletion carries no fields; without fields=1 nothing does.
        let rest = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "\(page["last_seq"]!.numberValue!.literal)", "fields": "1"])))
        let last = try #require(rest["changes"]?.arrayValue?.last?.objectValue)
        #expect(last["deleted"] == .bool(true) && last["fields"] == nil)
        let plain = try #require(json(await hub.send("GET", "/v1/changes", query: ["since": "0"])))
        #expect(plain["changes"]?.arrayValue?.count == 6)
        #expect(plain["changes"]?.arrayValue?.allSatisfy { $0.objectValue?["fields"] == nil } == true)
        #expect(await hub.send("GET", "/v1/changes", query: ["fields": "yes"]).status == 400)
    }
}

/// A small seeded generator (splitmix64) for test workloads.
struct SplitMix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
