import AccordCore

/// The changes feed (`GET …/changes`): a page after a cursor, a long-poll when there
/// is nothing yet, fields on request within a page's byte budget.
extension HubHandler {
    func changes(_ request: HubRequest, _ dataset: HubDataset) async throws -> HubResponse {
        let storage = dataset.storage
        let since = try integer(request.query["since"], name: "since", default: 0, range: 0...Int64.max)
        let limit = Int(try integer(request.query["limit"], name: "limit", default: Int64(Self.defaultLimit), range: 1...Int64(Self.maxLimit)))
        let wait = Int(try integer(request.query["wait"], name: "wait", default: 0, range: 0...Int64.max))
        let withFields = try flag(request.query["fields"], name: "fields")
        var entries = try await storage.changes(since: since, limit: limit, fields: withFields)
        // A client ahead of the hub (a restored database) learns it at once, not after
        // waiting out its long-poll.
        if entries.isEmpty, wait > 0, since <= (try await storage.lastSeq()) {
            guard admitLongPoll() else {
                throw WireError(
                    status: 503, title: "Too many long-polls", detail: "the hub holds its most long-polls (max_long_polls); retry after the delay",
                    headers: [("Retry-After", "2")])
            }
            await dataset.notifier.wait(after: since, timeout: .seconds(min(wait, Self.maxWaitSeconds)))
            // The slot is given back as soon as the wait ends (cannot throw), before the
            // read that follows: a long-poll whose client hung up frees it at once.
            finishLongPoll()
            entries = try await storage.changes(since: since, limit: limit, fields: withFields)
        }
        // A page with fields stops early rather than pass 4 MiB, but holds at least one.
        if withFields {
            var size = 0
            var kept = 0
            for entry in entries {
                size += (entry.fieldsJSON?.utf8.count ?? 0) + 160
                if kept > 0, size > Self.maxPageBytes { break }
                kept += 1
            }
            entries.removeLast(entries.count - kept)
        }
        // An empty page must not report a seq it did not include: a write committed
        // between the two reads would be skipped by a client that moves to last_seq.
        // `since` is safe (nothing missed); the hub's seq only when the client is ahead.
        var last = entries.last?.seq ?? since
        if entries.isEmpty { last = min(since, try await storage.lastSeq()) }
        var response = HubResponse.json(200, WireFormat.changes(entries, lastSeq: last))
        // Read after the entries: a database replaced during a long-poll must not have
        // its entries sent under the old one's ID.
        async let sinceRevision = since > 0 ? storage.revision(atSeq: since) : nil
        response.headers.append((FeedIdentity.header, try await storage.feedID()))
        if let at = try await sinceRevision { response.headers.append((FeedIdentity.sinceHeader, "\(at.key) \(at.rev)")) }
        return response
    }

    /// `1`, `true` or absent/`0`, `false`.
    private func flag(_ text: String?, name: String) throws(WireError) -> Bool {
        switch text {
        case nil, "0", "false": return false
        case "1", "true": return true
        case let other?: throw WireError(status: 400, title: "Invalid \(name)", detail: "\(name) must be 1 or 0, not \"\(other)\"")
        }
    }
}
