import AccordCore

/// One dataset the hub serves (CONTRACT 8.1): its own storage (records, seqs,
/// revisions, idempotency keys), schemas, long-poll wake-ups and keys in flight. Nothing
/// is shared between datasets, so one cannot see another's records by construction.
package final class HubDataset: Sendable {
    package let name: String
    package let storage: any HubStorage
    let schemas: SchemaSet
    let notifier = ChangeNotifier()
    let gate = IdempotencyGate()

    /// A commit made elsewhere (another hub on the same PostgreSQL database): wakes
    /// this hub's long-polls behind `seq`.
    package func published(_ seq: Int64) {
        notifier.published(seq)
    }

    package init(name: String, storage: any HubStorage, schemas: SchemaSet) {
        self.name = name
        self.storage = storage
        self.schemas = schemas
    }
}
