/// The database holds migrations this hub does not know: a newer `accordhub` wrote it.
package struct NewerDatabaseError: Error, CustomStringConvertible {
    package var path: String

    package var description: String {
        "the database \(path) was upgraded by a newer accordhub (its schema has migrations this one does not know); run that version, or restore a backup made before the upgrade"
    }
}
