import AccordCore

/// A request as the hub sees it, independent of the HTTP server library.
package struct HubRequest: Sendable {
    package var method: String
    /// The path without the query, percent-decoded.
    package var path: String
    package var query: [String: String]
    /// Header names in lower case.
    package var headers: [String: String]
    package var body: [UInt8]
    /// Set once the token was checked (by the server before the body, or by the
    /// handler): the check is not made twice.
    package var authorization: HubHandler.Authorization?
    /// The name of the token that was accepted (nil on an open hub).
    package var tokenName: String? {
        if case .allowed(let name)? = authorization { return name }
        return nil
    }

    package init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    package func header(_ name: String) -> String? { headers[name.lowercased()] }
}

package struct HubResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    package var bodyText: String { String(decoding: body, as: UTF8.self) }

    static func json(_ status: Int, _ text: String, etag: String? = nil) -> HubResponse {
        var headers = [("Content-Type", "application/json")]
        if let etag { headers.append(("ETag", ETag.quote(etag))) }
        return HubResponse(status: status, headers: headers, body: Array(text.utf8))
    }

    /// An RFC 9457 problem document.
    static func problem(_ status: Int, _ title: String, _ detail: String, errors: [String] = [], headers extra: [(String, String)] = []) -> HubResponse {
        var text = "{\"type\": \"about:blank\", \"title\": \(WireFormat.quoted(title)), \"status\": \(status), \"detail\": \(WireFormat.quoted(detail))"
        if !errors.isEmpty {
            text += ", \"errors\": [" + errors.map(WireFormat.quoted).joined(separator: ", ") + "]"
        }
        text += "}"
        return HubResponse(status: status, headers: [("Content-Type", "application/problem+json")] + extra, body: Array(text.utf8))
    }
}

/// Entity tags on the wire are quoted (`"3-ab12"`); revs are not.
enum ETag {
    static func quote(_ rev: String) -> String { "\"\(rev)\"" }

    /// The revs listed in an `If-Match` header (quoted or bare, comma-separated); nil for `*`.
    static func parseList(_ header: String) -> [String]? {
        let trimmed = header.trimming(" \t")
        if trimmed == "*" { return nil }
        return trimmed.split(separator: ",").map { item in
            var tag = item.trimming(" \t")
            if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }  // weak tags never match strongly; kept distinct below
            if tag.count >= 2, tag.hasPrefix("\""), tag.hasSuffix("\"") { tag = String(tag.dropFirst().dropLast()) }
            return item.trimming(" \t").hasPrefix("W/") ? "W/" + tag : tag
        }
    }
}
