import AccordCore
import AccordHTTP
import AccordStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A record as the hub holds it; a tombstone has `deleted` and no fields.
package typealias RemoteRecord = VersionedRecord

/// One entry of the changes feed.
package struct RemoteChange: Sendable, Equatable {
    package var seq: Int64
    package var key: RecordKey
    package var rev: String
    package var deleted: Bool
    /// The record's fields at `rev`, when the page carried them (`fields=1`).
    package var fields: JSONObject?

    package init(seq: Int64, key: RecordKey, rev: String, deleted: Bool, fields: JSONObject? = nil) {
        self.seq = seq
        self.key = key
        self.rev = rev
        self.deleted = deleted
        self.fields = fields
    }

    /// The hub's version this change announces, when the page carried it whole.
    package var remote: RemoteRecord? {
        if deleted { return RemoteRecord(key: key, rev: rev, deleted: true, fields: JSONObject()) }
        return fields.map { RemoteRecord(key: key, rev: rev, deleted: false, fields: $0) }
    }
}

/// Why a hub call did not succeed, and whether trying again can help.
package enum HubError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Network trouble or a 408/429/5xx: retry later, not before `retryAfter` seconds.
    case retryable(reason: String, retryAfter: Double?)
    /// The hub refused the request for good (400, 401, 403, 404, 413, 422...).
    case rejected(status: Int, detail: String)
    /// The answer made no sense (a body that is not protocol v1).
    case protocolError(String)

    package var description: String {
        switch self {
        case .retryable(let reason, let after): "hub unavailable: \(reason)" + (after.map { " (retry after \($0) s)" } ?? "")
        case .rejected(let status, let detail): "hub refused (\(status)): \(detail)"
        case .protocolError(let reason): "unexpected hub answer: \(reason)"
        }
    }
}

/// The outcome of a conditional write.
package enum HubWriteResult: Sendable, Equatable {
    /// Applied (or replayed): the hub's new version.
    case applied(RemoteRecord)
    /// 412: the hub holds another version (nil when the record does not exist).
    case preconditionFailed(RemoteRecord?)
}

/// Protocol v1 from the client side (CONTRACT section 3), over `HTTPClient`.
package final class HubClient: Sendable {
    /// The hubs' base URLs, in the config's order (CONTRACT 8.5: several hubs on one
    /// database). Requests go to the one that last answered; when it cannot be
    /// reached, the next are tried at once, in order.
    package let baseURLs: [String]
    private let current = Mutex(0)
    /// How many times requests moved to another hub: the engine looks at the feed
    /// again after a move, since the next hub may serve an older copy of the data.
    private let moves = Mutex(0)
    package var hubMoves: Int { moves.withLock { $0 } }
    /// The hub's dataset (CONTRACT 8.1).
    package let dataset: String
    /// `/v1` for `default` (so an older hub without datasets is served as before),
    /// `/v1/datasets/{dataset}` for the others.
    let apiPrefix: String
    private let http: HTTPClient
    private let token: String?
    /// For a `Retry-After` given as a date.
    private let clock: any SyncClock

    package convenience init(
        baseURL: String, dataset: String = DatasetName.defaultName, token: String?, http: HTTPClient, clock: any SyncClock = WallClock()
    ) {
        self.init(baseURLs: [baseURL], dataset: dataset, token: token, http: http, clock: clock)
    }

    package init(baseURLs: [String], dataset: String = DatasetName.defaultName, token: String?, http: HTTPClient, clock: any SyncClock = WallClock()) {
        precondition(!baseURLs.isEmpty, "a hub client needs at least one URL")
        self.baseURLs = baseURLs.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.dataset = dataset
        apiPrefix = dataset == DatasetName.defaultName ? "/v1" : "/v1/datasets/\(dataset)"
        self.token = token
        self.http = http
        self.clock = clock
    }

    /// The current version, a tombstone (deleted), or nil when the hub never had it.
    package func record(_ key: RecordKey) async throws(HubError) -> RemoteRecord? {
        let response = try await send("GET", recordPath(key))
        switch response.status {
        case 200, 410: return try Self.parseRecord(response.body, key: key)
        case 404: return nil
        default: throw Self.failure(response)
        }
    }

    /// PUT with `If-Match: baseRev`, or `If-None-Match: *` when `baseRev` is nil.
    package func put(_ key: RecordKey, fields: JSONObject, baseRev: String?, idempotencyKey: String) async throws(HubError) -> HubWriteResult {
        var headers = [("Content-Type", "application/json"), ("Idempotency-Key", idempotencyKey)]
        headers.append(baseRev.map { ("If-Match", "\"\($0)\"") } ?? ("If-None-Match", "*"))
        // Always the wire form: a record with a field named "fields" must not be taken
        // for the wrapper.
        let wire: JSONObject = ["kind": .string(key.kind), "id": .string(key.id), "fields": .object(fields)]
        let body = Array(JSONWriter.line(.object(wire)).utf8)
        let response = try await send("PUT", recordPath(key), headers: headers, body: body)
        switch response.status {
        case 200, 201: return .applied(try Self.parseRecord(response.body, key: key))
        case 412: return .preconditionFailed(response.header("etag") == nil ? nil : try Self.parseRecord(response.body, key: key))
        default: throw Self.failure(response)
        }
    }

    /// DELETE with `If-Match: baseRev`. A record the hub never had counts as deleted.
    package func delete(_ key: RecordKey, baseRev: String, idempotencyKey: String) async throws(HubError) -> HubWriteResult {
        let response = try await send(
            "DELETE", recordPath(key), headers: [("If-Match", "\"\(baseRev)\""), ("Idempotency-Key", idempotencyKey)])
        switch response.status {
        case 204:
            let rev = response.header("etag").map { $0.trimming("\"") } ?? baseRev
            return .applied(RemoteRecord(key: key, rev: rev, deleted: true, fields: JSONObject()))
        case 404: return .applied(RemoteRecord(key: key, rev: baseRev, deleted: true, fields: JSONObject()))
        case 412: return .preconditionFailed(response.header("etag") == nil ? nil : try Self.parseRecord(response.body, key: key))
        default: throw Self.failure(response)
        }
    }

    /// One page of the changes feed after `since`; with `waitSeconds`, a long-poll;
    /// with `fields`, each live change carries the record's fields (CONTRACT 8.3).
    /// `feedID` is the feed's identity, nil from a hub that sends none; `atSince`
    /// the write that took seq `since` (`Accord-Since-Rev`), nil when not sent.
    package func changes(
        since: Int64, limit: Int, waitSeconds: Int, fields: Bool = false
    ) async throws(HubError) -> (
        changes: [RemoteChange], lastSeq: Int64, feedID: String?, atSince: FeedAnchor?
    ) {
        let response = try await send(
            "GET", apiPrefix + "/changes?since=\(since)&limit=\(limit)&wait=\(waitSeconds)" + (fields ? "&fields=1" : ""),
            timeout: Double(waitSeconds) + Self.longPollGraceSeconds, longPoll: waitSeconds > 0)
        guard response.status == 200 else { throw Self.failure(response) }
        guard let object = (try? JSONParser.parse(response.body, options: Self.parseOptions))?.objectValue, let list = object["changes"]?.arrayValue,
            let last = object["last_seq"]?.numberValue.flatMap({ Int64($0.literal) })
        else { throw HubError.protocolError("changes feed body is not {\"changes\": [...], \"last_seq\": N}") }
        var changes: [RemoteChange] = []
        for entry in list {
            // An entry that names no record we could hold is passed over: one bad entry
            // must not stop the feed.
            guard let item = entry.objectValue, let seq = item["seq"]?.numberValue.flatMap({ Int64($0.literal) }),
                let kind = item["kind"]?.stringValue, let id = item["id"]?.stringValue, let rev = item["rev"]?.stringValue,
                RecordKey.isValidKind(kind), RecordKey.isValidID(id)
            else { continue }
            changes.append(
                RemoteChange(
                    seq: seq, key: RecordKey(kind: kind, id: id), rev: rev, deleted: item["deleted"] == .bool(true), fields: item["fields"]?.objectValue))
        }
        let feedID = response.header("accord-feed-id").flatMap { $0.isEmpty ? nil : $0 }
        if let feedID, !Self.isToken(feedID) {
            throw HubError.protocolError("the hub's Accord-Feed-Id is not a feed ID (\(feedID.utf8.count) bytes, or not printable ASCII)")
        }
        return (changes, last, feedID, response.header("accord-since-rev").flatMap { Self.revision($0, seq: since) })
    }

    /// `KIND/ID REV` as the write that took `seq`; nil when unreadable.
    static func revision(_ text: String, seq: Int64) -> FeedAnchor? {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, let key = RecordKey(parts[0]), isToken(parts[1]) else { return nil }
        return FeedAnchor(seq: seq, key: key, rev: parts[1])
    }

    /// A feed ID or rev as a hub makes them: 1 to 128 printable ASCII characters, no
    /// space. Anything else from a header is refused before it can reach the state,
    /// the journal or status (a 100 KB value, a control byte).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// When the hub stored revision `rev` (seconds since 1970), from its history.
    package func revisionTime(_ key: RecordKey, rev: String) async throws(HubError) -> Double? {
        let response = try await send("GET", recordPath(key) + "/revisions")
        guard response.status == 200 else { throw Self.failure(response) }
        let entries = (try? JSONParser.parse(response.body, options: Self.parseOptions))?.objectValue?["revisions"]?.arrayValue ?? []
        let entry = entries.first { $0.objectValue?["rev"] == .string(rev) }?.objectValue
        return entry?["created"]?.stringValue.flatMap(RFC3339.parse)
    }

    // MARK: Plumbing

    /// A long-poll may take this much longer than its `wait` before the link counts as
    /// dead (CONTRACT 8.6: an idle daemon notices a dead link within a minute).
    static let longPollGraceSeconds = 5.0

    /// Answers are read with room to spare beyond the contract's 64 levels, so a
    /// record that an older hub accepted deeper is still read (and then refused with a
    /// clear reason) instead of stopping the feed.
    static let parseOptions = JSONParser.Options(maxDepth: 256)

    func recordPath(_ key: RecordKey) -> String { apiPrefix + "/records/\(key.kind)/\(key.id)" }

    /// The hub requests go to now.
    package var baseURL: String { baseURLs[current.withLock { $0 }] }

    /// Sends to the current hub; when it cannot be reached (a transport error) or
    /// cannot serve now (502, 503 or 504: its database is gone, it is shutting down,
    /// the proxy in front of it has no backend), to the next ones in turn, and the
    /// first that answers otherwise becomes current. When every hub fails so, the
    /// last such answer is returned (its Retry-After is honoured), else an error that
    /// names each hub's failure. Writes carry idempotency keys, so one sent again to
    /// another hub of the same database replays if the first did commit it.
    private func sendToAHub(_ request: HTTPRequest) async throws -> HTTPResponse {
        let first = current.withLock { $0 }
        var failures: [String] = []
        var unavailable: HTTPResponse?
        var index = first
        while true {
            var attempt = request
            attempt.url = baseURLs[index] + request.url
            do {
                let response = try await http.send(attempt)
                guard baseURLs.count > 1, Self.passesOver(response.status) else {
                    if index != first {
                        current.withLock { $0 = index }
                        moves.withLock { $0 += 1 }
                    }
                    return response
                }
                unavailable = response
                failures.append("\(baseURLs[index]): HTTP \(response.status)")
            } catch {
                guard error.isTransient, baseURLs.count > 1 else { throw error }
                failures.append("\(baseURLs[index]): \(error)")
            }
            index = (index + 1) % baseURLs.count
            if index == first {
                if let unavailable { return unavailable }
                throw HubError.retryable(reason: "no hub answered: " + failures.joined(separator: "; "), retryAfter: nil)
            }
        }
    }

    /// Answers that say this hub, or the proxy in front of it, cannot serve now.
    static func passesOver(_ status: Int) -> Bool { status == 502 || status == 503 || status == 504 }

    func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Double? = nil, longPoll: Bool = false
    ) async throws(HubError) -> HTTPResponse {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        do {
            var request = HTTPRequest(method: method, url: path, headers: all, body: body, timeoutSeconds: timeout)
            request.isLongPoll = longPoll
            let response = try await sendToAHub(request)
            // A dataset the token may not see is not a missing record: nothing may be
            // taken as deleted or absent; the work waits until the grant is fixed.
            if response.status == 404, (try? JSONParser.parse(response.body))?.objectValue?["title"] == .string("Dataset not found") {
                throw HubError.retryable(
                    reason: "the hub has no dataset \"\(dataset)\" this token may see; check dataset in the config and the token's datasets on the hub",
                    retryAfter: nil)
            }
            if RetryPolicy.decision(forStatus: response.status) == .retry {
                let after = response.header("retry-after").flatMap { RetryPolicy.retryAfterSeconds($0, now: clock.now()) }
                if response.status == 401 || response.status == 403 {
                    let detail = (try? JSONParser.parse(response.body))?.objectValue?["detail"]?.stringValue ?? "status \(response.status)"
                    throw HubError.retryable(reason: "the hub refused the token (\(response.status)): \(detail); check token_file", retryAfter: after)
                }
                throw HubError.retryable(reason: "\(method) \(path) answered \(response.status)", retryAfter: after)
            }
            return response
        } catch let error as HubError {
            throw error
        } catch let error as HTTPClientError {
            if error.isTransient { throw HubError.retryable(reason: "\(baseURL): \(error)", retryAfter: nil) }
            throw HubError.protocolError("\(method) \(path): \(error)")
        } catch {
            throw HubError.protocolError("\(method) \(path): \(error)")
        }
    }

    static func failure(_ response: HTTPResponse) -> HubError {
        let detail = (try? JSONParser.parse(response.body))?.objectValue?["detail"]?.stringValue ?? "status \(response.status)"
        return .rejected(status: response.status, detail: detail)
    }

    static func parseRecord(_ body: [UInt8], key: RecordKey) throws(HubError) -> RemoteRecord {
        guard let object = (try? JSONParser.parse(body, options: parseOptions))?.objectValue, let rev = object["rev"]?.stringValue else {
            throw HubError.protocolError("record body for \(key) has no rev")
        }
        guard object["kind"] == .string(key.kind), object["id"] == .string(key.id) else {
            throw HubError.protocolError("the hub answered for another record than \(key)")
        }
        if object["deleted"] == .bool(true) { return RemoteRecord(key: key, rev: rev, deleted: true, fields: JSONObject()) }
        guard let fields = object["fields"]?.objectValue else { throw HubError.protocolError("record body for \(key) has no fields") }
        return RemoteRecord(key: key, rev: rev, deleted: false, fields: fields)
    }
}

/// `2021-01-28T12:00:00.123Z` (UTC, as the hub writes it) to seconds since 1970.
package enum RFC3339 {
    /// Seconds since 1970 as `2021-01-28T12:00:00Z` (UTC, whole seconds).
    package static func format(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    package static func parse(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? { Int(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var fraction = 0.0
        if bytes[19] == UInt8(ascii: "."), let digits = Double("0" + String(decoding: bytes[19..<(bytes.count - 1)], as: UTF8.self)) {
            fraction = digits
        }
        let days = HTTPDate.daysSinceEpoch(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
    }
}
