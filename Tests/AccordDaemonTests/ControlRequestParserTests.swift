import Testing

@testable import AccordDaemon

@Suite("Control request parser: hostile and trickled input")
struct ControlRequestParserTests {
    func parse(_ text: String) -> ControlRequestParser.Outcome {
        var parser = ControlRequestParser()
        return parser.feed(Array(text.utf8))
    }

    @Test(
        "queries that once trapped or were ambiguous",
        arguments: [
            ("/metrics?=", "/metrics", ["": ""]), ("/metrics?", "/metrics", [:]), ("/v1/events?&&limit=5&", "/v1/events", ["limit": "5"]),
            ("/v1/events?limit", "/v1/events", ["limit": ""]), ("/v1/sync?a=%zz&b=%4", "/v1/sync", ["a": "%zz", "b": "%4"]),
            ("/v1/x%2Fy?q=a+b%20c", "/v1/x/y", ["q": "a b c"]), ("/v1/x?%=%", "/v1/x", ["%": "%"]),
        ])
    func queries(_ target: String, _ path: String, _ query: [String: String]) {
        guard case .request(let request) = parse("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n") else {
            Issue.record("not parsed: \(target)")
            return
        }
        #expect(request.path == path)
        #expect(request.query == query)
    }

    @Test(
        "malformed heads are refused with a status",
        arguments: [
            ("GET /\r\n\r\n", 400), ("GET / HTTP/2\r\n\r\n", 400), ("get / HTTP/1.1\r\n\r\n", 400), ("GET x HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400), ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n", 413), ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            ("\r\n\r\n", 400),
        ])
    func refusals(_ text: String, _ status: Int) {
        guard case .refused(let got, _, _) = parse(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(got == status)
    }

    @Test func aHeadTrickledByteByByteCostsLinearWork() {
        var parser = ControlRequestParser()
        let head = "GET /v1/status HTTP/1.1\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 600) + "\r\n"
        var outcome = ControlRequestParser.Outcome.needMore
        for byte in head.utf8 {
            outcome = parser.feed([byte])
            if outcome != .needMore { break }
        }
        guard case .request(let request) = outcome else {
            Issue.record("not parsed: \(outcome)")
            return
        }
        #expect(request.path == "/v1/status")
        // Each byte is examined about once, not once per read.
        #expect(parser.bytesExamined < 2 * head.utf8.count)
    }

    @Test func anOversizedHeadIsRefusedWithoutWaitingForItsEnd() {
        var parser = ControlRequestParser()
        _ = parser.feed(Array("GET / HTTP/1.1\r\n".utf8))
        let outcome = parser.feed([UInt8](repeating: UInt8(ascii: "a"), count: ControlRequestParser.maxHeadBytes + 1))
        guard case .refused(let status, _, _) = outcome else {
            Issue.record("not refused")
            return
        }
        #expect(status == 431)
    }

    @Test func theBodyArrivesInPieces() {
        var parser = ControlRequestParser()
        #expect(parser.feed(Array("POST /v1/conflicts/a/b HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"keep\"".utf8)) == .needMore)
        guard case .request(let request) = parser.feed(Array(": 1}".utf8)) else {
            Issue.record("not parsed")
            return
        }
        #expect(request.body == Array("{\"keep\": 1".utf8))
        #expect(request.method == "POST")
    }
}
