/// Finds `kind/id`s defined in more than one place (two files, or two lines of one
/// `.jsonl`). Every place is named, since any could be the one the user meant to keep;
/// none of them is synced until only one is left.
package enum DuplicateRecords {
    /// Returns the records that are defined once, and one problem per place of the others.
    package static func split(_ records: [LocatedRecord]) -> (unique: [LocatedRecord], problems: [RecordProblem]) {
        var places: [RecordKey: [LocatedRecord]] = [:]
        for located in records { places[located.record.key, default: []].append(located) }
        let duplicated = places.filter { $0.value.count > 1 }
        if duplicated.isEmpty { return (records, []) }
        var problems: [RecordProblem] = []
        for (key, locations) in duplicated {
            // Name one other place and how many more, so the report stays linear in size.
            for (index, located) in locations.enumerated() {
                let other = locations[index == 0 ? 1 : 0].place
                let extra = locations.count - 2
                let more = extra > 0 ? " and \(extra) more place\(extra == 1 ? "" : "s")" : ""
                problems.append(
                    RecordProblem(
                        path: located.path, line: located.line, column: 1,
                        reason: "duplicate record \(key), also defined at \(other)\(more); keep one and remove the other\(extra > 0 ? "s" : "")"))
            }
        }
        return (records.filter { duplicated[$0.record.key] == nil }, problems)
    }
}
