/// One version of a record as the hub numbers it: its rev, and its fields or a
/// tombstone. The hub's current version and a replica's base snapshot (the last
/// version both sides agreed on) are both this.
public struct VersionedRecord: Sendable, Equatable {
    public var key: RecordKey
    public var rev: String
    public var deleted: Bool
    /// Empty for a tombstone.
    public var fields: JSONObject

    public init(key: RecordKey, rev: String, deleted: Bool, fields: JSONObject) {
        self.key = key
        self.rev = rev
        self.deleted = deleted
        self.fields = fields
    }

    /// The fields, or nil for a tombstone: the form the three-way merge takes.
    public var liveFields: JSONObject? { deleted ? nil : fields }
}
