import AccordCore
import AccordTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `accord-bench hubload`: the hub's responsiveness and memory under hostile load
/// (idle connections, long-polls past the cap, slow clients, an unauthenticated
/// 100 MB PUT) while a real daemon pushes records through it. Prints health latency
/// quiet and under load, the daemon's sync time, and the hub's RSS.
struct HubLoadBenchmark {
    var options: BenchOptions

    func run() async {
        let idle = options.int("idle", default: 1000)
        let polls = options.int("long-polls", default: 600)
        let slow = options.int("slow", default: 50)
        let records = options.int("records", default: 2000)
        let bin = options.string("bin", default: ".build/release")
        let schemas = FileManager.default.currentDirectoryPath + "/" + options.string("schemas", default: "config/schemas")
        let work = NSTemporaryDirectory() + "accord-bench-hubload-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemons = DaemonBenchmark(options: options)
        do {
            try FileManager.default.createDirectory(atPath: work + "/d/root/agreement", withIntermediateDirectories: true)
            // Room for every connection of the load (the default max_connections is 1024).
            let config = work + "/hub.toml"
            try "max_connections = 4096\n[[tokens]]\nname = \"bench\"\nsha256 = \"\(ContentHash.hex(Array("bench-token".utf8)))\"\naccess = \"rw\"\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            try "bench-token\n".write(toFile: work + "/token", atomically: true, encoding: .utf8)
            let hub = try startHub(bin + "/accordhub", work: work, schemas: schemas, config: config)
            defer { kill(hub.pid, SIGTERM) }
            let client = RawHTTPClient(port: hub.port)

            let quiet = try await healthLatencies(client, count: 300)
            print(String(format: "health, quiet: p50 %.2f ms, p99 %.2f ms; hub RSS %.1f MiB", quiet.p50, quiet.p99, daemons.rss(hub.pid, "VmRSS")))

            let load = HubLoad(port: hub.port)
            defer { load.stop() }
            try load.openIdle(idle)
            try load.startSlowClients(slow, token: "bench-token")
            try load.startLongPolls(polls, since: 0, token: "bench-token")
            let started = monotonicSeconds()
            let huge = try load.unauthenticatedHugePut()
            print(
                String(
                    format: "unauthenticated 100 MB PUT: \"%@\" after %.1f ms and %.1f MiB sent (socket buffers)", huge.statusLine,
                    (monotonicSeconds() - started) * 1000, Double(huge.bytesSent) / 1048576))
            print("load: \(idle) idle connections, \(slow) slow clients, \(polls) long-polls (\(load.longPollAnswers(status: 503)) answered 503 so far)")

            // A daemon pushes while health is sampled.
            try writeBenchRecords(records, into: work + "/d/root")
            try """
            root = "\(work)/d/root"
            remote = "http://127.0.0.1:\(hub.port)"
            schemas = "\(schemas)"
            state = "\(work)/d/state.db"
            token_file = "\(work)/token"
            [control]
            socket = "\(work)/d/control.sock"
            """.write(toFile: work + "/d/accordd.toml", atomically: true, encoding: .utf8)
            let began = monotonicSeconds()
            let daemon = try daemons.startDaemon(bin + "/accordd", config: work + "/d/accordd.toml", work: work + "/d")
            defer { kill(daemon.pid, SIGTERM) }
            var samples: [Double] = []
            var synced: Double?
            while synced == nil || samples.count < 300 {
                let one = monotonicSeconds()
                _ = try await client.request("GET", "/v1/health")
                samples.append((monotonicSeconds() - one) * 1000)
                if synced == nil, try await hubSeq(client) >= records { synced = monotonicSeconds() - began }
                guard monotonicSeconds() - began < 600 else { throw BenchError("no sync within 10 minutes") }
            }
            samples.sort()
            print(
                String(
                    format: "health, under load while the daemon pushes %d records: p50 %.2f ms, p99 %.2f ms (%d samples)", records,
                    samples[samples.count / 2], samples[samples.count * 99 / 100], samples.count))
            print(String(format: "daemon: %d records to the hub under load in %.2f s", records, synced ?? 0))
            print(
                String(
                    format: "hub RSS under load %.1f MiB (peak %.1f MiB); long-polls answered 200: %d, 503: %d", daemons.rss(hub.pid, "VmRSS"),
                    daemons.rss(hub.pid, "VmHWM"), load.longPollAnswers(status: 200), load.longPollAnswers(status: 503)))
        } catch {
            print("accord-bench hubload: \(error)")
            exit(1)
        }
    }

    private func healthLatencies(_ client: RawHTTPClient, count: Int) async throws -> (p50: Double, p99: Double) {
        var samples: [Double] = []
        for _ in 0..<count {
            let one = monotonicSeconds()
            _ = try await client.request("GET", "/v1/health")
            samples.append((monotonicSeconds() - one) * 1000)
        }
        samples.sort()
        return (samples[count / 2], samples[count * 99 / 100])
    }

    private func hubSeq(_ client: RawHTTPClient) async throws -> Int {
        let page = try await client.request("GET", "/v1/changes?since=999999999999", headers: ["Authorization": "Bearer bench-token"])
        return (try? JSONParser.parse(page.body))?.objectValue?["last_seq"]?.numberValue.flatMap { Int($0.literal) } ?? 0
    }
}
