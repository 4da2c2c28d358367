import Testing

@testable import AccordCore

@Suite("Ignore rules and globs")
struct GlobTests {
    @Test(
        "globs",
        arguments: [
            ("*.bak", "a/b/file.bak", true), ("*.bak", "file.json", false), ("drafts/*", "drafts/a.json", true),
            ("drafts/*", "drafts/x/a.json", false), ("drafts/**", "drafts/x/a.json", true), ("**/tmp/*.json", "tmp/a.json", true),
            ("**/tmp/*.json", "a/b/tmp/a.json", true), ("a?.json", "ab.json", true), ("a?.json", "abc.json", false),
            ("[!x]*.json", "y.json", true), ("[!x]*.json", "x.json", false), ("[a-c].json", "b.json", true), ("/top.json", "top.json", true),
        ])
    func glob(_ pattern: String, _ path: String, _ expected: Bool) {
        #expect(Glob(pattern).matches(path) == expected)
    }

    @Test(
        "built-in ignores",
        arguments: [
            (".hidden.json", true), ("a/.git/x.json", true), ("notes.json~", true), (".notes.json.swp", true), ("x.swp", true),
            ("x.tmp", true), ("#x.json#", true), (".#x.json", true), ("a/b/c.json", false), ("x#.json", false),
        ])
    func builtIn(_ path: String, _ ignored: Bool) {
        #expect(IgnoreRules().isIgnored(path) == ignored)
    }

    @Test func manyStarsDoNotBacktrackExponentially() {
        let name = String(repeating: "a", count: 125) + ".json"
        #expect(!Glob("*a*a*a*a*a*a*a*a*b").matches(name))
        #expect(Glob("*a*a*a*a*a*a*a*a*.json").matches(name))
        #expect(!Glob("**/*-*-*-*-*-*-draft.json").matches(String(repeating: "x-", count: 60) + "final.json"))
    }

    @Test func configGlobsApply() {
        let rules = IgnoreRules(globs: ["archive/**", "*.draft.json"])
        #expect(rules.isIgnored("archive/2019/a.json"))
        #expect(rules.isIgnored("news/x.draft.json"))
        #expect(!rules.isIgnored("news/x.json"))
        #expect(rules.isRecordFile("news/x.jsonl"))
        #expect(!rules.isRecordFile("news/readme.md"))
    }
}
