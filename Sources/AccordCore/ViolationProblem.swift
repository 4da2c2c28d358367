extension RecordProblem {
    /// A schema violation of `located`, placed at the line and column of the offending
    /// value in its file's `bytes`: where `accordctl validate` points, so the daemon's
    /// status and log say the same place (not the record's first line).
    package init(_ violation: SchemaViolation, of located: LocatedRecord, in bytes: [UInt8]) {
        let range = located.byteRange
        guard !range.isEmpty, range.upperBound <= bytes.count else {
            self.init(path: located.path, line: located.line, column: 1, reason: violation.description)
            return
        }
        let (line, column) = bytes[range].withUnsafeBufferPointer { JSONLocator.position(of: violation.path, in: $0) }
        self.init(path: located.path, line: located.line + line - 1, column: column, reason: violation.description)
    }
}
