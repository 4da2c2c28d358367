/// Where each dataset's SQLite file lives: `default` in the `db` file itself (so a
/// database written before datasets existed is the dataset `default` as it stands),
/// every other dataset in `<db>.datasets/<name>.db` beside it.
package enum DatasetFiles {
    package static func path(db: String, dataset: String) -> String {
        dataset == DatasetConfig.defaultName ? db : folder(db: db) + "/" + dataset + ".db"
    }

    package static func folder(db: String) -> String { db + ".datasets" }
}
