/// A fast matcher for the shape most schema patterns have: anchored at both ends, a
/// sequence of ASCII classes or literals, each with a count (`^[A-Z]{3}$`,
/// `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`, `^\d{4}-\d{2}$`). Anything else is left to
/// the POSIX engine. Matching tracks every reachable position, so it needs no
/// backtracking and is exact even when neighbouring classes overlap.
struct SimplePattern: Sendable {
    struct Atom: Sendable {
        var low: UInt64
        var high: UInt64
        var min: Int
        var max: Int

        func contains(_ byte: UInt8) -> Bool {
            byte < 64 ? (low >> UInt64(byte)) & 1 == 1 : (high >> UInt64(byte - 64)) & 1 == 1
        }
    }

    let atoms: [Atom]

    /// nil when the pattern is not of the simple shape.
    init?(_ source: String) {
        let characters = Array(source.utf8)
        guard characters.count >= 2, characters.first == UInt8(ascii: "^"), characters.last == UInt8(ascii: "$"),
            characters.allSatisfy({ $0 < 0x80 })
        else { return nil }
        var atoms: [Atom] = []
        var index = 1
        let end = characters.count - 1
        if end >= 2, characters[end - 1] == UInt8(ascii: "\\") { return nil }  // `\$` is a literal, not the anchor
        while index < end {
            var atom = Atom(low: 0, high: 0, min: 1, max: 1)
            let character = characters[index]
            switch character {
            case UInt8(ascii: "["):
                guard let (set, next) = Self.parseClass(characters, from: index + 1, end: end) else { return nil }
                (atom.low, atom.high) = set
                index = next
            case UInt8(ascii: "\\"):
                guard index + 1 < end, let set = Self.escapeSet(characters[index + 1]) else { return nil }
                (atom.low, atom.high) = set
                index += 2
            case UInt8(ascii: "."):
                (atom.low, atom.high) = (~(1 << 10), ~0)  // any ASCII but a line feed
                index += 1
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "|"), UInt8(ascii: "^"), UInt8(ascii: "$"),
                UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return nil
            default:
                Self.add(character, to: &atom.low, &atom.high)
                index += 1
            }
            if index < end {
                switch characters[index] {
                case UInt8(ascii: "?"): (atom.min, atom.max) = (0, 1); index += 1
                case UInt8(ascii: "*"): (atom.min, atom.max) = (0, Int.max); index += 1
                case UInt8(ascii: "+"): (atom.min, atom.max) = (1, Int.max); index += 1
                case UInt8(ascii: "{"):
                    guard let (bounds, next) = Self.parseCount(characters, from: index + 1, end: end) else { return nil }
                    (atom.min, atom.max) = bounds
                    index = next
                default: break
                }
                if index < end, characters[index] == UInt8(ascii: "?") || characters[index] == UInt8(ascii: "+") { return nil }
            }
            atoms.append(atom)
        }
        self.atoms = atoms
    }

    /// nil when the text is not ASCII (the caller then asks the full engine).
    func matches(_ text: String) -> Bool? {
        var utf8 = text
        return utf8.withUTF8 { bytes -> Bool? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            let count = bytes.count
            // reachable[p]: some way of matching the atoms so far ends at p.
            var reachable = [Bool](repeating: false, count: count + 1)
            reachable[0] = true
            var next = [Bool](repeating: false, count: count + 1)
            for atom in atoms {
                for position in 0...count { next[position] = false }
                var any = false
                for start in 0...count where reachable[start] {
                    var taken = 0
                    var position = start
                    while true {
                        if taken >= atom.min {
                            next[position] = true
                            any = true
                        }
                        guard taken < atom.max, position < count, atom.contains(bytes[position]) else { break }
                        taken += 1
                        position += 1
                    }
                }
                if !any { return false }
                swap(&reachable, &next)
            }
            return reachable[count]
        }
    }

    private static func add(_ byte: UInt8, to low: inout UInt64, _ high: inout UInt64) {
        if byte < 64 { low |= 1 << UInt64(byte) } else if byte < 128 { high |= 1 << UInt64(byte - 64) }
    }

    private static func escapeSet(_ escaped: UInt8) -> (UInt64, UInt64)? {
        var low: UInt64 = 0
        var high: UInt64 = 0
        switch escaped {
        case UInt8(ascii: "d"):
            for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { add(byte, to: &low, &high) }
        case UInt8(ascii: "w"):
            for byte in UInt8(0)..<128 where isWord(byte) { add(byte, to: &low, &high) }
        case UInt8(ascii: "s"):
            for byte in [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D] as [UInt8] { add(byte, to: &low, &high) }
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "^"),
            UInt8(ascii: "$"), UInt8(ascii: "|"), UInt8(ascii: "?"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "("),
            UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            add(escaped, to: &low, &high)
        default:
            return nil
        }
        return (low, high)
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    /// A `[...]` class without negation; returns its set and the index after `]`.
    private static func parseClass(_ characters: [UInt8], from start: Int, end: Int) -> ((UInt64, UInt64), Int)? {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var index = start
        guard index < end, characters[index] != UInt8(ascii: "^"), characters[index] != UInt8(ascii: "]") else { return nil }
        while index < end, characters[index] != UInt8(ascii: "]") {
            var first = characters[index]
            if first == UInt8(ascii: "\\") {
                guard index + 1 < end, let set = escapeSet(characters[index + 1]) else { return nil }
                low |= set.0
                high |= set.1
                index += 2
                continue
            }
            if first == UInt8(ascii: "[") { return nil }
            if index + 2 < end, characters[index + 1] == UInt8(ascii: "-"), characters[index + 2] != UInt8(ascii: "]") {
                let last = characters[index + 2]
                guard last != UInt8(ascii: "\\"), first <= last else { return nil }
                while first <= last {
                    add(first, to: &low, &high)
                    if first == last { break }
                    first += 1
                }
                index += 3
            } else {
                add(first, to: &low, &high)
                index += 1
            }
        }
        guard index < end else { return nil }
        return ((low, high), index + 1)
    }

    /// `{n}`, `{n,}` or `{n,m}`; returns the bounds and the index after `}`.
    private static func parseCount(_ characters: [UInt8], from start: Int, end: Int) -> ((Int, Int), Int)? {
        var index = start
        func number() -> Int? {
            var value = 0
            let first = index
            while index < end, characters[index] >= 0x30, characters[index] <= 0x39, value < 100_000 {
                value = value * 10 + Int(characters[index] - 0x30)
                index += 1
            }
            return index > first ? value : nil
        }
        guard let minimum = number() else { return nil }
        var maximum = minimum
        if index < end, characters[index] == UInt8(ascii: ",") {
            index += 1
            maximum = number() ?? Int.max
        }
        guard index < end, characters[index] == UInt8(ascii: "}"), minimum <= maximum else { return nil }
        return ((minimum, maximum), index + 1)
    }
}
