/// Percent-decoding of URL parts (RFC 3986), shared by the hub and the control API.
/// Malformed escapes are kept as they are rather than refused, so a path segment
/// decodes to something that the route's own checks then accept or reject.
package enum PercentDecoding {
    /// `%41` → `A`. A `%` not followed by two hex digits stays as it is.
    package static func decode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) || (plusIsSpace && utf8.contains(UInt8(ascii: "+"))) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether a `%` in `text` is not followed by two hex digits. Where a literal `%`
    /// would change a secret or a name in silence (a database URL), such text is
    /// refused, as libpq refuses it.
    package static func hasMalformedEscape(_ text: some StringProtocol) -> Bool {
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%") {
                guard index + 2 < utf8.count, hexValue(utf8[index + 1]) != nil, hexValue(utf8[index + 2]) != nil else { return true }
                index += 3
            } else {
                index += 1
            }
        }
        return false
    }

    /// A query string (`a=1&b&c=%20`) as names and values, `+` read as a space. A pair
    /// without `=` has the empty value; an empty pair is skipped; the last of a
    /// repeated name wins.
    package static func query(_ text: some StringProtocol) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: "=") {
                result[decode(pair[..<equals], plusIsSpace: true)] = decode(pair[pair.index(after: equals)...], plusIsSpace: true)
            } else {
                result[decode(pair, plusIsSpace: true)] = ""
            }
        }
        return result
    }

    /// The inverse, for a query value: every byte but RFC 3986's unreserved ones
    /// (letters, digits, `-._~`) as `%XX`.
    package static func encodeQueryValue(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
