/// Something wrong with the input at a place in a file. Printed the way compilers do,
/// `path:line:col: reason`, so editors and terminals can jump to it.
public struct RecordProblem: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public var reason: String

    public init(path: String, line: Int, column: Int, reason: String) {
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(path):\(line):\(column): \(reason)" }
}
