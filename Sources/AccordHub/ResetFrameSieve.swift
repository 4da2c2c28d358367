/// Takes out of an inbound HTTP/2 byte stream the RST_STREAM frames whose error code is
/// STREAM_CLOSED, and passes every other byte through unchanged.
///
/// Why: libcurl 7.88 (Debian 12's, the daemon's) ends each HTTP/2 request it has fully
/// received with RST_STREAM(STREAM_CLOSED), and SwiftNIO's HTTP/2 guard against
/// "rapid reset" floods ends a connection after 200 resets in 30 s (GOAWAY
/// ENHANCE_YOUR_CALM). A daemon pushing over HTTP/2 lost its connection every ~400
/// requests and logged the hub unreachable. STREAM_CLOSED only says the sender is done
/// with a stream; a reset that cancels work (CANCEL and the rest) still reaches the
/// guard. A connection that does not open with the HTTP/2 preface (HTTP/1.1 by ALPN)
/// is passed through untouched.
struct ResetFrameSieve {
    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private static let frameHeaderSize = 9
    private static let resetFrameType: UInt8 = 3
    private static let streamClosedCode: UInt32 = 5

    private enum Phase { case preface, frames, plain }
    private var phase = Phase.preface
    /// The start of a frame (or of the preface) that has not fully arrived yet.
    private var held: [UInt8] = []
    /// Payload bytes of the current frame still to pass.
    private var payloadLeft = 0

    /// True once the stream is known not to be HTTP/2: nothing more to sift.
    var isPlain: Bool { phase == .plain }

    /// The bytes to pass on in place of `bytes`, or nil to pass `bytes` as they are.
    mutating func sift(_ bytes: [UInt8]) -> [UInt8]? {
        if phase == .plain { return nil }
        let hadHeld = !held.isEmpty
        let data = hadHeld ? held + bytes : bytes
        held = []
        var start = 0
        if phase == .preface {
            let count = min(Self.preface.count, data.count)
            guard data[0..<count].elementsEqual(Self.preface[0..<count]) else {
                phase = .plain
                return hadHeld ? data : nil
            }
            guard data.count >= Self.preface.count else {
                held = data
                return []
            }
            phase = .frames
            start = Self.preface.count
        }
        var kept: [Range<Int>] = [0..<start]
        var index = start
        var keptFrom = start
        while index < data.count {
            if payloadLeft > 0 {
                let take = min(payloadLeft, data.count - index)
                index += take
                payloadLeft -= take
                continue
            }
            let available = data.count - index
            guard available >= Self.frameHeaderSize else { break }
            let length = Int(data[index]) << 16 | Int(data[index + 1]) << 8 | Int(data[index + 2])
            if data[index + 3] == Self.resetFrameType, length == 4 {
                guard available >= Self.frameHeaderSize + 4 else { break }
                let code = data[(index + 9)..<(index + 13)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if code == Self.streamClosedCode {
                    kept.append(keptFrom..<index)
                    index += Self.frameHeaderSize + 4
                    keptFrom = index
                    continue
                }
            }
            index += Self.frameHeaderSize
            payloadLeft = length
        }
        // An incomplete frame header (or reset) waits for the rest of its bytes.
        let end = min(index, data.count)
        if end < data.count { held = Array(data[end...]) }
        kept.append(keptFrom..<end)
        let changed = kept.reduce(0) { $0 + $1.count } != data.count
        if !hadHeld, !changed { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        for range in kept where !range.isEmpty { out.append(contentsOf: data[range]) }
        return out
    }
}
