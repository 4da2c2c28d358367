import AccordCore
import AccordTestSupport
import Testing

@testable import AccordHub

/// The in-memory changes feed must answer every page exactly as the database does
/// (SQLite's: on PostgreSQL every page comes from the database).
@Suite(.enabled(if: !HubFixture.onPostgres)) struct FeedIndexTests {
    /// The feed by definition: each record's latest version, seq > since, in seq order.
    static func model(_ history: [StoredRecord], since: Int64, limit: Int) -> [FeedIndex.Entry] {
        var latest: [RecordKey: StoredRecord] = [:]
        for record in history { latest[record.key] = record }
        return Array(
            latest.values.filter { $0.seq > since }.sorted { $0.seq < $1.seq }.prefix(limit)
                .map { FeedIndex.Entry(seq: $0.seq, key: $0.key, rev: $0.rev, deleted: $0.deleted) })
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func pagesMatchTheDefinitionThroughTrimsAndCompactions(_ seed: UInt64) {
        var random = SplitMix(state: seed)
        let index = FeedIndex(floor: 0, maxEntries: 16)
        var history: [StoredRecord] = []
        for seq in Int64(1)...300 {
            let key = RecordKey(kind: "news", id: "r\(random.next() % 12)")
            let record = StoredRecord(key: key, rev: "\(seq)-x", seq: seq, deleted: random.next() % 5 == 0, fieldsJSON: "{}")
            history.append(record)
            index.committed([record])
            for since in stride(from: Int64(0), through: seq, by: 7) {
                for limit in [1, 3, 100] {
                    guard let page = index.page(since: since, limit: limit) else { continue }  // below the floor
                    #expect(page == Self.model(history, since: since, limit: limit), "seed \(seed), seq \(seq), since \(since), limit \(limit)")
                }
            }
        }
        // After trims, old points go to the database; the newest is always held.
        #expect(index.page(since: 0, limit: 10) == nil)
        #expect(index.page(since: 300, limit: 10) == [])
    }

    @Test(arguments: HubFixture.datasets) func theHubAnswersFromMemoryWhatTheDatabaseWould(dataset: String) async throws {
        let hub = try await HubFixture(dataset: dataset)
        var random = SplitMix(state: 7)
        var revs: [String: String] = [:]
        for _ in 0..<300 {
            let id = "r\(random.next() % 40)"
            let path = "/v1/records/agreement/\(id)"
            let body = agreementBody.replacingOccurrences(of: "HNS FY2021", with: "HNS \(random.next() % 1000)")
            if let rev = revs[id] {
                if random.next() % 6 == 0 {
                    let deleted = await hub.send("DELETE", path, headers: ["If-Match": "\"\(rev)\""])
                    if deleted.status == 204 { revs[id] = nil }
                } else {
                    let updated = await hub.send("PUT", path, headers: ["If-Match": "\"\(rev)\""], body: body)
                    revs[id] = updated.header("ETag").map { String($0.dropFirst().dropLast()) } ?? rev
                }
            } else {
                let created = await hub.send("PUT", path, headers: ["If-None-Match": "*"], body: body)
                if let etag = created.header("ETag") { revs[id] = String(etag.dropFirst().dropLast()) }
                if created.status == 412, let etag = created.header("ETag") { revs[id] = String(etag.dropFirst().dropLast()) }
            }
        }
        let last = try await hub.storage.lastSeq()
        #expect(last > 250)
        for since in stride(from: Int64(0), through: last, by: 5) {
            for limit in [1, 7, 1000] {
                for fields in [false, true] {
                    let served = try await hub.storage.changes(since: since, limit: limit, fields: fields)
                    let stored = try #require(hub.sqlite).changesFromDatabase(since: since, limit: limit, fields: fields)
                    #expect(served == stored, "since \(since), limit \(limit), fields \(fields)")
                }
            }
        }
    }
}
