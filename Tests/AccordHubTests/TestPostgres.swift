#if canImport(Glibc)
    import Glibc
#endif

/// The PostgreSQL database the hub's suite runs on a second time (scripts/test.sh
/// starts a throw-away cluster and sets `ACCORD_TEST_POSTGRES_URL`); nil for SQLite.
enum TestPostgres {
    static let url = variable("ACCORD_TEST_POSTGRES_URL")
    /// The cluster's folder, for the test that stops and starts it (run on its own).
    static let clusterFolder = variable("ACCORD_TEST_POSTGRES_DIR")

    private static func variable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }
}
