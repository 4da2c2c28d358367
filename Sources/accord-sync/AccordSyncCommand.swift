import AccordCLI
import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordSync
import ArgumentParser

/// `accord-sync`: one sync of a root with a hub, without the daemon. A tool for
/// development, tests (kill it mid-push and start it again) and scripted one-off syncs.
struct AccordSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accord-sync",
        abstract: "Sync a record folder with an Accord hub once (scan, push, pull), without the daemon.",
        version: AccordVersion.string
    )

    @Option(help: "The record folder.")
    var root: String

    @Option(help: "The state database of this replica.")
    var state: String

    @Option(help: "The hub's URL, e.g. http://127.0.0.1:8480.")
    var hub: String

    @Option(help: "The schema folder.")
    var schemas: String = "config/schemas"

    @Option(help: "merge, prefer-local, prefer-remote, newest or manual.")
    var policy: String = "merge"

    @Option(help: "A file holding the bearer token.")
    var tokenFile: String?

    func run() async throws {
        guard let conflictPolicy = ConflictPolicy(rawValue: policy) else {
            throw CommandStatus.usage("accord-sync: --policy \(policy) is not one of merge, prefer-local, prefer-remote, newest, manual")
        }
        let schemaSet: SchemaSet
        do { schemaSet = try SchemaDirectory.load(schemas) } catch { throw CommandStatus.usage("accord-sync: \(error.message)") }
        var token: String?
        if let tokenFile {
            do {
                token = String(decoding: try FileReader.readRegularFile(tokenFile, maxBytes: 4096), as: UTF8.self).trimming(" \n\r\t")
            } catch {
                throw CommandStatus.usage("accord-sync: cannot read the token: \(error)")
            }
        }
        let http = HTTPClient()
        defer { http.shutdown() }
        let engine = try SyncEngine(
            settings: SyncSettings(root: root, schemas: schemaSet, policy: conflictPolicy), store: try StateStore(path: state),
            hub: HubClient(baseURL: hub, token: token, http: http))
        let (queued, problems) = try await engine.scan()
        for problem in problems { CommandRunner.printError("accord-sync: invalid, not synced: \(problem)") }
        CommandRunner.printOutput("queued \(queued)")
        let report = try await engine.syncOnce()
        CommandRunner.printOutput(
            "pushed \(report.pushed), pulled \(report.pulled), merged \(report.merged), conflicts \(report.conflicts), rejected \(report.rejected), retrying \(report.retrying)"
        )
        let pending = try await engine.pendingCount()
        if pending > 0 { throw CommandStatus.failed("accord-sync: \(pending) changes did not reach the hub; run again") }
    }
}
