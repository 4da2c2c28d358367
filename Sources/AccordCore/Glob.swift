/// A shell-style glob for the config's `ignore` list: `*` and `?` stay inside one path
/// segment, `**` crosses segments, `[abc]`/`[!a-z]` are classes. A pattern without a
/// slash matches the file name at any depth, as in `.gitignore`.
package struct Glob: Sendable, Hashable {
    package let pattern: String
    private let characters: [Character]
    private let matchesBaseName: Bool

    package init(_ pattern: String) {
        var text = pattern
        while text.hasPrefix("/") { text.removeFirst() }
        self.pattern = pattern
        self.matchesBaseName = !text.contains("/")
        self.characters = Array(text)
    }

    /// `relativePath` uses `/` and has no leading slash.
    package func matches(_ relativePath: String) -> Bool {
        if matchesBaseName {
            let name = relativePath.split(separator: "/").last.map(String.init) ?? relativePath
            var failed = Set<Int>()
            return Self.match(characters[...], Array(name)[...], failed: &failed)
        }
        var failed = Set<Int>()
        return Self.match(characters[...], Array(relativePath)[...], failed: &failed)
    }

    /// Matches with memory of the (pattern, text) positions already known to fail, so
    /// patterns with many stars stay polynomial instead of exponential.
    private static func match(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>, failed: inout Set<Int>) -> Bool {
        let state = pattern.startIndex &* 1_000_003 &+ text.startIndex
        if failed.contains(state) { return false }
        let matched = matchUncached(pattern, text, failed: &failed)
        if !matched { failed.insert(state) }
        return matched
    }

    private static func matchUncached(_ pattern: ArraySlice<Character>, _ text: ArraySlice<Character>, failed: inout Set<Int>) -> Bool {
        var p = pattern.startIndex
        var t = text.startIndex
        while p < pattern.endIndex {
            let character = pattern[p]
            switch character {
            case "*":
                let isDouble = p + 1 < pattern.endIndex && pattern[p + 1] == "*"
                let rest = p + (isDouble ? 2 : 1)
                // `**/` also matches no folder at all.
                if isDouble, rest < pattern.endIndex, pattern[rest] == "/", match(pattern[(rest + 1)...], text[t...], failed: &failed) {
                    return true
                }
                var end = t
                while true {
                    if match(pattern[rest...], text[end...], failed: &failed) { return true }
                    guard end < text.endIndex, isDouble || text[end] != "/" else { return false }
                    end += 1
                }
            case "?":
                guard t < text.endIndex, text[t] != "/" else { return false }
                p += 1
                t += 1
            case "[":
                guard t < text.endIndex, let (matched, next) = matchClass(pattern, from: p, against: text[t]) else {
                    return false
                }
                guard matched else { return false }
                p = next
                t += 1
            default:
                guard t < text.endIndex, text[t] == character else { return false }
                p += 1
                t += 1
            }
        }
        return t == text.endIndex
    }

    /// Whether `character` is in the class starting at `start`, and the index after the class.
    private static func matchClass(_ pattern: ArraySlice<Character>, from start: Int, against character: Character) -> (Bool, Int)? {
        var index = start + 1
        var negate = false
        if index < pattern.endIndex, pattern[index] == "!" || pattern[index] == "^" {
            negate = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.endIndex, pattern[index] != "]" || first {
            first = false
            let low = pattern[index]
            if index + 2 < pattern.endIndex, pattern[index + 1] == "-", pattern[index + 2] != "]" {
                if low <= character && character <= pattern[index + 2] { matched = true }
                index += 3
            } else {
                if low == character { matched = true }
                index += 1
            }
        }
        guard index < pattern.endIndex else { return nil }
        return (matched != negate && character != "/", index + 1)
    }
}
