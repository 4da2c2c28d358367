import Testing

@testable import AccordCore

@Suite("Line merge (diff3)")
struct LineMergeTests {
    @Test(
        "clean merges",
        arguments: [
            ("a\nb\nc", "A\nb\nc", "a\nb\nC", "A\nb\nC"),
            ("a\nb\nc", "a\nb\nc", "x", "x"),
            ("a\nb\nc", "a\nc", "a\nb\nc\nd", "a\nc\nd"),
            ("", "x", "", "x"),
            ("a\n", "a\nb\n", "z\na\n", "z\na\nb\n"),
            ("1\n2\n3\n4", "0\n1\n2\n3\n4", "1\n2\n3\n4\n5", "0\n1\n2\n3\n4\n5"),
            ("a\nb\nc\nd\ne", "a\nB\nc\nd\ne", "a\nb\nc\nD\ne", "a\nB\nc\nD\ne"),
        ])
    func clean(_ base: String, _ local: String, _ remote: String, _ expected: String) {
        #expect(LineMerge.merge(base: base, local: local, remote: remote) == expected)
        #expect(LineMerge.merge(base: base, local: remote, remote: local) == expected)
    }

    @Test(
        "overlapping edits do not merge",
        arguments: [
            ("a\nb", "a\nX", "a\nY"),
            ("a\nb\nc", "A\nb\nc", "a\nB\nc"),
            ("a", "a\nL", "a\nR"),
            ("a\nb\nc", "a\nc", "a\nB\nc"),
        ])
    func conflicting(_ base: String, _ local: String, _ remote: String) {
        #expect(LineMerge.merge(base: base, local: local, remote: remote) == nil)
    }

    @Test func largeTextsWithSmallEditsMerge() {
        let base = (0..<20_000).map { "line \($0)" }
        var local = base
        local[10] = "local edit"
        var remote = base
        remote[19_000] = "remote edit"
        let merged = LineMerge.merge(base: base.joined(separator: "\n"), local: local.joined(separator: "\n"), remote: remote.joined(separator: "\n"))
        var expected = base
        expected[10] = "local edit"
        expected[19_000] = "remote edit"
        #expect(merged == expected.joined(separator: "\n"))
    }
}
