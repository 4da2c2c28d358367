import AccordCore

/// One revision of a record as the hub keeps it (CONTRACT 8.2).
package struct RemoteRevision: Sendable, Equatable {
    package var rev: String
    package var seq: Int64
    package var deleted: Bool
    /// As the hub wrote it (RFC 3339, UTC).
    package var created: String
    /// The writing token's name; nil on an open hub or before the hub kept authors.
    package var author: String?
    /// nil for a deletion.
    package var fields: JSONObject?

    package init(rev: String, seq: Int64, deleted: Bool, created: String, author: String?, fields: JSONObject?) {
        self.rev = rev
        self.seq = seq
        self.deleted = deleted
        self.created = created
        self.author = author
        self.fields = fields
    }
}

extension HubClient {
    /// One page of a record's history, newest first: at most `limit` revisions older
    /// than seq `before`, and where the next page starts (nil: none older). nil when
    /// the hub never had the record.
    package func revisions(
        _ key: RecordKey, before: Int64? = nil, limit: Int = 100
    ) async throws(HubError) -> (revisions: [RemoteRevision], nextBefore: Int64?)? {
        var path = recordPath(key) + "/revisions?limit=\(limit)"
        if let before { path += "&before=\(before)" }
        let response = try await send("GET", path)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Self.failure(response) }
        guard let object = (try? JSONParser.parse(response.body, options: Self.parseOptions))?.objectValue,
            let list = object["revisions"]?.arrayValue
        else { throw HubError.protocolError("revisions of \(key): the body is not {\"revisions\": [...]}") }
        var revisions: [RemoteRevision] = []
        for entry in list {
            guard let item = entry.objectValue, let rev = item["rev"]?.stringValue,
                let seq = item["seq"]?.numberValue.flatMap({ Int64($0.literal) })
            else { throw HubError.protocolError("revisions of \(key): an entry has no rev or seq") }
            revisions.append(
                RemoteRevision(
                    rev: rev, seq: seq, deleted: item["deleted"] == .bool(true), created: item["created"]?.stringValue ?? "",
                    author: item["author"]?.stringValue, fields: item["fields"]?.objectValue))
        }
        return (revisions, object["next_before"]?.numberValue.flatMap { Int64($0.literal) })
    }

    /// The revision `rev` of `key`, looked for page by page (newest first); nil when
    /// the record or that revision is unknown.
    package func revision(_ key: RecordKey, rev: String, maxPages: Int = 100) async throws(HubError) -> RemoteRevision? {
        var before: Int64?
        for _ in 0..<maxPages {
            guard let page = try await revisions(key, before: before) else { return nil }
            if let found = page.revisions.first(where: { $0.rev == rev }) { return found }
            guard let next = page.nextBefore else { return nil }
            before = next
        }
        return nil
    }
}
