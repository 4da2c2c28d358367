import AccordCore
import ArgumentParser

/// A `KIND/ID` argument of the record verbs, or the usage error that shows its form.
enum RecordArgument {
    static func key(_ text: String) throws -> RecordKey {
        guard let key = RecordKey(text) else { throw ValidationError("\(text) is not KIND/ID (for example agreement/us-japan-hns-fy2021)") }
        return key
    }
}
