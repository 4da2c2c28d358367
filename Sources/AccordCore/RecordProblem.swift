/// Something wrong with the input at a place in a file. Printed the way compilers do,
/// `path:line:col: reason`, so editors and terminals can jump to it.
package struct RecordProblem: Sendable, Hashable, CustomStringConvertible {
    package var path: String
    package var line: Int
    package var column: Int
    package var reason: String

    package init(path: String, line: Int, column: Int, reason: String) {
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// One line, always: control characters in the path or reason (a newline in a file
    /// name, an escape sequence in an id) are shown escaped, never sent to the terminal.
    package var description: String { "\(Self.printable(path)):\(line):\(column): \(Self.printable(reason))" }

    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                out += "\\u" + hex(scalar.value, width: 4)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
