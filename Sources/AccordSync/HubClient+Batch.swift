import AccordCore
import AccordStore

extension HubClient {
    /// Sends `operations` as one `POST /v1/batch` (CONTRACT 8.3): each with its own
    /// precondition and idempotency key; returns each one's outcome, in order. Throws
    /// only when the batch as a whole failed (the network, a 5xx: all may be retried).
    package func batch(_ operations: [OutboxOperation]) async throws(HubError) -> [SendOutcome] {
        var writes: [JSONValue] = []
        for operation in operations {
            var write: JSONObject = [
                "kind": .string(operation.key.kind), "id": .string(operation.key.id), "idempotency_key": .string(operation.idempotencyKey),
            ]
            if let baseRev = operation.baseRev { write["if_match"] = .string(baseRev) } else { write["if_none_match"] = .string("*") }
            if operation.kind == .put { write["fields"] = .object(operation.fields ?? JSONObject()) } else { write["delete"] = .bool(true) }
            writes.append(.object(write))
        }
        let body = Array(JSONWriter.line(.object(["writes": .array(writes)])).utf8)
        let response = try await send("POST", apiPrefix + "/batch", headers: [("Content-Type", "application/json")], body: body)
        guard response.status == 200 else { throw Self.failure(response) }
        guard let results = (try? JSONParser.parse(response.body, options: Self.parseOptions))?.objectValue?["results"]?.arrayValue,
            results.count == operations.count
        else { throw HubError.protocolError("batch answer is not {\"results\": [...]} with one result per write") }
        return zip(operations, results).map { operation, result in Self.outcome(of: operation, result.objectValue ?? JSONObject()) }
    }

    /// One write's result as the single request's outcome would be.
    static func outcome(of operation: OutboxOperation, _ result: JSONObject) -> SendOutcome {
        let status = result["status"]?.numberValue.flatMap { Int($0.literal) } ?? 0
        let rev = result["rev"]?.stringValue
        let detail = result["problem"]?.objectValue?["detail"]?.stringValue ?? "status \(status)"
        switch status {
        case 200, 201:
            guard let rev else { return .retryable(reason: "a batch result \(status) without a rev", retryAfter: nil) }
            return .applied(RemoteRecord(key: operation.key, rev: rev, deleted: false, fields: operation.fields ?? JSONObject()))
        case 204:
            return .applied(RemoteRecord(key: operation.key, rev: rev ?? operation.baseRev ?? "", deleted: true, fields: JSONObject()))
        case 404 where operation.kind == .delete:
            return .applied(RemoteRecord(key: operation.key, rev: operation.baseRev ?? "", deleted: true, fields: JSONObject()))
        case 412:
            guard let current = result["current"], current != .null else { return .preconditionFailed(nil) }
            do {
                return .preconditionFailed(try parseRecord(Array(JSONWriter.line(current).utf8), key: operation.key))
            } catch {
                return .retryable(reason: error.description, retryAfter: nil)
            }
        case 409, 429, 500...599:
            return .retryable(reason: "batch write \(operation.key) answered \(status): \(detail)", retryAfter: status == 409 ? 1 : nil)
        default:
            return .rejected(status: status, detail: detail)
        }
    }
}
