/// Writes JSON in the project's own style, the one `json.dumps(indent=2,
/// ensure_ascii=False)` and most editors produce: 2-space indent, `": "`, keys in their
/// order, non-ASCII kept as UTF-8, a trailing newline. Because the parser keeps key order
/// and number literals, rewriting an unchanged record in this style gives the same bytes.
package enum JSONWriter {
    /// A whole `.json` file: indented, with a trailing newline.
    package static func pretty(_ value: JSONValue) -> String {
        var out = ""
        out.reserveCapacity(1024)
        writePretty(value, indent: 0, into: &out)
        out.append("\n")
        return out
    }

    /// One `.jsonl` line (without its newline): `{"kind": "news", "id": "a"}`.
    package static func line(_ value: JSONValue) -> String {
        var out = ""
        out.reserveCapacity(512)
        writeLine(value, into: &out)
        return out
    }

    private static func writePretty(_ value: JSONValue, indent: Int, into out: inout String) {
        switch value {
        case .array(let elements) where !elements.isEmpty:
            out.append("[\n")
            for (index, element) in elements.enumerated() {
                appendIndent(indent + 1, to: &out)
                writePretty(element, indent: indent + 1, into: &out)
                out.append(index == elements.count - 1 ? "\n" : ",\n")
            }
            appendIndent(indent, to: &out)
            out.append("]")
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
            out.append("}")
        default:
            writeLine(value, into: &out)
        }
    }

    private static func writeLine(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out.append("null")
        case .bool(let flag): out.append(flag ? "true" : "false")
        case .number(let number): out.append(number.literal)
        case .string(let string): appendString(string, to: &out)
        case .array(let elements):
            out.append("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(", ") }
                writeLine(element, into: &out)
            }
            out.append("]")
        case .object(let object):
            out.append("{")
            for (index, member) in object.members.enumerated() {
                if index > 0 { out.append(", ") }
                appendString(member.key, to: &out)
                out.append(": ")
                writeLine(member.value, into: &out)
            }
            out.append("}")
        }
    }

    private static func appendIndent(_ level: Int, to out: inout String) {
        for _ in 0..<level { out.append("  ") }
    }

    static func appendString(_ string: String, to out: inout String) {
        out.append("\"")
        var needsEscape = false
        for byte in string.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        guard needsEscape else {
            out.append(string)
            out.append("\"")
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case "\u{08}": out.append("\\b")
            case "\u{0C}": out.append("\\f")
            case let control where control.value < 0x20:
                out.append("\\u00")
                out.append(hex(control.value, width: 2).lowercased())
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }
}
