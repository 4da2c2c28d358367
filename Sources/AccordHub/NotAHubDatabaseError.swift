/// The file is not a hub's database (a daemon's state file, another program's
/// SQLite file): `accordhub copy` leaves it untouched.
package struct NotAHubDatabaseError: Error, CustomStringConvertible {
    package var path: String

    package var description: String {
        "\(path) is not an accordhub database (it has none of the hub's tables); give the hub's db file, as in its config"
    }
}
