/// A JSON object whose members keep the order they were written in.
///
/// Records are small (tens of members), so a linear scan beats a hash table and keeps
/// the order for free. Equality ignores order: `{"a":1,"b":2}` and `{"b":2,"a":1}` are
/// the same record, only formatted differently.
package struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    package struct Member: Sendable, Hashable {
        package var key: String
        package var value: JSONValue

        package init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    package private(set) var members: [Member]

    package init() {
        self.members = []
    }

    /// Members must have distinct keys; the parser guarantees that for parsed input.
    package init(members: [Member]) {
        self.members = members
    }

    package init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.members = []
        for (key, value) in elements { self[key] = value }
    }

    package var count: Int { members.count }
    package var isEmpty: Bool { members.isEmpty }
    package var keys: [String] { members.map(\.key) }

    package subscript(key: String) -> JSONValue? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    package func makeIterator() -> IndexingIterator<[Member]> {
        members.makeIterator()
    }

    /// This object without the named keys, order otherwise kept.
    package func removing(_ keys: Set<String>) -> JSONObject {
        JSONObject(members: members.filter { !keys.contains($0.key) })
    }

    package static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }

    package func hash(into hasher: inout Hasher) {
        // Order-independent: combine member hashes commutatively.
        var sum = 0
        for member in members {
            var memberHasher = Hasher()
            memberHasher.combine(member.key)
            memberHasher.combine(member.value)
            sum &+= memberHasher.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(sum)
    }
}
