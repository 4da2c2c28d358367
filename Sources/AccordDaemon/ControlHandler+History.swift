import AccordCore
import AccordSync

/// `history`, `show` and `revert` (CONTRACT 8.2): the daemon asks the hub, since it
/// holds the token. They read the hub directly, not as loop jobs, so they answer while
/// a step waits on a long-poll; only `revert`, which writes the root, is a job.
extension ControlHandler {
    /// The longest page of history one request returns.
    static let maxHistory = 100

    func history(_ key: RecordKey, _ request: ControlRequest) async throws -> ControlResponse {
        let limit: Int
        switch number(request, "limit", range: 1...Double(Self.maxHistory)) {
        case .absent: limit = 20
        case .value(let count) where count == count.rounded(): limit = Int(count)
        case .value(let count): return .problem(400, "Bad limit", "limit must be a whole number from 1 to \(Self.maxHistory), not \(count)")
        case .invalid(let text): return .problem(400, "Bad limit", "limit must be a whole number from 1 to \(Self.maxHistory), not \"\(text.prefix(40))\"")
        }
        let hub = await loop.read { await $0.hub }
        let page: (revisions: [RemoteRevision], nextBefore: Int64?)?
        // The oldest shown is diffed against the revision before it, from the next page.
        var predecessor: RemoteRevision?
        do {
            page = try await hub.revisions(key, limit: limit)
            if let before = page?.nextBefore { predecessor = try await hub.revisions(key, before: before, limit: 1)?.revisions.first }
        } catch {
            return Self.hubFailure(error)
        }
        guard let page else { return .problem(404, "Unknown record", "the hub has no record \(key)") }
        let revisions = page.revisions + (predecessor.map { [$0] } ?? [])
        var entries: [JSONValue] = []
        for (index, revision) in page.revisions.enumerated() {
            let older = revisions.indices.contains(index + 1) ? revisions[index + 1].fields : nil
            let changes = FieldDiff.diff(older ?? JSONObject(), revision.fields ?? JSONObject())
            entries.append(
                .object([
                    "rev": .string(revision.rev), "seq": .number(JSONNumber(Int(revision.seq))), "author": revision.author.map { .string($0) } ?? .null,
                    "created": .string(revision.created), "deleted": .bool(revision.deleted),
                    "changes": .array(
                        changes.map {
                            .object(["field": .string($0.dottedPath), "old": $0.old ?? .null, "new": $0.new ?? .null, "summary": .string($0.summary())])
                        }
                    ),
                ]))
        }
        return .json(200, ["record": .string(key.description), "revisions": .array(entries), "more": .bool(page.nextBefore != nil)])
    }

    func show(_ key: RecordKey, _ request: ControlRequest) async throws -> ControlResponse {
        let hub = await loop.read { await $0.hub }
        do {
            if let rev = request.query["rev"] {
                guard let revision = try await hub.revision(key, rev: rev) else {
                    return .problem(404, "Unknown revision", "the hub has no revision \(rev) of \(key); see accordctl history \(key)")
                }
                return .json(
                    200,
                    [
                        "record": .string(key.description), "rev": .string(revision.rev), "deleted": .bool(revision.deleted),
                        "author": revision.author.map { .string($0) } ?? .null, "created": .string(revision.created),
                        "fields": revision.fields.map { .object($0) } ?? .null,
                    ])
            }
            guard let current = try await hub.record(key) else { return .problem(404, "Unknown record", "the hub has no record \(key)") }
            return .json(
                200,
                [
                    "record": .string(key.description), "rev": .string(current.rev), "deleted": .bool(current.deleted),
                    "fields": current.liveFields.map { .object($0) } ?? .null,
                ])
        } catch {
            return Self.hubFailure(error)
        }
    }

    func revert(_ key: RecordKey, _ request: ControlRequest) async throws -> ControlResponse {
        guard let rev = (try? JSONParser.parse(request.body))?.objectValue?["to"]?.stringValue, !rev.isEmpty else {
            return .problem(400, "Bad body", "send {\"to\": \"REV\"}, a revision from accordctl history")
        }
        let hub = await loop.read { await $0.hub }
        let revision: RemoteRevision?
        do { revision = try await hub.revision(key, rev: rev) } catch { return Self.hubFailure(error) }
        guard let revision else {
            return .problem(404, "Unknown revision", "the hub has no revision \(rev) of \(key); see accordctl history \(key)")
        }
        guard let fields = revision.fields, !revision.deleted else {
            return .problem(422, "A deletion", "revision \(rev) of \(key) is a deletion; to delete the record, delete it from its file")
        }
        let settings = await loop.read { await $0.settings }
        if let first = settings.schemas.validate(Record(key: key, fields: fields)).first {
            return .problem(422, "Invalid record", "revision \(rev) does not match today's \(key.kind) schema: \(first.description)")
        }
        do {
            let summary = try await loop.perform { engine in try await engine.revert(key, to: fields, rev: rev) }
            return .json(200, ["record": .string(key.description), "reverted": .string(summary)])
        } catch let error as RevertError {
            return .problem(409, "Not reverted", error.description)
        }
    }

    /// The hub could not be asked (503), or refused the question (502, with its reason):
    /// failures, not usage errors.
    static func hubFailure(_ error: any Error) -> ControlResponse {
        if case .rejected(let status, let detail)? = error as? HubError {
            return .problem(502, "Hub refused", "the hub answered \(status): \(detail)")
        }
        return .problem(503, "Hub unreachable", "cannot ask the hub: \(error); try again when it is back")
    }
}
