import Testing

@testable import AccordCore

/// One reconcile situation. `base`, `local` and `remote` are the record's fields (nil:
/// absent or deleted). A row without `conflicts` merges cleanly to `merged` under every
/// policy. A row with conflicts states both outcomes: `remoteWins` (policies merge,
/// prefer-remote, manual, and newest when the hub's change is newer) and `localWins`
/// (prefer-local, and newest when the local change is newer).
struct MergeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let base: String?
    let local: String?
    let remote: String?
    var merged: String? = nil
    var conflicts: [String] = []
    var remoteWins: String? = nil
    var localWins: String? = nil
    var deleteOverriddenOn: MergeSide? = nil

    var testDescription: String { name }
}

let body3 = #""para one\n\npara two\n\npara three""#

let mergeTable: [MergeCase] = [
    // Nothing or one side changed.
    MergeCase(name: "nothing changed", base: #"{"a": 1}"#, local: #"{"a": 1}"#, remote: #"{"a": 1}"#, merged: #"{"a": 1}"#),
    MergeCase(
        name: "only local changed a scalar", base: #"{"a": 1, "b": 1}"#, local: #"{"a": 2, "b": 1}"#, remote: #"{"a": 1, "b": 1}"#, merged: #"{"a": 2, "b": 1}"#
    ),
    MergeCase(
        name: "only remote changed a scalar", base: #"{"a": 1, "b": 1}"#, local: #"{"a": 1, "b": 1}"#, remote: #"{"a": 1, "b": 5}"#,
        merged: #"{"a": 1, "b": 5}"#),
    MergeCase(name: "only local added a field", base: #"{"a": 1}"#, local: #"{"a": 1, "n": "x"}"#, remote: #"{"a": 1}"#, merged: #"{"a": 1, "n": "x"}"#),
    MergeCase(name: "only remote added a field", base: #"{"a": 1}"#, local: #"{"a": 1}"#, remote: #"{"a": 1, "n": "x"}"#, merged: #"{"a": 1, "n": "x"}"#),
    MergeCase(name: "only local removed a field", base: #"{"a": 1, "b": 2}"#, local: #"{"a": 1}"#, remote: #"{"a": 1, "b": 2}"#, merged: #"{"a": 1}"#),
    MergeCase(name: "only remote removed a field", base: #"{"a": 1, "b": 2}"#, local: #"{"a": 1, "b": 2}"#, remote: #"{"b": 2}"#, merged: #"{"b": 2}"#),
    MergeCase(name: "local changed a field's type", base: #"{"a": 1}"#, local: #"{"a": "one"}"#, remote: #"{"a": 1}"#, merged: #"{"a": "one"}"#),
    MergeCase(name: "remote set a field to null", base: #"{"a": 1}"#, local: #"{"a": 1}"#, remote: #"{"a": null}"#, merged: #"{"a": null}"#),
    MergeCase(name: "remote toggled a bool", base: #"{"f": false}"#, local: #"{"f": false}"#, remote: #"{"f": true}"#, merged: #"{"f": true}"#),
    MergeCase(
        name: "local edited unicode text", base: #"{"t": "Tokyo"}"#, local: #"{"t": "東京 — Tokyo"}"#, remote: #"{"t": "Tokyo"}"#, merged: #"{"t": "東京 — Tokyo"}"#
    ),
    MergeCase(
        name: "local reordered keys only", base: #"{"a": 1, "b": 2}"#, local: #"{"b": 2, "a": 1}"#, remote: #"{"a": 1, "b": 3}"#, merged: #"{"b": 3, "a": 1}"#),
    MergeCase(
        name: "local respelled a number only", base: #"{"a": 1, "b": 1}"#, local: #"{"a": 1.0, "b": 1}"#, remote: #"{"a": 1, "b": 2}"#,
        // Not a change, so the file keeps its spelling.
        merged: #"{"a": 1.0, "b": 2}"#),
    // The same change on both sides.
    MergeCase(
        name: "both made the same scalar change", base: #"{"s": "negotiating"}"#, local: #"{"s": "extended"}"#, remote: #"{"s": "extended"}"#,
        merged: #"{"s": "extended"}"#),
    MergeCase(name: "both added the same field", base: #"{"a": 1}"#, local: #"{"a": 1, "n": 2}"#, remote: #"{"a": 1, "n": 2}"#, merged: #"{"a": 1, "n": 2}"#),
    MergeCase(name: "both removed the same field", base: #"{"a": 1, "b": 2}"#, local: #"{"a": 1}"#, remote: #"{"a": 1}"#, merged: #"{"a": 1}"#),
    MergeCase(
        name: "both made the same array change", base: #"{"p": ["US"]}"#, local: #"{"p": ["US", "JP"]}"#, remote: #"{"p": ["US", "JP"]}"#,
        merged: #"{"p": ["US", "JP"]}"#),
    MergeCase(
        name: "both made the same nested change", base: #"{"v": {"amount": 1}}"#, local: #"{"v": {"amount": 2}}"#, remote: #"{"v": {"amount": 2}}"#,
        merged: #"{"v": {"amount": 2}}"#),
    MergeCase(name: "both made the same text edit", base: #"{"b": "x\ny"}"#, local: #"{"b": "x\nz"}"#, remote: #"{"b": "x\nz"}"#, merged: #"{"b": "x\nz"}"#),
    MergeCase(name: "same change spelled differently", base: #"{"a": 1}"#, local: #"{"a": 2.0}"#, remote: #"{"a": 2}"#, merged: #"{"a": 2.0}"#),
    // Different fields changed.
    MergeCase(
        name: "different scalar fields changed", base: #"{"a": 1, "b": 1}"#, local: #"{"a": 2, "b": 1}"#, remote: #"{"a": 1, "b": 3}"#,
        merged: #"{"a": 2, "b": 3}"#),
    MergeCase(name: "local added, remote changed another", base: #"{"a": 1}"#, local: #"{"a": 1, "n": 0}"#, remote: #"{"a": 9}"#, merged: #"{"a": 9, "n": 0}"#),
    MergeCase(
        name: "local removed, remote changed another", base: #"{"a": 1, "b": 1}"#, local: #"{"a": 1}"#, remote: #"{"a": 2, "b": 1}"#, merged: #"{"a": 2}"#),
    MergeCase(
        name: "both added different fields", base: #"{"a": 1}"#, local: #"{"a": 1, "x": 1}"#, remote: #"{"a": 1, "y": 2}"#, merged: #"{"a": 1, "x": 1, "y": 2}"#
    ),
    MergeCase(
        name: "local renamed a field, remote changed another", base: #"{"old": 1, "c": 1}"#, local: #"{"new": 1, "c": 1}"#, remote: #"{"old": 1, "c": 2}"#,
        merged: #"{"new": 1, "c": 2}"#),
    MergeCase(
        name: "five fields each side", base: #"{"a":0,"b":0,"c":0,"d":0,"e":0,"f":0,"g":0,"h":0,"i":0,"j":0}"#,
        local: #"{"a":1,"b":1,"c":1,"d":1,"e":1,"f":0,"g":0,"h":0,"i":0,"j":0}"#,
        remote: #"{"a":0,"b":0,"c":0,"d":0,"e":0,"f":2,"g":2,"h":2,"i":2,"j":2}"#,
        merged: #"{"a":1,"b":1,"c":1,"d":1,"e":1,"f":2,"g":2,"h":2,"i":2,"j":2}"#),
    MergeCase(
        name: "array changed locally, scalar remotely", base: #"{"p": ["US", "JP"], "s": "a"}"#, local: #"{"p": ["JP", "US"], "s": "a"}"#,
        remote: #"{"p": ["US", "JP"], "s": "b"}"#, merged: #"{"p": ["JP", "US"], "s": "b"}"#),
    MergeCase(
        name: "remote changed a field's type, local another field", base: #"{"a": "x", "b": 1}"#, local: #"{"a": "x", "b": 2}"#,
        remote: #"{"a": {"v": "x"}, "b": 1}"#, merged: #"{"a": {"v": "x"}, "b": 2}"#),
    // Nested objects merge field by field.
    MergeCase(
        name: "different nested fields changed", base: #"{"value": {"amount": 1910000000, "currency": "USD"}}"#,
        local: #"{"value": {"amount": 2010000000, "currency": "USD"}}"#, remote: #"{"value": {"amount": 1910000000, "currency": "JPY"}}"#,
        merged: #"{"value": {"amount": 2010000000, "currency": "JPY"}}"#),
    MergeCase(
        name: "local added a nested field, remote changed another", base: #"{"v": {"a": 1}}"#, local: #"{"v": {"a": 1, "b": 2}}"#, remote: #"{"v": {"a": 5}}"#,
        merged: #"{"v": {"a": 5, "b": 2}}"#),
    MergeCase(
        name: "remote added a whole nested object", base: #"{"a": 1}"#, local: #"{"a": 1}"#, remote: #"{"a": 1, "image": {"caption": "c"}}"#,
        merged: #"{"a": 1, "image": {"caption": "c"}}"#),
    MergeCase(
        name: "local removed a nested object the remote left alone", base: #"{"a": 1, "image": {"caption": "c"}}"#, local: #"{"a": 1}"#,
        remote: #"{"a": 2, "image": {"caption": "c"}}"#, merged: #"{"a": 2}"#),
    MergeCase(
        name: "both added a nested object with different fields", base: #"{}"#, local: #"{"image": {"caption": "c"}}"#, remote: #"{"image": {"credit": "r"}}"#,
        merged: #"{"image": {"caption": "c", "credit": "r"}}"#),
    MergeCase(
        name: "two levels deep, different leaves", base: #"{"m": {"n": {"x": 1, "y": 1}}}"#, local: #"{"m": {"n": {"x": 2, "y": 1}}}"#,
        remote: #"{"m": {"n": {"x": 1, "y": 2}}}"#, merged: #"{"m": {"n": {"x": 2, "y": 2}}}"#),
    // Long text merges line by line.
    MergeCase(
        name: "different paragraphs of a body edited", base: "{\"body\": \(body3)}",
        local: #"{"body": "para ONE\n\npara two\n\npara three"}"#, remote: #"{"body": "para one\n\npara two\n\npara THREE"}"#,
        merged: #"{"body": "para ONE\n\npara two\n\npara THREE"}"#),
    MergeCase(
        name: "local appended a paragraph, remote edited the first", base: "{\"body\": \(body3)}",
        local: #"{"body": "para one\n\npara two\n\npara three\n\npara four"}"#, remote: #"{"body": "first!\n\npara two\n\npara three"}"#,
        merged: #"{"body": "first!\n\npara two\n\npara three\n\npara four"}"#),
    MergeCase(
        name: "local deleted a line, remote edited a far line", base: #"{"b": "1\n2\n3\n4\n5"}"#, local: #"{"b": "1\n3\n4\n5"}"#,
        remote: #"{"b": "1\n2\n3\n4\nfive"}"#, merged: #"{"b": "1\n3\n4\nfive"}"#),
    MergeCase(
        name: "both inserted the same line at the same place", base: #"{"b": "1\n2\n3"}"#, local: #"{"b": "1\nnew\n2\n3\nL"}"#,
        remote: #"{"b": "1\nnew\n2\n3"}"#, merged: #"{"b": "1\nnew\n2\n3\nL"}"#),
    MergeCase(
        name: "text edit and another field", base: #"{"b": "1\n2\n3", "h": "x"}"#, local: #"{"b": "1\n2\n3!", "h": "x"}"#,
        remote: #"{"b": "1\n2\n3", "h": "y"}"#, merged: #"{"b": "1\n2\n3!", "h": "y"}"#),
    MergeCase(
        name: "single-line text became multi-line on one side", base: #"{"b": "one"}"#, local: #"{"b": "one"}"#, remote: #"{"b": "one\ntwo"}"#,
        merged: #"{"b": "one\ntwo"}"#),
    // Whole records: creations.
    MergeCase(name: "created locally only", base: nil, local: #"{"a": 1}"#, remote: nil, merged: #"{"a": 1}"#),
    MergeCase(name: "created on the hub only", base: nil, local: nil, remote: #"{"a": 1}"#, merged: #"{"a": 1}"#),
    MergeCase(name: "created on both sides identically", base: nil, local: #"{"a": 1}"#, remote: #"{"a": 1}"#, merged: #"{"a": 1}"#),
    MergeCase(
        name: "created on both sides with different fields", base: nil, local: #"{"a": 1, "x": 1}"#, remote: #"{"a": 1, "y": 2}"#,
        merged: #"{"a": 1, "x": 1, "y": 2}"#),
    // Whole records: deletions.
    MergeCase(name: "deleted locally, hub unchanged", base: #"{"a": 1}"#, local: nil, remote: #"{"a": 1}"#, merged: nil),
    MergeCase(name: "deleted on the hub, local unchanged", base: #"{"a": 1}"#, local: #"{"a": 1}"#, remote: nil, merged: nil),
    MergeCase(name: "deleted on both sides", base: #"{"a": 1}"#, local: nil, remote: nil, merged: nil),
    MergeCase(
        name: "deleted locally, changed on the hub: the change wins", base: #"{"a": 1}"#, local: nil, remote: #"{"a": 2}"#, merged: #"{"a": 2}"#,
        deleteOverriddenOn: .local),
    MergeCase(
        name: "deleted on the hub, changed locally: the change wins", base: #"{"a": 1}"#, local: #"{"a": 1, "b": 1}"#, remote: nil,
        merged: #"{"a": 1, "b": 1}"#, deleteOverriddenOn: .remote),
    MergeCase(name: "deleted locally, hub only respelled", base: #"{"a": 1}"#, local: nil, remote: #"{"a": 1.0}"#, merged: nil),
    MergeCase(name: "never existed anywhere", base: nil, local: nil, remote: nil, merged: nil),

    // Conflicts: the same field changed differently.
    MergeCase(
        name: "same scalar changed differently", base: #"{"status": "negotiating", "t": 1}"#,
        local: #"{"status": "agreed", "t": 1}"#, remote: #"{"status": "extended", "t": 1}"#,
        conflicts: ["status"], remoteWins: #"{"status": "extended", "t": 1}"#, localWins: #"{"status": "agreed", "t": 1}"#),
    MergeCase(
        name: "same nested field changed differently", base: #"{"value": {"amount": 1, "currency": "USD"}}"#,
        local: #"{"value": {"amount": 2, "currency": "USD"}}"#, remote: #"{"value": {"amount": 3, "currency": "USD"}}"#,
        conflicts: ["value.amount"], remoteWins: #"{"value": {"amount": 3, "currency": "USD"}}"#, localWins: #"{"value": {"amount": 2, "currency": "USD"}}"#),
    MergeCase(
        name: "same array changed differently", base: #"{"parties": ["US", "JP"]}"#, local: #"{"parties": ["US", "JP", "KR"]}"#,
        remote: #"{"parties": ["US"]}"#,
        conflicts: ["parties"], remoteWins: #"{"parties": ["US"]}"#, localWins: #"{"parties": ["US", "JP", "KR"]}"#),
    MergeCase(
        name: "local removed a field the hub changed", base: #"{"a": 1, "n": "x"}"#, local: #"{"a": 1}"#, remote: #"{"a": 1, "n": "y"}"#,
        conflicts: ["n"], remoteWins: #"{"a": 1, "n": "y"}"#, localWins: #"{"a": 1}"#),
    MergeCase(
        name: "hub removed a field local changed", base: #"{"a": 1, "n": "x"}"#, local: #"{"a": 1, "n": "z"}"#, remote: #"{"a": 1}"#,
        conflicts: ["n"], remoteWins: #"{"a": 1}"#, localWins: #"{"a": 1, "n": "z"}"#),
    MergeCase(
        name: "same line of a body changed differently", base: "{\"body\": \(body3)}",
        local: #"{"body": "para one\n\npara 2 (local)\n\npara three"}"#, remote: #"{"body": "para one\n\npara 2 (hub)\n\npara three"}"#,
        conflicts: ["body"], remoteWins: #"{"body": "para one\n\npara 2 (hub)\n\npara three"}"#,
        localWins: #"{"body": "para one\n\npara 2 (local)\n\npara three"}"#),
    MergeCase(
        name: "adjacent lines changed", base: #"{"b": "1\n2\n3"}"#, local: #"{"b": "1!\n2\n3"}"#, remote: #"{"b": "1\n2!\n3"}"#,
        conflicts: ["b"], remoteWins: #"{"b": "1\n2!\n3"}"#, localWins: #"{"b": "1!\n2\n3"}"#),
    MergeCase(
        name: "both appended different endings", base: #"{"b": "1\n2"}"#, local: #"{"b": "1\n2\nL"}"#, remote: #"{"b": "1\n2\nR"}"#,
        conflicts: ["b"], remoteWins: #"{"b": "1\n2\nR"}"#, localWins: #"{"b": "1\n2\nL"}"#),
    MergeCase(
        name: "single-line text changed differently", base: #"{"h": "Talks"}"#, local: #"{"h": "Talks go on"}"#, remote: #"{"h": "Talks stall"}"#,
        conflicts: ["h"], remoteWins: #"{"h": "Talks stall"}"#, localWins: #"{"h": "Talks go on"}"#),
    MergeCase(
        name: "changed to different types", base: #"{"a": 1}"#, local: #"{"a": "1"}"#, remote: #"{"a": [1]}"#,
        conflicts: ["a"], remoteWins: #"{"a": [1]}"#, localWins: #"{"a": "1"}"#),
    MergeCase(
        name: "two conflicts beside a clean merge", base: #"{"a": 0, "b": 0, "c": 0, "d": 0}"#,
        local: #"{"a": 1, "b": 1, "c": 1, "d": 0}"#, remote: #"{"a": 2, "b": 2, "c": 0, "d": 2}"#,
        conflicts: ["a", "b"], remoteWins: #"{"a": 2, "b": 2, "c": 1, "d": 2}"#, localWins: #"{"a": 1, "b": 1, "c": 1, "d": 2}"#),
    MergeCase(
        name: "created on both sides with a clashing field", base: nil, local: #"{"a": 1, "s": "x"}"#, remote: #"{"a": 1, "s": "y"}"#,
        conflicts: ["s"], remoteWins: #"{"a": 1, "s": "y"}"#, localWins: #"{"a": 1, "s": "x"}"#),
    MergeCase(
        name: "local replaced an object, hub changed inside it", base: #"{"v": {"a": 1}}"#, local: #"{"v": null}"#, remote: #"{"v": {"a": 2}}"#,
        conflicts: ["v"], remoteWins: #"{"v": {"a": 2}}"#, localWins: #"{"v": null}"#),
    MergeCase(
        name: "both added the same field with different values", base: #"{"a": 1}"#, local: #"{"a": 1, "n": 1}"#, remote: #"{"a": 1, "n": 2}"#,
        conflicts: ["n"], remoteWins: #"{"a": 1, "n": 2}"#, localWins: #"{"a": 1, "n": 1}"#),
    MergeCase(
        name: "nested conflict beside a nested clean change", base: #"{"v": {"amount": 1, "currency": "USD", "note": "n"}}"#,
        local: #"{"v": {"amount": 2, "currency": "EUR", "note": "n"}}"#, remote: #"{"v": {"amount": 3, "currency": "USD", "note": "m"}}"#,
        conflicts: ["v.amount"], remoteWins: #"{"v": {"amount": 3, "currency": "EUR", "note": "m"}}"#,
        localWins: #"{"v": {"amount": 2, "currency": "EUR", "note": "m"}}"#),
    MergeCase(
        name: "array removed locally, changed on the hub", base: #"{"tags": ["a"]}"#, local: #"{}"#, remote: #"{"tags": ["a", "b"]}"#,
        conflicts: ["tags"], remoteWins: #"{"tags": ["a", "b"]}"#, localWins: #"{}"#),
    MergeCase(
        name: "both added an object with a clashing field", base: #"{}"#, local: #"{"image": {"caption": "L", "credit": "c"}}"#,
        remote: #"{"image": {"caption": "R"}}"#,
        conflicts: ["image.caption"], remoteWins: #"{"image": {"caption": "R", "credit": "c"}}"#, localWins: #"{"image": {"caption": "L", "credit": "c"}}"#),
    MergeCase(
        name: "text changed and the whole field replaced by a number", base: #"{"b": "1\n2"}"#, local: #"{"b": "1\n2!"}"#, remote: #"{"b": 7}"#,
        conflicts: ["b"], remoteWins: #"{"b": 7}"#, localWins: #"{"b": "1\n2!"}"#),
]

/// Compares the written form, byte for byte: `==` on JSON values ignores key order and
/// number spelling, which are exactly what some rows are about.
func sameBytes(_ merged: JSONObject?, _ expected: String?) -> Bool {
    merged.map { JSONWriter.line(.object($0)) } == optionalObject(expected).map { JSONWriter.line(.object($0)) }
}

@Suite("Three-way merge table")
struct MergeTableTests {
    @Test func tableIsLargeAndCoversEveryKind() {
        #expect(mergeTable.count >= 60)
        #expect(Set(mergeTable.map(\.name)).count == mergeTable.count, "row names must be unique")
        #expect(mergeTable.filter { !$0.conflicts.isEmpty }.count >= 15)
    }

    @Test("each row under each policy", arguments: mergeTable, ConflictPolicy.allCases)
    func row(_ row: MergeCase, _ policy: ConflictPolicy) {
        // Under `newest`, the local change is the newer one; the next test covers the reverse.
        let result = ThreeWayMerge.merge(
            base: optionalObject(row.base), local: optionalObject(row.local), remote: optionalObject(row.remote),
            policy: policy, localChangedAt: 200, remoteChangedAt: 100)
        #expect(result.deleteOverriddenOn == row.deleteOverriddenOn)
        guard !row.conflicts.isEmpty else {
            #expect(sameBytes(result.merged, row.merged), "\(result.merged.map { JSONWriter.line(.object($0)) } ?? "nil")")
            #expect(result.conflicts.isEmpty)
            #expect(!result.isHeld)
            return
        }
        #expect(result.conflicts.map(\.dottedPath).sorted() == row.conflicts.sorted())
        switch policy {
        case .merge:
            #expect(sameBytes(result.merged, row.remoteWins), "\(result.merged.map { JSONWriter.line(.object($0)) } ?? "nil")")
            #expect(result.conflicts.allSatisfy { $0.isOpen && $0.winner == .remote })
            #expect(!result.isHeld)
        case .preferRemote:
            #expect(sameBytes(result.merged, row.remoteWins), "\(result.merged.map { JSONWriter.line(.object($0)) } ?? "nil")")
            #expect(result.conflicts.allSatisfy { !$0.isOpen && $0.winner == .remote })
            #expect(!result.isHeld)
        case .preferLocal, .newest:
            #expect(sameBytes(result.merged, row.localWins), "\(result.merged.map { JSONWriter.line(.object($0)) } ?? "nil")")
            #expect(result.conflicts.allSatisfy { !$0.isOpen && $0.winner == .local })
            #expect(!result.isHeld)
        case .manual:
            #expect(result.isHeld)
            #expect(result.conflicts.allSatisfy { $0.isOpen })
        }
        // Every conflict carries both values, so nothing either side wrote is lost.
        for conflict in result.conflicts {
            #expect(conflict.local != conflict.remote)
        }
    }

    @Test("newest: the hub's newer change wins, and a tie goes to the hub", arguments: mergeTable.filter { !$0.conflicts.isEmpty })
    func newestRemote(_ row: MergeCase) {
        for (local, remote) in [(100.0, 200.0), (150.0, 150.0)] {
            let result = ThreeWayMerge.merge(
                base: optionalObject(row.base), local: optionalObject(row.local), remote: optionalObject(row.remote),
                policy: .newest, localChangedAt: local, remoteChangedAt: remote)
            #expect(sameBytes(result.merged, row.remoteWins), "\(result.merged.map { JSONWriter.line(.object($0)) } ?? "nil")")
            #expect(result.conflicts.allSatisfy { $0.winner == .remote && !$0.isOpen })
        }
        let unknown = ThreeWayMerge.merge(
            base: optionalObject(row.base), local: optionalObject(row.local), remote: optionalObject(row.remote), policy: .newest)
        #expect(sameBytes(unknown.merged, row.remoteWins))
    }

    @Test func mergedKeepsTheLocalKeyOrder() {
        let result = ThreeWayMerge.merge(
            base: object(#"{"a": 1, "b": 1, "c": 1}"#), local: object(#"{"c": 1, "b": 2, "a": 1}"#),
            remote: object(#"{"a": 1, "b": 1, "c": 1, "z": 0}"#), policy: .merge)
        #expect(result.merged?.keys == ["c", "b", "a", "z"])
    }

    @Test func conflictsCarryAllThreeValues() throws {
        let result = ThreeWayMerge.merge(
            base: object(#"{"s": "negotiating"}"#), local: object(#"{"s": "agreed"}"#), remote: object(#"{"s": "extended"}"#), policy: .merge)
        let conflict = try #require(result.conflicts.first)
        #expect(conflict.base == .string("negotiating"))
        #expect(conflict.local == .string("agreed"))
        #expect(conflict.remote == .string("extended"))
        #expect(result.openConflicts.count == 1)
    }
}
