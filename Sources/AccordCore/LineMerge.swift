/// Line-by-line three-way merge of a long text field (diff3), so that two people editing
/// different paragraphs of a news `body` both keep their edit.
package enum LineMerge {
    /// Texts whose changed middle part is larger than this many line pairs are not
    /// merged line by line (the field becomes an ordinary conflict): the LCS table
    /// would cost too much memory.
    static let maxTableCells = 4_000_000

    /// The merged text, or nil when both sides changed the same or adjacent lines.
    package static func merge(base: String, local: String, remote: String) -> String? {
        let baseLines = lines(base)
        let localLines = lines(local)
        let remoteLines = lines(remote)
        guard let toLocal = matches(baseLines, localLines), let toRemote = matches(baseLines, remoteLines) else {
            return nil
        }
        var out: [Substring] = []
        var b = 0, l = 0, r = 0
        while true {
            var stable = 0
            while b + stable < baseLines.count, toLocal[b + stable] == l + stable, toRemote[b + stable] == r + stable {
                stable += 1
            }
            if stable > 0 {
                out.append(contentsOf: baseLines[b..<(b + stable)])
                b += stable
                l += stable
                r += stable
                continue
            }
            if b == baseLines.count, l == localLines.count, r == remoteLines.count { break }
            // The next base line that both sides kept ends this unstable chunk.
            var next = b
            while next < baseLines.count, toLocal[next] == nil || toRemote[next] == nil { next += 1 }
            let localEnd = next < baseLines.count ? toLocal[next]! : localLines.count
            let remoteEnd = next < baseLines.count ? toRemote[next]! : remoteLines.count
            let baseChunk = baseLines[b..<next]
            let localChunk = localLines[l..<localEnd]
            let remoteChunk = remoteLines[r..<remoteEnd]
            if localChunk.elementsEqual(baseChunk) {
                out.append(contentsOf: remoteChunk)
            } else if remoteChunk.elementsEqual(baseChunk) || localChunk.elementsEqual(remoteChunk) {
                out.append(contentsOf: localChunk)
            } else {
                return nil
            }
            b = next
            l = localEnd
            r = remoteEnd
        }
        return out.joined(separator: "\n")
    }

    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// For each base line, the index of the line it is kept as in `other` (longest common
    /// subsequence), or nil if it was removed or changed. nil overall when too large.
    static func matches(_ base: [Substring], _ other: [Substring]) -> [Int?]? {
        var result = [Int?](repeating: nil, count: base.count)
        var prefix = 0
        while prefix < base.count, prefix < other.count, base[prefix] == other[prefix] {
            result[prefix] = prefix
            prefix += 1
        }
        var suffix = 0
        while suffix < base.count - prefix, suffix < other.count - prefix,
            base[base.count - 1 - suffix] == other[other.count - 1 - suffix]
        {
            result[base.count - 1 - suffix] = other.count - 1 - suffix
            suffix += 1
        }
        let n = base.count - prefix - suffix
        let m = other.count - prefix - suffix
        if n == 0 || m == 0 { return result }
        guard n * m <= maxTableCells else { return nil }
        // lengths[i][j]: LCS length of base[prefix+i...] and other[prefix+j...] (middle parts).
        let width = m + 1
        var lengths = [Int32](repeating: 0, count: (n + 1) * width)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                if base[prefix + i] == other[prefix + j] {
                    lengths[i * width + j] = lengths[(i + 1) * width + j + 1] + 1
                } else {
                    lengths[i * width + j] = max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
                }
            }
        }
        var i = 0, j = 0
        while i < n, j < m {
            if base[prefix + i] == other[prefix + j] {
                result[prefix + i] = prefix + j
                i += 1
                j += 1
            } else if lengths[(i + 1) * width + j] >= lengths[i * width + j + 1] {
                i += 1
            } else {
                j += 1
            }
        }
        return result
    }
}
