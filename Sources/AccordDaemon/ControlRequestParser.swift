import AccordCore

/// Reads one HTTP/1.x request of the control API from bytes as they arrive (pure: no
/// sockets). The search for the end of the head resumes where the last one stopped,
/// so a client trickling its head byte by byte costs linear work, not quadratic; the
/// head and the body are bounded; every malformed input is a refusal with a status,
/// never a crash.
struct ControlRequestParser {
    static let maxHeadBytes = 16 * 1024
    static let maxBodyBytes = 4 << 20

    enum Outcome: Equatable {
        case needMore
        case request(ControlRequest)
        case refused(status: Int, title: String, detail: String)
    }

    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already searched for the blank line that ends the head.
    private var searched = 0
    private var head: (method: String, target: String, bodyStart: Int, length: Int)?
    /// Bytes compared while looking for the end of the head, over every `feed`: stays
    /// about the size of the head however the client splits it.
    private(set) var bytesExamined = 0

    /// Adds bytes that arrived and says whether a whole request is there now.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> Outcome {
        buffer.append(contentsOf: bytes)
        if head == nil {
            guard let end = findHeadEnd() else {
                if buffer.count > Self.maxHeadBytes {
                    return .refused(status: 431, title: "Request header too large", detail: "headers over \(Self.maxHeadBytes) bytes")
                }
                return .needMore
            }
            guard end <= Self.maxHeadBytes else {
                return .refused(status: 431, title: "Request header too large", detail: "headers over \(Self.maxHeadBytes) bytes")
            }
            switch Self.parseHead(buffer[0..<end]) {
            case .success(let parsed): head = (parsed.method, parsed.target, end + 4, parsed.length)
            case .failure(let refusal): return refusal.outcome
            }
        }
        guard let head else { return .needMore }
        guard buffer.count - head.bodyStart >= head.length else { return .needMore }
        let body = Array(buffer[head.bodyStart..<(head.bodyStart + head.length)])
        let (path, query) = Self.splitTarget(head.target)
        return .request(ControlRequest(method: head.method, path: path, query: query, body: body))
    }

    /// The offset of `\r\n\r\n`, searching only bytes not searched before (less the
    /// three that could start a match split across two reads).
    private mutating func findHeadEnd() -> Int? {
        let start = max(0, searched - 3)
        searched = buffer.count
        guard buffer.count >= 4 else { return nil }
        var index = start
        while index + 3 < buffer.count {
            bytesExamined += 1
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    private struct Head {
        var method: String
        var target: String
        var length: Int
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) -> Result<Head, Refusal> {
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { line in
            line.last == 13 ? line.dropLast() : line
        }
        guard let first = lines.first else { return .failure(Refusal(400, "Bad request", "an empty request")) }
        let parts = first.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].starts(with: Array("HTTP/1.".utf8)), !parts[0].isEmpty, parts[1].first == UInt8(ascii: "/"),
            parts[0].allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
        else {
            return .failure(Refusal(400, "Bad request", "not an HTTP/1.x request line (METHOD /path HTTP/1.1)"))
        }
        var length = 0
        var sawLength = false
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                return .failure(Refusal(400, "Bad request", "a header line without a colon"))
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimming(" \t")
            switch name {
            case "content-length":
                guard let parsed = Int(value), parsed >= 0, !sawLength || parsed == length else {
                    return .failure(Refusal(400, "Bad request", "bad Content-Length \"\(value.prefix(40))\""))
                }
                guard parsed <= maxBodyBytes else {
                    return .failure(Refusal(413, "Body too large", "control requests take at most \(maxBodyBytes) bytes"))
                }
                length = parsed
                sawLength = true
            case "transfer-encoding":
                return .failure(Refusal(411, "Length required", "send the body with Content-Length, not Transfer-Encoding"))
            default:
                continue
            }
        }
        return .success(Head(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self), length: length))
    }

    private struct Refusal: Error {
        var outcome: Outcome
        init(_ status: Int, _ title: String, _ detail: String) {
            outcome = .refused(status: status, title: title, detail: detail)
        }
    }

    /// `/v1/events?limit=5` → (`/v1/events`, ["limit": "5"]), both percent-decoded.
    static func splitTarget(_ target: String) -> (path: String, query: [String: String]) {
        guard let mark = target.firstIndex(of: "?") else { return (PercentDecoding.decode(target), [:]) }
        return (PercentDecoding.decode(target[..<mark]), PercentDecoding.query(target[target.index(after: mark)...]))
    }
}
