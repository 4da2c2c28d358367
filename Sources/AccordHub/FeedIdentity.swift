import AccordCore
import Foundation

/// The identity of a dataset's changes feed, sent with every page as the
/// `Accord-Feed-Id` header. A daemon's cursor is a seq in one feed: the seq check
/// alone cannot tell a database made afresh at the hub's address, which others have
/// since written past the cursor, from the one the daemon synced with, and pulling
/// from it would skip every change at a seq the cursor has passed. A daemon keeps the
/// ID it first saw and refuses a feed with another. Backups, restores and
/// `accordhub copy` keep the ID; only a new database gets a new one.
package enum FeedIdentity {
    /// The response header that carries it.
    package static let header = "Accord-Feed-Id"

    /// The response header that names the write that took the page's `since` seq,
    /// as `KIND/ID REV`: a daemon compares it with the change it applied at that seq,
    /// so a database restored from an older backup and written past the daemon's
    /// cursor is found on the first page it serves, however the daemon reached it.
    package static let sinceHeader = "Accord-Since-Rev"

    /// A new random ID (a lowercase UUID, as PostgreSQL's `gen_random_uuid()` gives),
    /// for a database that has no history yet.
    static func make() -> String { UUID().uuidString.lowercased() }

    /// The ID of a database that had a history before IDs were made: derived from its
    /// first revision (record, rev and time), so that a backup taken before the
    /// upgrade and restored after it gets the same ID again, while any other database
    /// gets another. In the UUID's form, as `make` gives.
    static func derived(kind: String, id: String, rev: String, createdAt: Double) -> String {
        let hex = Array(ContentHash.hex("\(kind)/\(id) \(rev) \(createdAt)").prefix(32))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}
