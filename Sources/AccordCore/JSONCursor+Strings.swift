#if canImport(Glibc)
    import Glibc
#endif

/// String scanning for the parser: an 8-bytes-at-a-time scan for the body, escapes
/// decoded straight into the String's storage.
extension JSONCursor {
    mutating func parseString() throws(Failure) -> String {
        let open = index
        index += 1
        let start = index
        var hasEscape = false
        var hasNonASCII = false
        let base = UnsafeRawPointer(bytes.baseAddress!)
        let count = bytes.count
        // Find the closing quote; note escapes and non-ASCII bytes on the way.
        while true {
            // Eight bytes at a time while none of them needs a closer look.
            while index + 8 <= count, Self.isPlainASCII(base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            guard index < count else { throw Failure(offset: open, reason: "unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                hasEscape = true
                index += 2
                continue
            }
            if byte < 0x20 {
                throw Failure(offset: index, reason: "control character U+\(hex(byte, width: 4)) in a string; escape it (for a line break write \\n)")
            }
            if byte >= 0x80 { hasNonASCII = true }
            index += 1
        }
        let end = index
        index += 1
        if hasNonASCII, let bad = UTF8Validation.firstInvalidOffset(in: bytes, from: start, to: end) {
            throw Failure(offset: bad, reason: "invalid UTF-8 byte 0x\(hex(bytes[bad], width: 2)) in a string; save the file as UTF-8")
        }
        if !hasEscape {
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        return try decodeEscapes(from: start, to: end)
    }

    /// True when none of the eight bytes is a quote, a backslash, a control character or
    /// non-ASCII (the classic SWAR "has zero byte" / "has byte less than" tests).
    @inline(__always) static func isPlainASCII(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs == 0
    }

    /// Decodes a string with escapes straight into the String's storage: runs between
    /// backslashes are copied whole, since escaped text is never longer once decoded.
    mutating func decodeEscapes(from start: Int, to end: Int) throws(Failure) -> String {
        var failure: Failure? = nil
        let base = UnsafeRawPointer(bytes.baseAddress!)
        let source = bytes
        let text = String(unsafeUninitializedCapacity: end - start) { out in
            var written = 0
            var position = start
            while position < end {
                let runStart = position
                if let found = memchr(base + position, 0x5C, end - position) {
                    position = UnsafeRawPointer(found) - base
                } else {
                    position = end
                }
                if position > runStart {
                    UnsafeMutableRawPointer(out.baseAddress! + written).copyMemory(from: base + runStart, byteCount: position - runStart)
                    written += position - runStart
                }
                guard position < end else { break }
                let escapeAt = position
                position += 1
                guard position < end else {
                    failure = Failure(offset: escapeAt, reason: "unfinished escape at the end of a string")
                    return 0
                }
                let simple: UInt8?
                switch source[position] {
                case UInt8(ascii: "\""): simple = 0x22
                case UInt8(ascii: "\\"): simple = 0x5C
                case UInt8(ascii: "/"): simple = 0x2F
                case UInt8(ascii: "b"): simple = 0x08
                case UInt8(ascii: "f"): simple = 0x0C
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "r"): simple = 0x0D
                case UInt8(ascii: "t"): simple = 0x09
                case UInt8(ascii: "u"): simple = nil
                default:
                    failure = Failure(offset: escapeAt, reason: "invalid escape \(JSONCursor.describeEscape(source, at: position, end: end)) in a string")
                    return 0
                }
                if let simple {
                    out[written] = simple
                    written += 1
                    position += 1
                    continue
                }
                do throws(Failure) {
                    let (scalar, next) = try unicodeEscape(at: position, end: end, escapeAt: escapeAt)
                    for unit in UTF8.encode(scalar)! {
                        out[written] = unit
                        written += 1
                    }
                    position = next
                } catch {
                    failure = error
                    return 0
                }
            }
            return written
        }
        if let failure { throw failure }
        return text
    }

    /// How to show the character after a backslash in an error: printable ASCII as
    /// itself, other characters escaped, broken UTF-8 as its byte.
    static func describeEscape(_ bytes: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> String {
        let byte = bytes[position]
        if byte >= 0x21 && byte < 0x7F { return "\\" + String(Character(Unicode.Scalar(byte))) }
        if byte < 0x80 { return "\\ followed by U+\(hex(byte, width: 4))" }
        if UTF8Validation.firstInvalidOffset(in: bytes, from: position, to: min(end, position + 4)) == position {
            return "\\ followed by invalid UTF-8 byte 0x\(hex(byte, width: 2))"
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<min(end, position + 4)]), as: UTF8.self)
        return "\\" + (text.unicodeScalars.first.map { String(Character($0)) } ?? "?")
    }

    /// Reads `\uXXXX` (and its low surrogate, for a pair) starting at the `u`.
    /// Returns the scalar and the index just after the escape.
    func unicodeEscape(at position: Int, end: Int, escapeAt: Int) throws(Failure) -> (Unicode.Scalar, Int) {
        var scalar = try hex4(at: position + 1, end: end, escapeAt: escapeAt)
        var next = position + 5
        if (0xD800...0xDBFF).contains(scalar) {
            guard next + 1 < end, bytes[next] == UInt8(ascii: "\\"), bytes[next + 1] == UInt8(ascii: "u") else {
                throw Failure(offset: escapeAt, reason: "lone surrogate \\u\(hex(scalar, width: 4)) in a string")
            }
            let low = try hex4(at: next + 2, end: end, escapeAt: next)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw Failure(offset: escapeAt, reason: "lone surrogate \\u\(hex(scalar, width: 4)) in a string")
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw Failure(offset: escapeAt, reason: "lone surrogate \\u\(hex(scalar, width: 4)) in a string")
        }
        return (Unicode.Scalar(scalar)!, next)
    }

    func hex4(at position: Int, end: Int, escapeAt: Int) throws(Failure) -> UInt32 {
        guard position + 4 <= end else { throw Failure(offset: escapeAt, reason: "\\u escape needs four hex digits") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(offset: escapeAt, reason: "\\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
