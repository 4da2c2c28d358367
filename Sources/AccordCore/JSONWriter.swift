/// Writes JSON in the project's own style, the one `json.dumps(indent=2,
/// ensure_ascii=False)` and most editors produce: 2-space indent, `": "`, keys in their
/// order, non-ASCII kept as UTF-8, a trailing newline. Because the parser keeps key order
/// and number literals, rewriting an unchanged record in this style gives the same bytes.
package enum JSONWriter {
    /// A whole `.json` file: indented, with a trailing newline.
    package static func pretty(_ value: JSONValue) -> String {
        var out = Output(capacity: 1024)
        writePretty(value, indent: 0, into: &out)
        out.append(0x0A)
        return out.string
    }

    /// One `.jsonl` line (without its newline): `{"kind": "news", "id": "a"}`.
    package static func line(_ value: JSONValue) -> String {
        var out = Output(capacity: 512)
        writeLine(value, into: &out)
        return out.string
    }

    /// The text being written, as UTF-8 bytes: appending bytes costs a fraction of
    /// appending to a `String` (no grapheme or capacity bookkeeping per piece), and the
    /// writer is on every hot path (the state's outbox and bases, the hub's storage and
    /// every answer).
    struct Output {
        var bytes: [UInt8] = []

        init(capacity: Int) { bytes.reserveCapacity(capacity) }

        mutating func append(_ byte: UInt8) { bytes.append(byte) }

        mutating func append(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func append(_ text: String) {
            var text = text
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }

        var string: String { String(decoding: bytes, as: UTF8.self) }
    }

    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout Output) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out.append("[\n")
            for (index, element) in elements.enumerated() {
                appendIndent(indent + 1, to: &out)
                writePretty(element, indent: indent + 1, into: &out)
                out.append(index == elements.count - 1 ? "\n" : ",\n")
            }
            appendIndent(indent, to: &out)
            out.append(UInt8(ascii: "]"))
        case .object(let object) where !object.isEmpty:
            out.append("{\n")
            for (index, member) in object.members.enumerated() {
                appendIndent(indent + 1, to: &out)
                appendString(member.key, to: &out)
                out.append(": ")
                writePretty(member.value, indent: indent + 1, into: &out)
                out.append(index == object.count - 1 ? "\n" : ",\n")
            }
            appendIndent(indent, to: &out)
            out.append(UInt8(ascii: "}"))
        default:
            writeLine(value, into: &out)
        }
    }

    private static func writeLine(_ value: JSONValue, into out: inout Output) {
        switch value {
        case .null: out.append("null")
        case .bool(let flag): out.append(flag ? "true" : "false")
        case .number(let number): out.append(number.literal)
        case .string(let string): appendString(string, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(", ") }
                writeLine(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { out.append(", ") }
                appendString(member.key, to: &out)
                out.append(": ")
                writeLine(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func appendIndent(_ level: Int, to out: inout Output) {
        for _ in 0..<level { out.append("  ") }
    }

    /// A JSON string: `"`, `\` and control characters escaped (the short forms where
    /// JSON has them, `\u00XX` otherwise), everything else as its UTF-8 bytes.
    static func appendString(_ string: String, to out: inout Output) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case 0x22: out.append("\\\"")
                case 0x5C: out.append("\\\\")
                case 0x0A: out.append("\\n")
                case 0x0D: out.append("\\r")
                case 0x09: out.append("\\t")
                case 0x08: out.append("\\b")
                case 0x0C: out.append("\\f")
                default:
                    out.append("\\u00")
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0F)])
                }
            }
            out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
