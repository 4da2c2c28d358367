import Testing

@testable import AccordCore

@Suite("Field diff")
struct FieldDiffTests {
    @Test func printsChangedScalars() {
        let old = object(#"{"status": "negotiating", "value": {"amount": 1910000000, "currency": "USD"}}"#)
        let new = object(#"{"status": "extended", "value": {"amount": 2010000000, "currency": "USD"}}"#)
        #expect(
            FieldDiff.diff(old, new).map(\.description) == [
                "status: negotiating -> extended",
                "value.amount: 1910000000 -> 2010000000",
            ])
    }

    @Test func addedRemovedAndArrays() {
        let old = object(#"{"a": 1, "gone": true, "parties": ["US", "JP"]}"#)
        let new = object(#"{"a": 1, "parties": ["US", "JP", "KR"], "fresh": null}"#)
        #expect(
            FieldDiff.diff(old, new).map(\.description) == [
                #"parties: ["US", "JP"] -> ["US", "JP", "KR"]"#,
                "fresh: (none) -> null",
                "gone: true -> (none)",
            ])
    }

    @Test func reorderingAndRespellingIsNoChange() {
        let old = object(#"{"a": 1.0, "b": {"x": 1, "y": 2}}"#)
        let new = object(#"{"b": {"y": 2, "x": 1}, "a": 1}"#)
        #expect(FieldDiff.diff(old, new).isEmpty)
    }

    @Test func objectReplacedByScalarIsOneChange() {
        let changes = FieldDiff.diff(object(#"{"v": {"a": 1}}"#), object(#"{"v": 3}"#))
        #expect(changes.map(\.description) == [#"v: {"a": 1} -> 3"#])
    }

    @Test func longValuesAreCutInSummaries() {
        let change = FieldChange(path: ["body"], old: .string("line one\nline two"), new: .string(String(repeating: "x", count: 100)))
        #expect(change.summary(width: 10) == #"body: "line one… -> xxxxxxxxx…"#)
    }

    @Test func recordsDiffWithoutKindAndID() throws {
        let old = try Record(object: object(#"{"kind": "news", "id": "a", "headline": "h"}"#))
        let new = try Record(object: object(#"{"kind": "news", "id": "a", "headline": "H"}"#))
        #expect(FieldDiff.diff(old, new).map(\.description) == ["headline: h -> H"])
    }
}
