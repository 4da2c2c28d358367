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
        // The first run goes through a proxy that holds every answer for 400 ms after the
        // hub has applied the request. The push goes in batches of at most 500 with a few
        // in flight, so it takes several waves and the kill lands between them, with some
        // batches applied but unacknowledged; the second run talks to the hub directly
        // and must not apply those twice.
        let slow = try FaultProxy(upstreamPort: hub.port, rates: FaultProxy.Rates(faultRate: 1, faults: [.delayAnswer(milliseconds: 400)]))
        defer { slow.stop() }
        var slowArguments = arguments
        slowArguments[5] = "http://127.0.0.1:\(slow.port)"
        let first = try ChildProcess(binary, slowArguments, logFolder: folder.path)
        // Kill it once the hub has taken part of the push.
        let client = RawHTTPClient(port: hub.port)
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        var taken: Int64 = 0
        while ContinuousClock.now < deadline {
            let feed = try await client.request("GET", "/v1/changes?since=999999999")  // empty page: last_seq is the hub's latest
            taken = try JSONParser.parse(feed.body).objectValue?["last_seq"]?.numberValue.flatMap { Int64($0.literal) } ?? 0
            if taken >= 500 { break }
        }
        first.signal(SIGKILL)
        #expect(try first.waitForExit(timeout: 10) == 128 + SIGKILL)
        #expect(taken >= 500 && taken < count, "killed mid-push (\(taken) of \(count) taken)")

        let second = try ChildProcess(binary, arguments, logFolder: folder.path)
        #expect(try second.waitForExit(timeout: 120) == 0, "\(second.standardError)")

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
