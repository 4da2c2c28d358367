import AccordCore

/// One `[[datasets]]` entry of the hub's config (CONTRACT 8.1): a unit of sharing with
/// its own records, seqs, revisions and idempotency keys.
package struct DatasetConfig: Sendable, Equatable {
    package static let defaultName = DatasetName.defaultName

    package var name: String
    /// Its schema folder; nil: the hub's `schemas`.
    package var schemas: String?

    package init(name: String, schemas: String? = nil) {
        self.name = name
        self.schemas = schemas
    }
}
