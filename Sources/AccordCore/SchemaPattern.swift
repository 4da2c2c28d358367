#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A schema `pattern`, run by the C library's POSIX regex engine.
///
/// Schema patterns are ECMA-262; the common subset (anchors, classes, quantifiers,
/// groups, alternation, `\d \w \s`) is translated to POSIX extended syntax, and anything
/// outside it is refused when the schema loads. Swift's own `Regex` costs tens of
/// microseconds a match, which would dominate validation.
final class SchemaPattern: @unchecked Sendable {
    // regexec on a compiled regex_t is thread-safe in glibc; the pointer never changes.
    let source: String
    private let compiled: UnsafeMutablePointer<regex_t>
    /// The fast path, for patterns of the common simple shape.
    private let simple: SimplePattern?

    struct Unsupported: Error {
        var reason: String
    }

    init(_ source: String) throws(Unsupported) {
        self.source = source
        self.simple = SimplePattern(source)
        let translated = try Self.translate(source)
        compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = regcomp(compiled, translated, REG_EXTENDED | REG_NOSUB)
        if status != 0 {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &message, message.count)
            compiled.deallocate()
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Unsupported(reason: "invalid pattern \(source): \(text)")
        }
    }

    deinit {
        regfree(compiled)
        compiled.deallocate()
    }

    func matches(_ string: String) -> Bool {
        if let simple, let answer = simple.matches(string) { return answer }
        // REG_STARTEND bounds the subject by length, so a NUL inside it is an ordinary
        // character instead of the end of the string.
        var text = string
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress, !chars.isEmpty else { return regexec(compiled, "", 0, nil, 0) == 0 }
                var bounds = regmatch_t(rm_so: 0, rm_eo: regoff_t(chars.count))
                return regexec(compiled, base, 1, &bounds, REG_STARTEND) == 0
            }
        }
    }

    static func translate(_ source: String) throws(Unsupported) -> String {
        let characters = Array(source)
        var out = ""
        var inBracket = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let previous: Character? = index > 0 ? characters[index - 1] : nil
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            index += 1
            if character == "\\" {
                guard let escaped = next else {
                    throw Unsupported(reason: "pattern \(source) ends with a lone backslash")
                }
                index += 1
                if let replacement = classEscape(escaped, inBracket: inBracket) {
                    out += replacement
                } else if !inBracket, "\\^$.|?*+()[]{}".contains(escaped) {
                    out += "\\\(escaped)"
                } else if "/-_.".contains(escaped) {
                    // Escaped punctuation that is literal in ERE (inside [] only where unambiguous).
                    guard !(inBracket && escaped == "-") else {
                        throw Unsupported(reason: "pattern \(source): write - first or last inside [] instead of \\-")
                    }
                    out += escaped == "." && !inBracket ? "\\." : String(escaped)
                } else {
                    throw Unsupported(reason: "pattern \(source): escape \\\(escaped) is not supported")
                }
                continue
            }
            if inBracket {
                if character == "]" { inBracket = false }
                out.append(character)
                continue
            }
            switch character {
            case "[":
                inBracket = true
            case "(" where next == "?":
                throw Unsupported(reason: "pattern \(source): (?...) groups are not supported")
            case "?" where previous == "*" || previous == "+" || previous == "?" || previous == "}":
                throw Unsupported(reason: "pattern \(source): lazy quantifiers are not supported")
            default:
                break
            }
            out.append(character)
        }
        if inBracket { throw Unsupported(reason: "pattern \(source) has an unclosed [") }
        return out
    }

    private static func classEscape(_ escaped: Character, inBracket: Bool) -> String? {
        let inside: String
        switch escaped {
        case "d": inside = "0-9"
        case "w": inside = "A-Za-z0-9_"
        case "s": inside = "[:space:]"
        case "D" where !inBracket: return "[^0-9]"
        case "W" where !inBracket: return "[^A-Za-z0-9_]"
        case "S" where !inBracket: return "[^[:space:]]"
        default: return nil
        }
        return inBracket ? inside : "[\(inside)]"
    }
}
