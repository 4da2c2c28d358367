/// The file is not a hub's database (a daemon's state file, another program's
/// SQLite file, not SQLite at all): `accordhub copy` leaves it untouched.
package struct NotAHubDatabaseError: Error, CustomStringConvertible {
    package var path: String
    /// What the file is instead, as the line says it.
    package var finding = "it has none of the hub's tables"

    package var description: String {
        "\(path) is not an accordhub database (\(finding)); give the hub's db file, as in its config"
    }
}
