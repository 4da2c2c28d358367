import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordSync
import Foundation

/// The first scan of a root of new `.json` files (walk, read, hash, parse, validate,
/// queue) and a rescan of the same root unchanged, with peak RSS: the cost a new
/// replica or a restart pays before syncing.
struct ScanBenchmark {
    var options: BenchOptions

    func run() async {
        let records = options.int("records", default: 100_000)
        let schemaFolder = options.string("schemas", default: "config/schemas")
        let work = options.string("dir", default: NSTemporaryDirectory() + "accord-bench-scan-\(records)")
        do {
            let root = work + "/root"
            if (try? FileManager.default.contentsOfDirectory(atPath: root).count) != records {
                try? FileManager.default.removeItem(atPath: work)
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                print("generating \(records) records as .json files in \(root) ...")
                try writeBenchRecords(records, into: root)
            }
            try? FileManager.default.removeItem(atPath: work + "/state.db")
            let http = HTTPClient()
            defer { http.shutdown() }
            let store = try StateStore(path: work + "/state.db")
            let engine = try SyncEngine(
                settings: SyncSettings(root: root, schemas: try SchemaDirectory.load(schemaFolder)), store: store,
                hub: HubClient(baseURL: "http://127.0.0.1:1", token: nil, http: http))
            let start = monotonicSeconds()
            let first = try await engine.scan()
            let scanned = monotonicSeconds()
            let again = try await engine.scan()
            let rescanned = monotonicSeconds()
            print(
                String(
                    format: "first scan of %d new files: %.2f s (%.0f files/s), %d queued; rescan unchanged: %.2f s; peak RSS %.1f MiB",
                    records, scanned - start, Double(records) / (scanned - start), first.queued, rescanned - scanned, peakRSSMiB()))
            if again.queued != 0 { print("accord-bench: the rescan queued \(again.queued) changes") }
        } catch {
            print("accord-bench scan: \(error)")
            exit(1)
        }
    }
}
