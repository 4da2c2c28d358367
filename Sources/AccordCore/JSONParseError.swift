/// Why a JSON text was rejected and where: 1-based line and column (in characters),
/// plus the byte offset for tools that want it.
package struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    package var line: Int
    package var column: Int
    package var offset: Int
    package var reason: String
    /// The input nests deeper than the parser's `maxDepth` allowed.
    package var isTooDeep = false

    package init(line: Int, column: Int, offset: Int, reason: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.reason = reason
    }

    package var description: String { "\(line):\(column): \(reason)" }
}
