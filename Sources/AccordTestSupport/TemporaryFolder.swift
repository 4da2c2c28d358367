import Foundation

/// A real folder under /tmp, removed when the test is done with it.
package final class TemporaryFolder: @unchecked Sendable {
    package let path: String

    package init() throws {
        var template = Array((NSTemporaryDirectory() + "accord-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// `path/relative`.
    package func child(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    package func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Array(text.utf8))
    }

    @discardableResult
    package func write(_ relative: String, _ bytes: [UInt8]) throws -> String {
        let full = child(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        return full
    }
}

/// Where this checkout and its built programs are.
package enum BuiltProducts {
    /// The repository root, found from this file's path.
    package static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// A program built beside the running test bundle (`.build/debug/NAME`).
    package static func path(of name: String) throws -> String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundle.appendingPathComponent(name).path, bundle.deletingLastPathComponent().appendingPathComponent(name).path]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError("\(name) is not built next to the tests (looked in \(candidates.joined(separator: ", "))); run swift build first")
        }
        return found
    }
}

package struct TestSupportError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
