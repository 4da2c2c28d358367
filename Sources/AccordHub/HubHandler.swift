import AccordCore
import Logging
import Synchronization

/// Protocol v1 (CONTRACT section 3) as one function from request to response, apart
/// from any HTTP library: routing, auth, preconditions, validation, idempotency and
/// the changes feed. The server shell only moves bytes in and out.
package final class HubHandler: Sendable {
    /// Every dataset served, by name; `default` is always among them.
    let datasets: [String: HubDataset]
    /// The same, `default` first, then in the config's order.
    package let datasetList: [HubDataset]
    /// Replaced whole by a reload (SIGHUP); requests in flight keep the table they read.
    private let tokenTable: Mutex<TokenTable>
    package var tokens: TokenTable { tokenTable.withLock { $0 } }
    let maxBodyBytes: Int
    let limits: HubLimits
    /// Long-polls waiting now, and writes admitted and not yet answered.
    private let load = Mutex((longPolls: 0, writes: 0))
    let logger: Logger
    private let ready = Mutex(false)

    package static let maxWaitSeconds = 60
    package static let defaultLimit = 1000
    package static let maxLimit = 10_000
    /// A page of changes with fields stops before this many bytes (CONTRACT 8.3).
    package static let maxPageBytes = 4 << 20
    /// Revisions per page: the default and the most (CONTRACT 8.2).
    package static let maxRevisionPage = 100

    /// `datasets` must hold `default`.
    package init(datasets: [HubDataset], tokens: TokenTable, maxBodyBytes: Int, limits: HubLimits = HubLimits(), logger: Logger) {
        Swift.precondition(datasets.contains { $0.name == DatasetConfig.defaultName }, "a hub always serves the dataset default")
        datasetList = datasets
        self.datasets = Dictionary(datasets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.tokenTable = Mutex(tokens)
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
        self.logger = logger
    }

    /// A hub with the dataset `default` only.
    package convenience init(
        storage: any HubStorage, schemas: SchemaSet, tokens: TokenTable, maxBodyBytes: Int, limits: HubLimits = HubLimits(), logger: Logger
    ) {
        self.init(
            datasets: [HubDataset(name: DatasetConfig.defaultName, storage: storage, schemas: schemas)], tokens: tokens, maxBodyBytes: maxBodyBytes,
            limits: limits, logger: logger)
    }

    /// What can be decided from the method, path and headers alone (authentication,
    /// access): the server asks before it reads a body, so a refused client's body is
    /// never buffered, and hands the answer on in `HubRequest.authorization`.
    package func authorizeBeforeBody(method: String, path: String, headers: [String: String]) -> Authorization {
        if path == "/v1/health" { return .allowed(tokenName: nil) }  // answered before auth
        return authorize(HubRequest(method: method, path: path, headers: headers))
    }

    /// A reload: new requests are checked against `tokens`.
    package func replaceTokens(_ tokens: TokenTable) {
        tokenTable.withLock { $0 = tokens }
    }

    /// Readiness for `/v1/health`: true once storage is open, false again while draining.
    package func setReady(_ value: Bool) async throws {
        if value {
            for dataset in datasetList { dataset.notifier.published(try await dataset.storage.lastSeq()) }
        }
        ready.withLock { $0 = value }
    }

    /// Shutting down: health reports 503 and every long-poll returns now.
    package func drain() async {
        ready.withLock { $0 = false }
        for dataset in datasetList { dataset.notifier.drain() }
    }

    /// The path's segments after `/v1`, decoded; nil outside the API.
    static func routeSegments(_ path: String) -> [String]? {
        // Split first, then decode: an encoded slash (%2F) stays inside its segment.
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { PercentDecoding.decode(String($0)) }
        guard segments.first == "v1" else { return nil }
        return Array(segments.dropFirst())
    }

    /// The dataset a route addresses and the route inside it: `/v1/datasets/{d}/...` or,
    /// unprefixed, `default` (CONTRACT 8.1); nil for the list `/v1/datasets` itself.
    static func datasetRoute(_ route: [String]) -> (dataset: String, rest: [String])? {
        guard route.first == "datasets" else { return (DatasetConfig.defaultName, route) }
        guard route.count >= 2 else { return nil }
        return (route[1], Array(route.dropFirst(2)))
    }

    /// The same answer for a dataset that does not exist and one the token may not see,
    /// so a token learns nothing about the datasets it was not given.
    static func datasetNotFound(_ name: String) -> HubResponse {
        .problem(404, "Dataset not found", "no dataset \"\(name)\" that this token may see; GET /v1/datasets lists those it may")
    }

    package func handle(_ request: HubRequest) async -> HubResponse {
        guard let route = Self.routeSegments(request.path) else {
            return .problem(404, "Not found", "no such resource \(request.path); the API lives under /v1/")
        }
        if route == ["health"] {
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed(request, allowed: "GET, HEAD") }
            return ready.withLock { $0 }
                ? .json(200, "{\"status\": \"ok\"}")
                : .problem(503, "Not ready", "the hub is starting or shutting down", headers: [("Retry-After", "1")])
        }
        var request = request
        let authorization = request.authorization ?? authorize(request)
        if case .refused(let response) = authorization { return response }
        request.authorization = authorization
        guard let (name, route) = Self.datasetRoute(route) else {
            guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed(request, allowed: "GET, HEAD") }
            return listDatasets(request)
        }
        // authorize() answered 404 already for a dataset the token may not see.
        guard let dataset = datasets[name] else { return Self.datasetNotFound(name) }
        do {
            switch route.count {
            case 1 where route[0] == "batch":
                guard request.method == "POST" else { return methodNotAllowed(request, allowed: "POST") }
                return try await batch(request, dataset)
            case 1 where route[0] == "changes":
                guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed(request, allowed: "GET, HEAD") }
                return try await changes(request, dataset)
            case 3 where route[0] == "records":
                let key = try recordKey(route[1], route[2])
                switch request.method {
                case "GET", "HEAD": return try await get(key, dataset)
                case "PUT":
                    let condition = try precondition(request)
                    return try await write(
                        request, dataset, key: key, condition: condition, change: .put(fieldsJSON: try fieldsJSON(request, dataset, key: key)))
                case "DELETE":
                    return try await write(request, dataset, key: key, condition: try precondition(request), change: .delete)
                default: return methodNotAllowed(request, allowed: "GET, HEAD, PUT, DELETE")
                }
            case 4 where route[0] == "records" && route[3] == "revisions":
                let key = try recordKey(route[1], route[2])
                guard request.method == "GET" || request.method == "HEAD" else { return methodNotAllowed(request, allowed: "GET, HEAD") }
                return try await revisions(key, request, dataset)
            default:
                return .problem(404, "Not found", "no such resource \(request.path)")
            }
        } catch let error as WireError {
            return .problem(error.status, error.title, error.detail, errors: error.errors, headers: error.headers)
        } catch {
            // The cause (unreachable, full, failing) goes to the journal; the client
            // only needs to know it may retry.
            logger.error("storage failure", metadata: ["path": "\(request.path)", "error": "\(StorageFailure.reason(error))"])
            return .problem(503, "Storage unavailable", "the hub could not use its database; retry later", headers: [("Retry-After", "1")])
        }
    }

    // MARK: Auth

    package enum Authorization: Sendable {
        /// Allowed, with the token's name (nil on an open hub).
        case allowed(tokenName: String?)
        case refused(HubResponse)
    }

    /// The token, then the dataset: 401 without a known token, 404 for a dataset it may
    /// not see (whether or not it exists), 403 for a read-only token writing.
    private func authorize(_ request: HubRequest) -> Authorization {
        let tokens = self.tokens
        let target = Self.routeSegments(request.path).flatMap(Self.datasetRoute)?.dataset
        func reach(_ access: TokenTable.Access?, tokenName: String?) -> Authorization {
            guard let target else { return .allowed(tokenName: tokenName) }  // /v1/datasets, or outside /v1
            guard datasets[target] != nil, let access else { return .refused(Self.datasetNotFound(target)) }
            if access == .readOnly, request.method != "GET", request.method != "HEAD" {
                return .refused(.problem(403, "Forbidden", "token \"\(tokenName ?? "")\" is read-only on dataset \(target); writes need rw access"))
            }
            return .allowed(tokenName: tokenName)
        }
        if tokens.isOpen { return reach(.readWrite, tokenName: nil) }
        let challenge = [("WWW-Authenticate", "Bearer realm=\"accord\"")]
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
            return .refused(.problem(401, "Unauthorized", "send Authorization: Bearer TOKEN", headers: challenge))
        }
        let token = String(header.dropFirst("bearer ".count)).trimming(" \t")
        guard let entry = tokens.entry(forToken: token) else {
            return .refused(.problem(401, "Unauthorized", "the bearer token is not known to this hub", headers: challenge))
        }
        return reach(target.flatMap(entry.access(to:)), tokenName: entry.name)
    }

    /// `GET /v1/datasets`: the datasets this token may see, with its access to each.
    private func listDatasets(_ request: HubRequest) -> HubResponse {
        let entry = request.header("authorization").flatMap { header -> TokenTable.Entry? in
            guard header.lowercased().hasPrefix("bearer ") else { return nil }
            return tokens.entry(forToken: String(header.dropFirst("bearer ".count)).trimming(" \t"))
        }
        var visible: [JSONValue] = []
        for dataset in datasetList {
            let access = tokens.isOpen ? .readWrite : entry?.access(to: dataset.name)
            guard let access else { continue }
            visible.append(.object(["name": .string(dataset.name), "access": .string(access.rawValue)]))
        }
        return .json(200, JSONWriter.line(.object(["datasets": .array(visible)])))
    }

    /// An idempotency key as stored: scoped to the token that sent it (CONTRACT 8.4), so
    /// a token that learns another's key cannot replay that token's answers.
    static func scopedKey(_ key: String, tokenName: String?) -> String {
        guard let tokenName else { return key }
        return tokenName + "\u{1F}" + key
    }

    // MARK: Load

    /// Admits `count` writes unless the write queue is full; the caller must `finishWrites`.
    func admitWrites(_ count: Int) -> Bool {
        load.withLock { load in
            guard load.writes == 0 || load.writes + count <= limits.maxQueuedWrites else { return false }
            load.writes += count
            return true
        }
    }

    func finishWrites(_ count: Int) {
        load.withLock { $0.writes -= count }
    }

    /// Takes a long-poll slot, unless `max_long_polls` are already held.
    func admitLongPoll() -> Bool {
        load.withLock { load in
            guard load.longPolls < limits.maxLongPolls else { return false }
            load.longPolls += 1
            return true
        }
    }

    func finishLongPoll() {
        load.withLock { $0.longPolls -= 1 }
    }

    static let queueFull = WireError(
        status: 503, title: "Write queue full", detail: "the hub has too many writes waiting; retry after the delay", headers: [("Retry-After", "1")])

    // MARK: Records

    func recordKey(_ kind: String, _ id: String) throws(WireError) -> RecordKey {
        guard RecordKey.isValidKind(kind) else {
            throw WireError(status: 400, title: "Invalid kind", detail: "kind \"\(kind)\" must match \(RecordKey.kindPattern)")
        }
        guard RecordKey.isValidID(id) else {
            throw WireError(status: 400, title: "Invalid id", detail: "id \"\(id)\" must match \(RecordKey.idPattern)")
        }
        return RecordKey(kind: kind, id: id)
    }

    private func get(_ key: RecordKey, _ dataset: HubDataset) async throws -> HubResponse {
        guard let stored = try await dataset.storage.record(key) else {
            return .problem(404, "Not found", "no record \(key)")
        }
        return .json(stored.deleted ? 410 : 200, WireFormat.record(stored), etag: stored.rev)
    }

    private func fieldsJSON(_ request: HubRequest, _ dataset: HubDataset, key: RecordKey) throws(WireError) -> String {
        guard request.body.count <= maxBodyBytes else {
            throw WireError(status: 413, title: "Body too large", detail: "the body is \(request.body.count) bytes; this hub takes at most \(maxBodyBytes)")
        }
        return JSONWriter.line(.object(try validated(try WireFormat.fields(fromBody: request.body, key: key), key: key, schemas: dataset.schemas)))
    }

    /// A record's fields as the hub accepts them: at most 64 levels deep, valid against
    /// the kind's schema (422 otherwise).
    func validated(_ fields: JSONObject, key: RecordKey, schemas: SchemaSet) throws(WireError) -> JSONObject {
        if JSONValue.object(fields).depth > Record.maxDepth {
            throw WireError(
                status: 422, title: "Record too deep",
                detail: "\(key) nests deeper than \(Record.maxDepth) levels, the most a record may (CONTRACT 8.4); flatten it")
        }
        let violations = schemas.validate(Record(key: key, fields: fields))
        guard violations.isEmpty else {
            throw WireError(
                status: 422, title: "Schema violation", detail: "\(key) does not match the \(key.kind) schema",
                errors: violations.map(\.description))
        }
        return fields
    }

    private func precondition(_ request: HubRequest) throws(WireError) -> WriteRequest.Precondition {
        if let ifMatch = request.header("if-match") {
            guard let revs = ETag.parseList(ifMatch) else { return .ifMatchAny }
            return .ifMatch(revs)
        }
        if let ifNoneMatch = request.header("if-none-match") {
            guard ifNoneMatch.trimming(" \t") == "*" else {
                throw WireError(status: 400, title: "Unsupported precondition", detail: "writes take If-None-Match: * (create) or If-Match: REV (update)")
            }
            return .ifNoneMatch
        }
        throw WireError(status: 428, title: "Precondition required", detail: "send If-Match: REV to update or delete, If-None-Match: * to create")
    }

    private func write(
        _ request: HubRequest, _ dataset: HubDataset, key: RecordKey, condition: WriteRequest.Precondition, change: WriteRequest.Change
    ) async throws -> HubResponse {
        if change == .delete, condition == .ifNoneMatch {
            throw WireError(status: 400, title: "Unsupported precondition", detail: "DELETE takes If-Match: REV")
        }
        var idempotency: (key: String, fingerprint: String)? = nil
        if let idempotencyKey = request.header("idempotency-key") {
            guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= 255, idempotencyKey.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
                throw WireError(status: 400, title: "Invalid Idempotency-Key", detail: "the key must be 1 to 255 visible ASCII characters")
            }
            idempotency = (
                Self.scopedKey(idempotencyKey, tokenName: request.tokenName),
                // The route inside the dataset, so both forms of a `default` path agree.
                Self.fingerprint(
                    method: request.method, path: "/v1/records/\(key.kind)/\(key.id)", ifMatch: request.header("if-match") ?? "",
                    ifNoneMatch: request.header("if-none-match") ?? "",
                    body: request.body)
            )
            guard let idempotency, dataset.gate.enter(idempotency.key) else {
                return .problem(
                    409, "Request in progress", "a request with this Idempotency-Key is still being processed; retry shortly", headers: [("Retry-After", "1")])
            }
        }
        defer { if let idempotency { dataset.gate.leave(idempotency.key) } }
        guard admitWrites(1) else { throw Self.queueFull }
        defer { finishWrites(1) }
        let outcome = try await dataset.storage.write(
            WriteRequest(key: key, precondition: condition, change: change, idempotency: idempotency, author: request.tokenName),
            respond: HubHandler.response(for:))
        switch outcome {
        case .created(let stored), .updated(let stored), .deleted(let stored):
            dataset.notifier.published(stored.seq)
        default:
            break
        }
        let stored = HubHandler.response(for: outcome)
        var response = HubResponse(status: stored.status, headers: [], body: Array(stored.body.utf8))
        if stored.status != 204 { response.headers.append(("Content-Type", contentType(stored))) }
        if let etag = stored.etag { response.headers.append(("ETag", ETag.quote(etag))) }
        if case .replay = outcome { response.headers.append(("Idempotent-Replayed", "true")) }
        return response
    }

    /// A failure that carries a record (410, 412 with the current version) names its rev;
    /// every other failure is a problem document.
    private func contentType(_ stored: StoredResponse) -> String {
        stored.status >= 400 && stored.etag == nil ? "application/problem+json" : "application/json"
    }

    /// The response for a storage outcome; also what is stored for idempotent replays.
    @Sendable static func response(for outcome: WriteOutcome) -> StoredResponse {
        switch outcome {
        case .created(let stored): StoredResponse(status: 201, etag: stored.rev, body: WireFormat.record(stored))
        case .updated(let stored): StoredResponse(status: 200, etag: stored.rev, body: WireFormat.record(stored))
        case .deleted(let stored): StoredResponse(status: 204, etag: stored.rev, body: "")
        case .preconditionFailed(let current?): StoredResponse(status: 412, etag: current.rev, body: WireFormat.record(current))
        case .preconditionFailed(nil):
            StoredResponse(
                status: 412, etag: nil,
                body: HubResponse.problem(412, "Precondition failed", "the record does not exist; create it with If-None-Match: *").bodyText)
        case .notFound: StoredResponse(status: 404, etag: nil, body: HubResponse.problem(404, "Not found", "no such record").bodyText)
        case .replay(let stored): stored
        case .idempotencyMismatch:
            StoredResponse(
                status: 422, etag: nil,
                body: HubResponse.problem(422, "Idempotency-Key reused", "this Idempotency-Key was used with a different request; use a new key").bodyText)
        }
    }

    /// `GET .../revisions?limit=N&before=SEQ`, newest first (CONTRACT 8.2).
    private func revisions(_ key: RecordKey, _ request: HubRequest, _ dataset: HubDataset) async throws -> HubResponse {
        let limit = Int(try integer(request.query["limit"], name: "limit", default: Int64(Self.maxRevisionPage), range: 1...Int64(Self.maxRevisionPage)))
        let before = try request.query["before"].map { _ in try integer(request.query["before"], name: "before", default: 0, range: 1...Int64.max) }
        var entries = try await dataset.storage.revisions(key, before: before, limit: limit + 1)
        if entries.isEmpty, before == nil { return .problem(404, "Not found", "no record \(key)") }
        let more = entries.count > limit
        if more { entries.removeLast() }
        return .json(200, WireFormat.revisions(key, entries, nextBefore: more ? entries.last?.seq : nil))
    }

    func integer(_ text: String?, name: String, default value: Int64, range: ClosedRange<Int64>) throws(WireError) -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text), range.contains(number) else {
            let upper = range.upperBound == Int64.max ? "" : " to \(range.upperBound)"
            throw WireError(status: 400, title: "Invalid \(name)", detail: "\(name) must be a whole number from \(range.lowerBound)\(upper), not \"\(text)\"")
        }
        return number
    }

    private func methodNotAllowed(_ request: HubRequest, allowed: String) -> HubResponse {
        .problem(405, "Method not allowed", "\(request.method) is not allowed on \(request.path); use \(allowed)", headers: [("Allow", allowed)])
    }
}
