import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation
import Testing

@testable import AccordSync

@Suite("Sync killed with kill -9")
struct CrashRecoveryTests {
    @Test func killedMidPushThenRestartedConverges() async throws {
        let hub = try HubLauncher()
        let folder = try TemporaryFolder()
        let count = 12000
        for index in 0..<count { try folder.write("root/a\(index).json", agreement("a\(index)")) }
        let arguments = [
            "--root", folder.child("root"), "--state", folder.child("state.db"), "--hub", "http://127.0.0.1:\(hub.port)",
            "--schemas", BuiltProducts.repositoryRoot + "/config/schemas",
        ]
        let binary = try BuiltProducts.path(of: "accord-sync")
        // The first run goes through a proxy that forwards every request and holds every
        // answer: once the hub's sequence moves, it has applied a batch the sync has not
        // heard back about, and the kill lands there. The second run talks to the hub directly
        // and must not apply those batches twice.
        let holding = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 1, faults: [.holdAnswer]))
        defer { holding.stop() }
        var slowArguments = arguments
        slowArguments[5] = "http://127.0.0.1:\(holding.port)"
        let first = try ChildProcess(binary, slowArguments, logFolder: folder.path)
        let client = RawHTTPClient(port: hub.port)
        func latestSeq() async throws -> Int64 {
            let page = try await client.request("GET", "/v1/changes?since=999999999")  // empty page: last_seq is the hub's latest
            return try JSONParser.parse(page.body).objectValue?["last_seq"]?.numberValue.flatMap { Int64($0.literal) } ?? 0
        }
        #expect(try await eventuallyAsync(timeout: 60) { try await latestSeq() > 0 })
        first.signal(SIGKILL)
        #expect(try await first.waitForExit(timeout: 10) == 128 + SIGKILL)
        let taken = try await latestSeq()
        #expect(taken > 0 && taken < count, "killed mid-push (\(taken) of \(count) taken)")

        let second = try ChildProcess(binary, arguments, logFolder: folder.path)
        #expect(try await second.waitForExit(timeout: 120) == 0, "\(second.standardError)")

        // A fresh replica pulls everything; every record was applied exactly once.
        let http = HTTPClient()
        defer { http.shutdown() }
        let other = try Replica(hub: hub, http: http)
        try await other.sync()
        let schemas = try SchemaDirectoryForTests.load()
        #expect(RecordValidatorForTests.validate(other.root, schemas).count == count)
        let feed = try await client.request("GET", "/v1/changes?since=999999999")
        let lastSeq = try JSONParser.parse(feed.body).objectValue?["last_seq"]?.numberValue?.literal
        #expect(lastSeq == String(count), "one revision per record: nothing applied twice")
    }
}
