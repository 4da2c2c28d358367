import AccordCore

/// `POST /v1/batch` (CONTRACT 8.3): many writes in one request, each refused or applied
/// on its own exactly as the same single PUT or DELETE would be, all applied writes in
/// one commit, acknowledged after it.
extension HubHandler {
    /// The most writes one batch may carry.
    package static let maxBatchWrites = 1000

    /// One write of a batch, checked, or the result it gets without reaching storage.
    private enum Planned {
        case write(WriteRequest)
        case refused(status: Int, title: String, detail: String, errors: [String])
    }

    func batch(_ request: HubRequest, _ dataset: HubDataset) async throws -> HubResponse {
        guard request.body.count <= maxBodyBytes else {
            throw WireError(status: 413, title: "Body too large", detail: "the body is \(request.body.count) bytes; this hub takes at most \(maxBodyBytes)")
        }
        let writes: [JSONValue]
        do {
            let value = try JSONParser.parse(request.body, options: JSONParser.Options(maxDepth: Record.maxDepth + 4))
            guard let list = value.objectValue?["writes"]?.arrayValue else {
                throw WireError(status: 400, title: "Not a batch", detail: "the body must be {\"writes\": [...]}")
            }
            writes = list
        } catch let error as JSONParseError {
            if error.isTooDeep { throw WireError(status: 422, title: "Record too deep", detail: "a write nests deeper than a record may (CONTRACT 8.4)") }
            throw WireError(status: 400, title: "Malformed JSON", detail: "request body \(error.line):\(error.column): \(error.reason)")
        }
        guard writes.count <= Self.maxBatchWrites else {
            throw WireError(status: 413, title: "Batch too large", detail: "a batch takes at most \(Self.maxBatchWrites) writes, not \(writes.count)")
        }
        let planned = writes.map { plan($0, tokenName: request.tokenName, schemas: dataset.schemas) }
        let admitted = planned.count
        guard admitWrites(admitted) else { throw Self.queueFull }
        defer { finishWrites(admitted) }
        // Keys in flight elsewhere (a retry racing its first try) answer 409, as a
        // single write would.
        // A key repeated inside the batch is not in flight against itself: the later
        // write sees the earlier one's stored response in the same transaction and
        // replays it (or is refused), as sequential single requests would.
        var entered: Set<String> = []
        var refused: Set<String> = []
        defer { for key in entered { dataset.gate.leave(key) } }
        var requests: [WriteRequest] = []
        var slots: [Int?] = []
        var busy: Set<Int> = []
        for (index, item) in planned.enumerated() {
            guard case .write(let write) = item else {
                slots.append(nil)
                continue
            }
            if let key = write.idempotency?.key, !entered.contains(key) {
                guard !refused.contains(key), dataset.gate.enter(key) else {
                    refused.insert(key)
                    busy.insert(index)
                    slots.append(nil)
                    continue
                }
                entered.insert(key)
            }
            slots.append(requests.count)
            requests.append(write)
        }
        let outcomes = try await dataset.storage.writeBatch(requests, respond: HubHandler.response(for:))
        if let newest = outcomes.compactMap(\.written).map(\.seq).max() { dataset.notifier.published(newest) }
        var results: [String] = []
        for (index, item) in planned.enumerated() {
            if busy.contains(index) {
                results.append(WireFormat.batchProblem(409, "Request in progress", "a request with this idempotency_key is still being processed"))
                continue
            }
            switch item {
            case .refused(let status, let title, let detail, let errors):
                results.append(WireFormat.batchProblem(status, title, detail, errors: errors))
            case .write:
                guard let slot = slots[index] else { continue }
                results.append(WireFormat.batchResult(HubHandler.response(for: outcomes[slot])))
            }
        }
        return .json(200, "{\"results\": [" + results.joined(separator: ", ") + "]}")
    }

    /// Checks one write of a batch as the single request would be checked.
    private func plan(_ value: JSONValue, tokenName: String?, schemas: SchemaSet) -> Planned {
        guard let write = value.objectValue else { return .refused(status: 400, title: "Not a write", detail: "each write must be an object", errors: []) }
        guard let kind = write["kind"]?.stringValue, let id = write["id"]?.stringValue else {
            return .refused(status: 400, title: "Not a write", detail: "a write needs \"kind\" and \"id\"", errors: [])
        }
        do {
            let key = try recordKey(kind, id)
            let condition: WriteRequest.Precondition
            var ifMatchHeader = ""
            var ifNoneMatchHeader = ""
            switch (write["if_match"], write["if_none_match"]) {
            case (.string(let rev)?, nil):
                condition = rev == "*" ? .ifMatchAny : .ifMatch([rev])
                ifMatchHeader = rev == "*" ? "*" : ETag.quote(rev)
            case (nil, .string("*")?):
                condition = .ifNoneMatch
                ifNoneMatchHeader = "*"
            case (nil, nil):
                throw WireError(status: 428, title: "Precondition required", detail: "give if_match: REV to update or delete, if_none_match: \"*\" to create")
            default:
                throw WireError(status: 400, title: "Unsupported precondition", detail: "give either if_match: REV or if_none_match: \"*\"")
            }
            let change: WriteRequest.Change
            var body: [UInt8] = []
            switch (write["fields"], write["delete"]) {
            case (.object(let fields)?, nil):
                let checked = try validated(fields, key: key, schemas: schemas)
                change = .put(fieldsJSON: JSONWriter.line(.object(checked)))
                // The body Accord's client sends for the same single PUT, so a key
                // first tried alone and retried in a batch (or the other way) replays.
                let wire: JSONObject = ["kind": .string(key.kind), "id": .string(key.id), "fields": .object(fields)]
                body = Array(JSONWriter.line(.object(wire)).utf8)
            case (nil, .bool(true)?):
                guard condition != .ifNoneMatch else {
                    throw WireError(status: 400, title: "Unsupported precondition", detail: "a delete takes if_match: REV")
                }
                change = .delete
            default:
                throw WireError(status: 400, title: "Not a write", detail: "a write carries either \"fields\": {...} or \"delete\": true")
            }
            var idempotency: (key: String, fingerprint: String)?
            if let value = write["idempotency_key"] {
                guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 255, text.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
                    throw WireError(status: 400, title: "Invalid idempotency_key", detail: "the key must be 1 to 255 visible ASCII characters")
                }
                let method = change == .delete ? "DELETE" : "PUT"
                idempotency = (
                    Self.scopedKey(text, tokenName: tokenName),
                    Self.fingerprint(
                        method: method, path: "/v1/records/\(key.kind)/\(key.id)", ifMatch: ifMatchHeader, ifNoneMatch: ifNoneMatchHeader, body: body)
                )
            }
            return .write(WriteRequest(key: key, precondition: condition, change: change, idempotency: idempotency, author: tokenName))
        } catch let error as WireError {
            return .refused(status: error.status, title: error.title, detail: error.detail, errors: error.errors)
        } catch {
            return .refused(status: 400, title: "Not a write", detail: "\(error)", errors: [])
        }
    }

    /// What identifies a write for its idempotency key: method, path, preconditions and
    /// body, as the single request carries them.
    static func fingerprint(method: String, path: String, ifMatch: String, ifNoneMatch: String, body: [UInt8]) -> String {
        var material: [UInt8] = []
        for part in [method, path, ifMatch, ifNoneMatch] {
            material.append(contentsOf: part.utf8)
            material.append(0)
        }
        material.append(contentsOf: body)
        return ContentHash.hex(material)
    }
}
