import AccordCore
import Foundation

/// Writes a synthetic dataset of valid `agreement` and `news` records, each about
/// `recordBytes` long, as `.jsonl` files of 1,000 records. Deterministic (fixed seed),
/// so runs compare.
struct DatasetGenerator {
    var records: Int
    var recordBytes: Int
    var recordsPerFile = 1000

    func write(to directory: String) throws -> (files: [String], bytes: Int) {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 20210128)
        var files: [String] = []
        var total = 0
        var index = 0
        while index < records {
            var text = ""
            let end = min(records, index + recordsPerFile)
            for number in index..<end {
                text += JSONWriter.line(.object(record(number, rng: &rng)))
                text += "\n"
            }
            let path = "\(directory)/part-\(String(format: "%05d", files.count)).jsonl"
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            total += text.utf8.count
            files.append(path)
            index = end
        }
        return (files, total)
    }

    /// The files of an earlier run with the same shape, if they are all there.
    func existing(in directory: String) -> (files: [String], bytes: Int)? {
        let count = (records + recordsPerFile - 1) / recordsPerFile
        var files: [String] = []
        var total = 0
        for index in 0..<count {
            let path = "\(directory)/part-\(String(format: "%05d", index)).jsonl"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let size = attributes[.size] as? Int
            else { return nil }
            files.append(path)
            total += size
        }
        return (files, total)
    }

    private static let words = [
        "host", "nation", "support", "agreement", "negotiators", "Tokyo", "Washington", "troops",
        "utilities", "labor", "training", "fiscal", "year", "extension", "talks", "resume", "April",
        "allies", "spokesman", "embassy", "cost-sharing", "billion", "defense", "bilateral", "ties",
    ]

    private func sentence(_ rng: inout SplitMix64, words count: Int) -> String {
        (0..<count).map { _ in Self.words[Int(rng.next() % UInt64(Self.words.count))] }.joined(separator: " ")
    }

    private func record(_ number: Int, rng: inout SplitMix64) -> JSONObject {
        var object = JSONObject()
        if number % 2 == 0 {
            object["kind"] = .string("agreement")
            object["id"] = .string("agreement-\(number)")
            object["title"] = .string(sentence(&rng, words: 8))
            object["parties"] = .array([.string("United States"), .string("Japan")])
            object["status"] = .string(["negotiating", "extended", "signed", "in_force"][number % 4])
            object["value"] = .object(["amount": .number(JSONNumber(Int(rng.next() % 3_000_000_000))), "currency": .string("USD")])
            object["fiscal_year"] = .number(JSONNumber(2000 + number % 30))
            object["expires"] = .string("20\(10 + number % 20)-03-31")
            object["covers"] = .array([.string("utilities"), .string("labor"), .string("training")])
            object["updated"] = .string("2021-01-28T12:00:00Z")
        } else {
            object["kind"] = .string("news")
            object["id"] = .string("news-\(number)")
            object["headline"] = .string(sentence(&rng, words: 10))
            object["published"] = .string("2021-01-\(String(format: "%02d", 1 + number % 28))")
            object["source"] = .string("Stars and Stripes")
            object["byline"] = .array([.string("Seth Robson")])
            object["tags"] = .array([.string("japan"), .string("host-nation-support")])
        }
        let current = JSONWriter.line(.object(object)).utf8.count
        let filler = max(0, recordBytes - current - 12)
        var notes = ""
        while notes.utf8.count < filler {
            notes += sentence(&rng, words: 12) + ".\n"
        }
        object[number % 2 == 0 ? "notes" : "body"] = .string(String(notes.prefix(filler)))
        return object
    }
}

/// A small fast PRNG with a fixed seed, so datasets are reproducible.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
