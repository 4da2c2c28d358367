import AccordTestSupport
import Foundation

/// A hub and several daemons on loopback, each with its own root, state and socket,
/// and the views a test needs to compare them.
final class Cluster: @unchecked Sendable {
    let hub: HubLauncher
    let daemons: [DaemonLauncher]

    init(daemons count: Int, policy: String = "merge") throws {
        let hub = try HubLauncher()
        self.hub = hub
        daemons = try (0..<count).map { _ in try DaemonLauncher(hubPort: hub.port, extraConfig: "conflict_policy = \"\(policy)\"") }
    }

    /// Every record in a root, by `kind/id`, without kind and id (as the hub holds them).
    static func records(in root: String) -> [String: NSDictionary] {
        var found: [String: NSDictionary] = [:]
        let walker = FileManager.default.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            guard let data = FileManager.default.contents(atPath: root + "/" + relative) else { continue }
            var objects: [[String: Any]] = []
            if relative.hasSuffix(".jsonl") {
                for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                    if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] { objects.append(object) }
                }
            } else if relative.hasSuffix(".json"), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                objects.append(object)
            }
            for var object in objects {
                guard let kind = object["kind"] as? String, let id = object["id"] as? String else { continue }
                object["kind"] = nil
                object["id"] = nil
                found["\(kind)/\(id)"] = object as NSDictionary
            }
        }
        return found
    }

    /// Every live record on the hub, by `kind/id`.
    func hubRecords() async throws -> [String: NSDictionary] {
        var found: [String: NSDictionary] = [:]
        var since = 0
        var keys: Set<String> = []
        while true {
            let page = try await json("/v1/changes?since=\(since)&limit=1000")
            let changes = page["changes"] as? [[String: Any]] ?? []
            for change in changes { keys.insert("\(change["kind"]!)/\(change["id"]!)") }
            let last = page["last_seq"] as? Int ?? since
            if changes.isEmpty || last == since { break }
            since = last
        }
        for key in keys {
            let response = try await hub.client.request("GET", "/v1/records/\(key)")
            if response.status == 410 { continue }  // deleted
            guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                throw TestSupportError("GET /v1/records/\(key) answered \(response.status)")
            }
            found[key] = object["fields"] as? NSDictionary
        }
        return found
    }

    /// How many records the hub's feed names (live or deleted).
    func recordCount() async throws -> Int {
        var since = 0
        var keys: Set<String> = []
        while true {
            let page = try await json("/v1/changes?since=\(since)&limit=10000")
            let changes = page["changes"] as? [[String: Any]] ?? []
            for change in changes { keys.insert("\(change["kind"]!)/\(change["id"]!)") }
            let last = page["last_seq"] as? Int ?? since
            if changes.isEmpty || last == since { return keys.count }
            since = last
        }
    }

    /// Every revision of a record on the hub, newest first: each one's fields.
    func revisions(_ key: String) async throws -> [NSDictionary] {
        let object = try await json("/v1/records/\(key)/revisions")
        return (object["revisions"] as? [[String: Any]] ?? []).compactMap { $0["fields"] as? NSDictionary }
    }

    /// A GET on the hub that must answer 200 with a JSON object: anything else fails
    /// the test loudly instead of reading as an empty result.
    func json(_ path: String) async throws -> [String: Any] {
        let response = try await hub.client.request("GET", path)
        guard response.status == 200, let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw TestSupportError("GET \(path) answered \(response.status): \(response.text.prefix(300))")
        }
        return object
    }

    /// Syncs every daemon, round after round, until a round moves nothing; a sync that
    /// fails or rounds that never settle fail the test.
    func settle(rounds: Int = 10) throws {
        for _ in 0..<rounds {
            var moved = false
            for daemon in daemons {
                let result = try daemon.ctl(["sync", "--wait", "--timeout", "60"])
                guard result.code == 0 else { throw TestSupportError("accordctl sync failed (\(result.code)): \(result.out) \(result.err)") }
                let counts = result.out.split(separator: "\n").first.map(String.init) ?? ""
                if !counts.hasPrefix("pushed 0, pulled 0, merged 0") { moved = true }
            }
            if !moved { return }
        }
        throw TestSupportError("the cluster did not settle in \(rounds) rounds")
    }
}

func agreementText(_ id: String, status: String = "negotiating", title: String = "HNS", notes: String? = nil) -> String {
    var text = """
        {
          "kind": "agreement",
          "id": "\(id)",
          "title": "\(title)",
          "parties": ["United States", "Japan"],
          "status": "\(status)"
        """
    if let notes { text += ",\n  \"notes\": \"\(notes)\"" }
    return text + "\n}\n"
}
