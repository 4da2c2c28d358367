import Testing

@testable import AccordCore

/// Generates records and edits of them for the merge laws. Fields come from a small
/// key set so that the two sides often touch the same field.
struct RecordGenerator {
    var rng: SeededRandom
    static let keys = ["status", "title", "amount", "tags", "value", "body", "flag", "note"]

    mutating func scalar() -> JSONValue {
        switch rng.int(5) {
        case 0: return .number(JSONNumber(rng.int(5)))
        case 1: return .string(["a", "b", "c", "négociation"][rng.int(4)])
        case 2: return .bool(rng.chance(50))
        case 3: return .null
        default: return .array((0..<rng.int(3)).map { _ in .string(["x", "y"][rng.int(2)]) })
        }
    }

    mutating func text() -> JSONValue {
        .string((0..<(2 + rng.int(5))).map { "line \($0) \(["a", "b"][rng.int(2)])" }.joined(separator: "\n"))
    }

    mutating func value(for key: String, depth: Int = 0) -> JSONValue {
        if key == "body" { return text() }
        if key == "value", depth == 0 { return .object(record(keys: ["amount", "currency", "note"], depth: 1)) }
        return scalar()
    }

    mutating func record(keys: [String] = keys, depth: Int = 0) -> JSONObject {
        var object = JSONObject()
        for key in keys where rng.chance(70) { object[key] = value(for: key, depth: depth) }
        return object
    }

    /// Changes a few fields of `object`: edits, additions, removals, nested edits and
    /// line edits of the text field.
    mutating func edit(_ object: JSONObject, keys: [String] = keys, depth: Int = 0) -> JSONObject {
        var edited = object
        for key in keys where rng.chance(30) {
            switch (edited[key], rng.int(4)) {
            case (.object(let nested)?, 0...1) where depth == 0:
                edited[key] = .object(edit(nested, keys: ["amount", "currency", "note"], depth: 1))
            case (.string(let text)?, 0...1) where text.contains("\n"):
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines[rng.int(lines.count)] = "edited \(rng.int(100))"
                edited[key] = .string(lines.joined(separator: "\n"))
            case (_, 2):
                edited[key] = nil
            default:
                edited[key] = value(for: key, depth: depth)
            }
        }
        return edited
    }
}

/// Leaf values by dotted path: objects are walked, everything else is a leaf.
func leaves(_ object: JSONObject?, prefix: [String] = []) -> [[String]: JSONValue] {
    var result: [[String]: JSONValue] = [:]
    for member in object ?? JSONObject() {
        let path = prefix + [member.key]
        if case .object(let nested) = member.value, !nested.isEmpty {
            result.merge(leaves(nested, prefix: path)) { first, _ in first }
        } else {
            result[path] = member.value
        }
    }
    return result
}

func value(at path: [String], in object: JSONObject?) -> JSONValue? {
    guard let first = path.first, let member = object?[first] else { return nil }
    if path.count == 1 { return member }
    return value(at: Array(path.dropFirst()), in: member.objectValue)
}

@Suite("Merge laws on generated records")
struct MergePropertyTests {
    static let iterations = 2_000

    @Test("merge(b, x, b) == x and merge(b, b, y) == y", arguments: ConflictPolicy.allCases)
    func oneSidedChangesWin(_ policy: ConflictPolicy) {
        var generator = RecordGenerator(rng: SeededRandom(seed: 1))
        for _ in 0..<Self.iterations {
            let base = generator.record()
            let changed = generator.edit(base)
            let localOnly = ThreeWayMerge.merge(base: base, local: changed, remote: base, policy: policy)
            #expect(localOnly.merged == changed && localOnly.conflicts.isEmpty && !localOnly.isHeld)
            let remoteOnly = ThreeWayMerge.merge(base: base, local: base, remote: changed, policy: policy)
            #expect(remoteOnly.merged == changed && remoteOnly.conflicts.isEmpty && !remoteOnly.isHeld)
        }
    }

    @Test("merge(b, x, x) == x", arguments: ConflictPolicy.allCases)
    func sameChangeOnBothSides(_ policy: ConflictPolicy) {
        var generator = RecordGenerator(rng: SeededRandom(seed: 2))
        for _ in 0..<Self.iterations {
            let base = generator.record()
            let changed = generator.edit(base)
            let result = ThreeWayMerge.merge(base: base, local: changed, remote: changed, policy: policy)
            #expect(result.merged == changed && result.conflicts.isEmpty)
        }
    }

    @Test("the conflict set is the same with the sides swapped", arguments: ConflictPolicy.allCases)
    func symmetricConflicts(_ policy: ConflictPolicy) {
        var generator = RecordGenerator(rng: SeededRandom(seed: 3))
        for _ in 0..<Self.iterations {
            let base = generator.record()
            let local = generator.edit(base)
            let remote = generator.edit(base)
            let forward = ThreeWayMerge.merge(base: base, local: local, remote: remote, policy: policy)
            let backward = ThreeWayMerge.merge(base: base, local: remote, remote: local, policy: policy)
            #expect(Set(forward.conflicts.map(\.path)) == Set(backward.conflicts.map(\.path)))
            for conflict in forward.conflicts {
                let mirror = backward.conflicts.first { $0.path == conflict.path }
                #expect(mirror?.local == conflict.remote && mirror?.remote == conflict.local)
            }
            // Without conflicts the result does not depend on which side is which.
            if forward.conflicts.isEmpty { #expect(forward.merged == backward.merged) }
        }
    }

    @Test("no value either side wrote disappears without a conflict naming it", arguments: ConflictPolicy.allCases)
    func nothingLostSilently(_ policy: ConflictPolicy) {
        var generator = RecordGenerator(rng: SeededRandom(seed: 4))
        var checked = 0
        for _ in 0..<Self.iterations {
            let base = generator.record()
            let local = generator.edit(base)
            let remote = generator.edit(base)
            let result = ThreeWayMerge.merge(base: base, local: local, remote: remote, policy: policy)
            let merged = leaves(result.merged)
            let baseLeaves = leaves(base)
            let conflictPaths = result.conflicts.map(\.path)
            for side in [leaves(local), leaves(remote)] {
                let sideObject = side
                let paths = Set(sideObject.keys).union(baseLeaves.keys)
                for path in paths where sideObject[path] != baseLeaves[path] {
                    checked += 1
                    let named = conflictPaths.contains { path.starts(with: $0) || $0.starts(with: path) }
                    if named || merged[path] == sideObject[path] { continue }
                    // A line-merged text holds every line the side wrote, if not its whole value.
                    if case .string(let mergedText)? = merged[path], case .string(let sideText)? = sideObject[path],
                        case .string(let baseText)? = baseLeaves[path]
                    {
                        let baseLines = Set(LineMerge.lines(baseText))
                        let mergedLines = Set(LineMerge.lines(mergedText))
                        let written = LineMerge.lines(sideText).filter { !baseLines.contains($0) }
                        #expect(written.allSatisfy(mergedLines.contains), "\(path): \(sideText) lost in \(mergedText)")
                        continue
                    }
                    // An empty object a side added survives as an object, perhaps filled by the other side.
                    if case .object(let added)? = sideObject[path], added.isEmpty, case .object? = value(at: path, in: result.merged) {
                        continue
                    }
                    Issue.record(
                        "value at \(path) lost: base \(String(describing: baseLeaves[path])), side \(String(describing: sideObject[path])), merged \(String(describing: merged[path]))"
                    )
                }
            }
        }
        #expect(checked > 1_000, "the generator must produce real edits")
    }

    @Test("manual holds exactly the records that conflict")
    func manualHoldsConflictsOnly() {
        var generator = RecordGenerator(rng: SeededRandom(seed: 5))
        var held = 0
        for _ in 0..<Self.iterations {
            let base = generator.record()
            let result = ThreeWayMerge.merge(base: base, local: generator.edit(base), remote: generator.edit(base), policy: .manual)
            #expect(result.isHeld == !result.conflicts.isEmpty)
            if result.isHeld { held += 1 }
        }
        #expect(held > 0)
    }
}
