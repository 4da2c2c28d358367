import Testing

@testable import AccordHub

/// The sieve drops RST_STREAM(STREAM_CLOSED) frames from an HTTP/2 byte stream and
/// nothing else, however the bytes are split across reads.
@Suite struct ResetFrameSieveTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func frame(type: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, 0]
            + [UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)] + payload
    }

    static func reset(stream: UInt32, code: UInt32) -> [UInt8] {
        frame(type: 3, stream: stream, payload: [UInt8(code >> 24), UInt8(code >> 16 & 0xFF), UInt8(code >> 8 & 0xFF), UInt8(code & 0xFF)])
    }

    /// Feeds `bytes` in pieces of `size` and returns what comes out.
    static func sift(_ bytes: [UInt8], in size: Int) -> [UInt8] {
        var sieve = ResetFrameSieve()
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let piece = Array(bytes[index..<min(index + size, bytes.count)])
            out += sieve.sift(piece) ?? piece
            index += size
        }
        return out
    }

    @Test(arguments: [1, 2, 5, 9, 13, 17, 64, 100_000])
    func streamClosedResetsGoAndEverythingElseStays(pieceSize: Int) {
        let settings = Self.frame(type: 4, stream: 0, payload: [0, 3, 0, 0, 0, 100])
        let headers = Self.frame(type: 1, stream: 1, payload: Array(repeating: 0x82, count: 40))
        // A DATA frame whose payload looks like a reset frame must pass whole.
        let data = Self.frame(type: 0, stream: 3, payload: Self.reset(stream: 3, code: 5) + Array(repeating: 7, count: 300))
        let cancel = Self.reset(stream: 5, code: 8)
        let closed = Self.reset(stream: 1, code: 5)
        let input = Self.preface + settings + headers + closed + data + cancel + Self.reset(stream: 3, code: 5) + headers
        let expected = Self.preface + settings + headers + data + cancel + headers
        #expect(Self.sift(input, in: pieceSize) == expected)
    }

    @Test func http1IsPassedUntouched() {
        let request = Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + Self.reset(stream: 1, code: 5)
        for size in [1, 3, 200] { #expect(Self.sift(request, in: size) == request) }
        var sieve = ResetFrameSieve()
        #expect(sieve.sift(Array("GET / HTTP/1.1\r\n".utf8)) == nil)
        #expect(sieve.isPlain)
    }
}
