/// A hub's SQLite file that SQLite finds damaged or cut short (a partial copy, a
/// failing disk): `accordhub copy` says so instead of SQLite's bare result code.
package struct DamagedDatabaseError: Error, CustomStringConvertible {
    package var path: String

    package var description: String {
        "\(path) is damaged or cut short (SQLite finds it malformed); copy from an intact backup of the hub's db file"
    }
}
