/// One version of a record as the hub numbers it: its rev, and its fields or a
/// tombstone. The hub's current version and a replica's base snapshot (the last
/// version both sides agreed on) are both this.
package struct VersionedRecord: Sendable, Equatable {
    package var key: RecordKey
    package var rev: String
    package var deleted: Bool
    /// Empty for a tombstone.
    package var fields: JSONObject

    package init(key: RecordKey, rev: String, deleted: Bool, fields: JSONObject) {
        self.key = key
        self.rev = rev
        self.deleted = deleted
        self.fields = fields
    }

    /// The fields, or nil for a tombstone: the form the three-way merge takes.
    package var liveFields: JSONObject? { deleted ? nil : fields }
}
