/// Finds `kind/id`s defined in more than one place (two files, or two lines of one
/// `.jsonl`). Every place is named, since any could be the one the user meant to keep;
/// none of them is synced until only one is left.
public enum DuplicateRecords {
    /// Returns the records that are defined once, and one problem per place of the others.
    public static func split(_ records: [LocatedRecord]) -> (unique: [LocatedRecord], problems: [RecordProblem]) {
        var places: [RecordKey: [LocatedRecord]] = [:]
        for located in records { places[located.record.key, default: []].append(located) }
        let duplicated = places.filter { $0.value.count > 1 }
        if duplicated.isEmpty { return (records, []) }
        var problems: [RecordProblem] = []
        for (key, locations) in duplicated {
            for located in locations {
                let others = locations.filter { $0 != located }.map(\.place).joined(separator: ", ")
                problems.append(
                    RecordProblem(
                        path: located.path, line: located.line, column: 1,
                        reason: "duplicate record \(key), also defined at \(others); keep one and remove the other"))
            }
        }
        return (records.filter { duplicated[$0.record.key] == nil }, problems)
    }
}
