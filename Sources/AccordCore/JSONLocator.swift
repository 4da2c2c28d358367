/// Finds where a JSON pointer's value starts in the text, so that a schema error can
/// say `path:12:3` instead of pointing at the start of the record. Only runs on the
/// failure path: parsing itself tracks no positions.
package enum JSONLocator {
    /// Line and column (1-based) of the value at `pointer` (`/value/amount`), or of the
    /// nearest enclosing value that exists (a missing required field points at its
    /// object). The text must already have parsed.
    package static func position(of pointer: String, in bytes: [UInt8]) -> (line: Int, column: Int) {
        bytes.withUnsafeBufferPointer { position(of: pointer, in: $0) }
    }

    package static func position(of pointer: String, in buffer: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        let offset = offset(of: components(of: pointer), in: buffer)
        return TextPosition.lineAndColumn(of: offset, in: buffer)
    }

    /// `/a~1b/0` → `["a/b", "0"]` (RFC 6901 unescaping).
    package static func components(of pointer: String) -> [String] {
        guard !pointer.isEmpty else { return [] }
        return pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            var component = ""
            var pending = false
            for character in $0 {
                if pending {
                    component.append(character == "1" ? "/" : "~")
                    pending = false
                } else if character == "~" {
                    pending = true
                } else {
                    component.append(character)
                }
            }
            return component
        }
    }

    static func offset(of components: [String], in buffer: UnsafeBufferPointer<UInt8>) -> Int {
        var scanner = JSONSkipper(bytes: buffer)
        scanner.skipWhitespace()
        var found = scanner.index
        for component in components {
            guard scanner.enter(component) else { break }
            found = scanner.index
        }
        return found
    }
}

/// Walks already-valid JSON text without building values.
struct JSONSkipper {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    /// Moves from the start of a container to the start of its member `component`.
    mutating func enter(_ component: String) -> Bool {
        guard index < bytes.count else { return false }
        let start = index
        if bytes[index] == UInt8(ascii: "{") {
            index += 1
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { break }
                let keyStart = index
                skipString()
                let key = decodeKey(from: keyStart, to: index)
                skipWhitespace()
                index += 1  // ':'
                skipWhitespace()
                if key == component { return true }
                skipValue()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { break }
                index += 1
            }
        } else if bytes[index] == UInt8(ascii: "["), let position = Int(component), position >= 0 {
            index += 1
            var current = 0
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] != UInt8(ascii: "]") else { break }
                if current == position { return true }
                skipValue()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { break }
                index += 1
                current += 1
            }
        }
        index = start
        return false
    }

    mutating func skipString() {
        index += 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        index += 1
    }

    mutating func skipValue() {
        guard index < bytes.count else { return }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    skipString()
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                }
                index += 1
            }
        default:
            while index < bytes.count, !",}] \n\r\t".utf8.contains(bytes[index]) { index += 1 }
        }
    }

    private func decodeKey(from start: Int, to end: Int) -> String? {
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        return (try? JSONParser.parse(slice))?.stringValue
    }
}
