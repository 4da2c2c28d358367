import AccordCore

/// One root syncs with one dataset for its whole life (CONTRACT 8.1): its bases,
/// cursor and outbox describe that dataset, and against another they would read as
/// every record deleted there and created anew. Decides, at start, what to do with
/// the dataset recorded in the state and the one the config names.
enum DatasetBinding: Equatable {
    /// The state already names this dataset.
    case matches
    /// A state that never synced (any dataset is a fresh start), or one from before
    /// datasets that synced with `default`: record the configured dataset.
    case record
    /// The state belongs to another dataset: refuse to start.
    case refuse(recorded: String)

    static func decide(recorded: String?, hasSynced: Bool, configured: String) -> DatasetBinding {
        if recorded == configured { return .matches }
        // Nothing agreed with a hub and nothing queued: any dataset is a fresh start.
        guard hasSynced else { return .record }
        let effective = recorded ?? DatasetName.defaultName
        return effective == configured ? .record : .refuse(recorded: effective)
    }

    /// The state's setting that holds the dataset.
    static let settingName = "dataset"

    static func refusal(recorded: String, configured: String, config: DaemonConfig) -> String {
        "accordd: \(config.root) was synced with dataset \"\(recorded)\" but \(config.file) now says dataset = \"\(configured)\"; "
            + "switching would look like deleting every record of one and creating them in the other. Set dataset = \"\(recorded)\" back, "
            + "or to sync this root with \"\(configured)\" from scratch stop accordd and move \(config.state) (with its -wal and -shm files) away"
    }
}
