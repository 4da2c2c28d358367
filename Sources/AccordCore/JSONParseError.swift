/// Why a JSON text was rejected and where: 1-based line and column (in characters),
/// plus the byte offset for tools that want it.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int
    public var reason: String
    /// The input nests deeper than the parser's `maxDepth` allowed.
    public var isTooDeep = false

    public init(line: Int, column: Int, offset: Int, reason: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(line):\(column): \(reason)" }
}
