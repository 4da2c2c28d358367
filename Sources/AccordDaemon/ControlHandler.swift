import AccordCore
import AccordStore
import AccordSync

/// One request to the control API, as the HTTP shell hands it over.
struct ControlRequest: Sendable, Equatable {
    var method: String
    var path: String
    var query: [String: String]
    var body: [UInt8]
    /// Came in on `metrics.listen`: only `/metrics` is served there.
    var viaTCP = false
}

struct ControlResponse: Sendable {
    var status: Int
    var contentType: String
    var body: [UInt8]

    static func json(_ status: Int, _ object: JSONObject) -> ControlResponse {
        ControlResponse(status: status, contentType: "application/json", body: Array((JSONWriter.pretty(.object(object)) + "\n").utf8))
    }

    static func problem(_ status: Int, _ title: String, _ detail: String) -> ControlResponse {
        let object: JSONObject = ["type": .string("about:blank"), "title": .string(title), "status": .number(JSONNumber(status)), "detail": .string(detail)]
        return ControlResponse(status: status, contentType: "application/problem+json", body: Array((JSONWriter.line(.object(object)) + "\n").utf8))
    }
}

/// The control API of CONTRACT section 4 as a function from request to response. It
/// holds no engine: it reads the loop's snapshots and changes things only through jobs
/// the loop runs between steps, so an operator's command never races a sync step.
struct ControlHandler: Sendable {
    let loop: SyncLoop
    let metrics: DaemonMetrics
    /// The hub's dataset this root syncs with, for `status`.
    var dataset = DatasetName.defaultName
    let waitingSyncs = Occupancy(limit: maxWaitingSyncs)

    /// `sync --wait` requests held at once.
    static let maxWaitingSyncs = 16

    func handle(_ request: ControlRequest) async -> ControlResponse {
        if request.viaTCP && request.path != "/metrics" {
            return .problem(404, "Not found", "only /metrics is served on this address")
        }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        do {
            switch (request.method, parts) {
            case ("GET", ["v1", "status"]): return try await status()
            case ("POST", ["v1", "sync"]): return try await sync(request)
            case ("POST", ["v1", "pause"]):
                await loop.pause()
                return .json(200, ["state": .string("paused")])
            case ("POST", ["v1", "resume"]):
                let allow = flag(request, "allow_deletes")
                await loop.resume(allowDeletes: allow)
                return .json(200, ["state": .string(await loop.stateName), "deletes_allowed": .bool(allow)])
            case ("GET", ["v1", "conflicts"]): return try await conflicts()
            case ("POST", let route) where route.count == 4 && route[0] == "v1" && route[1] == "conflicts":
                return try await resolve(kind: route[2], id: route[3], body: request.body)
            case ("GET", let route) where route.count == 5 && route[0] == "v1" && route[1] == "records" && route[4] == "diff":
                return try await diff(kind: route[2], id: route[3])
            case (let method, let route)
            where route.count == 5 && route[0] == "v1" && route[1] == "records" && ["history", "show", "revert"].contains(route[4]):
                guard RecordKey.isValidKind(route[2]), RecordKey.isValidID(route[3]) else {
                    return .problem(400, "Bad record name", "\(route[2])/\(route[3]) is not a valid KIND/ID")
                }
                let key = RecordKey(kind: route[2], id: route[3])
                switch (method, route[4]) {
                case ("GET", "history"): return try await history(key, request)
                case ("GET", "show"): return try await show(key, request)
                case ("POST", "revert"): return try await revert(key, request)
                default: return .problem(405, "Method not allowed", "\(method) is not allowed on \(request.path)")
                }
            case ("GET", ["v1", "events"]): return try await events(request)
            case ("GET", ["metrics"]): return try await renderMetrics()
            case (_, ["v1", "status"]), (_, ["v1", "sync"]), (_, ["v1", "pause"]), (_, ["v1", "resume"]), (_, ["v1", "conflicts"]),
                (_, ["v1", "events"]), (_, ["metrics"]):
                return .problem(405, "Method not allowed", "\(request.method) is not allowed on \(request.path)")
            default:
                return .problem(404, "Not found", "no control route \(request.method) \(request.path); see CONTRACT section 4")
            }
        } catch let error as LoopStopped {
            return .problem(503, "Shutting down", error.description)
        } catch {
            return .problem(500, "Internal error", "\(error)")
        }
    }

    // MARK: Routes

    private func status() async throws -> ControlResponse {
        let snapshot = try await loop.snapshot()
        let object: JSONObject = [
            "state": .string(snapshot.state),
            "paused": .bool(snapshot.paused),
            "hub": .string(snapshot.hub),
            "dataset": .string(dataset),
            "hub_reachable": .bool(snapshot.hubReachable),
            "root": .string(snapshot.root),
            "pending": .number(JSONNumber(snapshot.pending)),
            "last_sync": snapshot.lastSync.map { .string(RFC3339.format($0)) } ?? .null,
            "last_error": snapshot.lastError.map { .string($0) } ?? .null,
            "local_error": snapshot.localError.map { .string($0) } ?? .null,
            "local_failures": .number(JSONNumber(snapshot.localFailures)),
            "records": .number(JSONNumber(snapshot.records)),
            "files": .number(JSONNumber(snapshot.files)),
            "conflicts": .number(JSONNumber(snapshot.conflicts)),
            "held_deletions": .number(JSONNumber(snapshot.heldDeletions)),
            "hold_reason": snapshot.holdReason.map { .string($0) } ?? .null,
            "unapplied_count": .number(JSONNumber(snapshot.unappliedCount)),
            "unapplied": .array(
                snapshot.unapplied.map {
                    .object([
                        "record": .string($0.key.description), "rev": .string($0.rev), "attempts": .number(JSONNumber($0.attempts + 1)),
                        "since": .string(RFC3339.format($0.since)), "next_attempt": .string(RFC3339.format($0.nextAttemptAt)),
                        "error": .string($0.lastError),
                    ])
                }),
            "invalid": .array(
                snapshot.problems.map {
                    .object([
                        "path": .string($0.path), "line": .number(JSONNumber($0.line)), "column": .number(JSONNumber($0.column)),
                        "reason": .string($0.reason),
                    ])
                }),
        ]
        return .json(200, object)
    }

    private func sync(_ request: ControlRequest) async throws -> ControlResponse {
        let wait = flag(request, "wait")
        let timeout: Double
        switch number(request, "timeout", range: 0...Self.maxWaitSeconds) {
        case .absent: timeout = 60
        case .value(let seconds): timeout = seconds
        case .invalid(let text):
            return .problem(400, "Bad timeout", "timeout must be a number of seconds from 0 to \(Int(Self.maxWaitSeconds)), not \"\(text.prefix(40))\"")
        }
        let ticket = await loop.requestSync()
        guard wait else { return .json(202, ["requested": .bool(true)]) }
        // Waiting requests hold a connection each: a bounded number, so they cannot use
        // up the socket's budget and lock accordctl out.
        guard waitingSyncs.enter() else {
            return .problem(503, "Busy", "\(Self.maxWaitingSyncs) syncs are already being waited for; try again shortly")
        }
        defer { waitingSyncs.leave() }
        let clock = loop.clock
        let deadline = clock.now() + timeout
        // The step that takes the request rescans, pushes and pulls; what it could not
        // settle (the hub down, retries) is waited for until the timeout. A pull that
        // failed leaves the hub unreachable: nothing local may wait, but the hub's
        // changes have not arrived, so that is not settled either.
        var settled = false
        while clock.now() < deadline {
            if await loop.manualDone >= ticket {
                // Deletions still waiting out their settle window are found but not
                // settled: they may yet go to the hub (or be merged back).
                let snapshot = try await loop.snapshot()
                if snapshot.pending == 0 && !snapshot.deletionsSettling && snapshot.hubReachable && snapshot.localError == nil {
                    settled = true
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let report = await loop.manualReport
        let snapshot = try await loop.snapshot()
        return .json(
            200,
            [
                "settled": .bool(settled), "pending": .number(JSONNumber(snapshot.pending)), "queued": .number(JSONNumber(report.queued)),
                "pushed": .number(JSONNumber(report.pushed)), "pulled": .number(JSONNumber(report.pulled)),
                "merged": .number(JSONNumber(report.merged)), "conflicts": .number(JSONNumber(report.conflicts)),
                "rejected": .number(JSONNumber(report.rejected)), "retrying": .number(JSONNumber(report.retrying)),
                "invalid": .number(JSONNumber(snapshot.problems.count)), "hub_reachable": .bool(snapshot.hubReachable),
                "last_error": snapshot.lastError.map { .string($0) } ?? .null,
            ])
    }

    private func conflicts() async throws -> ControlResponse {
        let open = try await loop.conflicts()
        let list: [JSONValue] = open.map { conflict in
            .object([
                "record": .string(conflict.key.description), "kind": .string(conflict.key.kind), "id": .string(conflict.key.id),
                "field": .string(conflict.path.joined(separator: ".")), "base": conflict.base ?? .null, "local": conflict.local ?? .null,
                "remote": conflict.remote ?? .null, "remote_rev": .string(conflict.remoteRev), "created": .string(RFC3339.format(conflict.createdAt)),
            ])
        }
        return .json(200, ["conflicts": .array(list)])
    }

    private func resolve(kind: String, id: String, body: [UInt8]) async throws -> ControlResponse {
        guard RecordKey.isValidKind(kind), RecordKey.isValidID(id) else {
            return .problem(400, "Bad record name", "\(kind)/\(id) is not a valid KIND/ID")
        }
        let key = RecordKey(kind: kind, id: id)
        guard let object = (try? JSONParser.parse(body))?.objectValue, let keep = object["keep"]?.stringValue else {
            return .problem(400, "Bad body", "send {\"keep\": \"local\"}, {\"keep\": \"remote\"} or {\"keep\": \"record\", \"fields\": {...}}")
        }
        let resolution: ConflictResolution
        switch keep {
        case "local": resolution = .local
        case "remote": resolution = .remote
        case "record":
            guard let fields = object["fields"]?.objectValue else {
                return .problem(400, "Bad body", "keep \"record\" needs \"fields\": the record without kind and id")
            }
            let settings = await loop.read { await $0.settings }
            let record = Record(key: key, fields: fields)
            if JSONValue.object(record.object).depth > Record.maxDepth {
                return .problem(422, "Invalid record", "the record nests deeper than \(Record.maxDepth) levels (CONTRACT 8.4)")
            }
            let size = JSONWriter.line(.object(record.object)).utf8.count
            if size > settings.maxRecordBytes {
                return .problem(422, "Invalid record", "the record is \(size) bytes, over max_record_bytes (\(settings.maxRecordBytes))")
            }
            if let first = settings.schemas.validate(record).first {
                return .problem(422, "Invalid record", "the record does not match the \(kind) schema: \(first.description)")
            }
            resolution = .record(fields)
        default:
            return .problem(400, "Bad body", "keep must be local, remote or record, not \(keep)")
        }
        do {
            let summary = try await loop.perform { engine in try await engine.resolve(key, keep: resolution) }
            return .json(200, ["record": .string(key.description), "resolved": .string(summary)])
        } catch let error as ResolveError {
            return error.notFound
                ? .problem(404, "No conflict", "\(error.description); see accordctl conflicts") : .problem(503, "Not resolved", error.description)
        }
    }

    private func diff(kind: String, id: String) async throws -> ControlResponse {
        guard RecordKey.isValidKind(kind), RecordKey.isValidID(id) else {
            return .problem(400, "Bad record name", "\(kind)/\(id) is not a valid KIND/ID")
        }
        let key = RecordKey(kind: kind, id: id)
        // A read, not a job: `diff` answers at once even while a step waits on the hub.
        let (local, base) = try await loop.read { engine in try await engine.localAndBase(key) }
        if local == nil && base == nil {
            return .problem(404, "Unknown record", "\(key) is neither in the root nor on the hub as last synced")
        }
        let changes = FieldDiff.diff(base ?? JSONObject(), local ?? JSONObject())
        let list: [JSONValue] = changes.map {
            .object(["field": .string($0.dottedPath), "old": $0.old ?? .null, "new": $0.new ?? .null, "summary": .string($0.summary())])
        }
        return .json(
            200,
            [
                "record": .string(key.description), "local": local.map { .object($0) } ?? .null, "base": base.map { .object($0) } ?? .null,
                "changes": .array(list),
            ])
    }

    private func events(_ request: ControlRequest) async throws -> ControlResponse {
        let limit: Int
        switch number(request, "limit", range: 1...10_000) {
        case .absent: limit = 20
        case .value(let count) where count == count.rounded(): limit = Int(count)
        case .value(let count): return .problem(400, "Bad limit", "limit must be a whole number from 1 to 10000, not \(count)")
        case .invalid(let text): return .problem(400, "Bad limit", "limit must be a whole number from 1 to 10000, not \"\(text.prefix(40))\"")
        }
        let events = try await loop.events(limit: limit)
        let list: [JSONValue] = events.map {
            .object([
                "seq": .number(JSONNumber(Int($0.seq))), "time": .string(RFC3339.format($0.at)), "type": .string($0.type),
                "record": .string($0.record), "summary": .string($0.summary),
            ])
        }
        return .json(200, ["events": .array(list)])
    }

    private func renderMetrics() async throws -> ControlResponse {
        let state = try await loop.snapshot()
        let snapshot = metrics.counters.withLock { $0 }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("accord_pending_operations", "gauge", "Local changes waiting to reach the hub.", "\(state.pending)")
        metric("accord_pushes_total", "counter", "Operations the hub acknowledged.", "\(snapshot.pushes)")
        metric("accord_pulls_total", "counter", "Hub changes written into the root.", "\(snapshot.pulls)")
        metric("accord_merges_total", "counter", "Three-way merges made.", "\(snapshot.merges)")
        metric("accord_retries_total", "counter", "Operations rescheduled after a transient failure.", "\(snapshot.retries)")
        metric("accord_conflicts_total", "counter", "Field conflicts met (resolved by policy or left open).", "\(snapshot.conflicts)")
        metric("accord_open_conflicts", "gauge", "Records with an open conflict.", "\(state.conflicts)")
        metric("accord_rejected_total", "counter", "Operations the hub refused (not retried).", "\(snapshot.rejected)")
        metric("accord_invalid_records", "gauge", "Invalid inputs in the root, not synced.", "\(state.problems.count)")
        metric(
            "accord_unapplied_changes", "gauge", "Hub changes not yet applied to the root (kept and retried).",
            "\(state.unappliedCount)")
        metric("accord_held_deletions", "gauge", "Deletions held by the mass-delete guard.", "\(state.heldDeletions)")
        metric("accord_records", "gauge", "Records in the root.", "\(state.records)")
        metric("accord_hub_reachable", "gauge", "1 when the last exchange with the hub worked.", state.hubReachable ? "1" : "0")
        metric("accord_paused", "gauge", "1 while paused.", state.paused ? "1" : "0")
        metric(
            "accord_last_sync_timestamp_seconds", "gauge", "When the last sync with nothing left to retry ended.",
            "\(Int(state.lastSync ?? 0))")
        let name = "accord_change_to_ack_seconds"
        text += "# HELP \(name) Time from a local change seen to the hub's acknowledgement.\n# TYPE \(name) histogram\n"
        for (index, bound) in DaemonMetrics.bounds.enumerated() {
            text += "\(name)_bucket{le=\"\(bound)\"} \(snapshot.latencyBuckets[index])\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(snapshot.latencyCount)\n\(name)_sum \(snapshot.latencySum)\n\(name)_count \(snapshot.latencyCount)\n"
        return ControlResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(text.utf8))
    }

    // MARK: Parameters

    /// A flag from the query (`?wait=1`) or the JSON body (`{"wait": true}`).
    private func flag(_ request: ControlRequest, _ name: String) -> Bool {
        if let value = request.query[name] { return ["1", "true", "yes", ""].contains(value) }
        return (try? JSONParser.parse(request.body))?.objectValue?[name] == .bool(true)
    }

    enum Number {
        case absent
        case value(Double)
        /// Present but not a finite number within the allowed range (its text).
        case invalid(String)
    }

    /// The longest a `sync?wait` may hold its connection.
    static let maxWaitSeconds = 3600.0

    /// A number from the query (`?limit=5`) or the JSON body (`{"limit": 5}`), refused
    /// unless finite and within `range`: a request can never make the daemon trap.
    func number(_ request: ControlRequest, _ name: String, range: ClosedRange<Double>) -> Number {
        let text: String
        if let value = request.query[name] {
            text = value
        } else if let value = (try? JSONParser.parse(request.body))?.objectValue?[name] {
            guard let literal = value.numberValue?.literal else { return .invalid(JSONWriter.line(value)) }
            text = literal
        } else {
            return .absent
        }
        guard let number = Double(text.trimming(" ")), number.isFinite, range.contains(number) else { return .invalid(text) }
        return .value(number)
    }
}
