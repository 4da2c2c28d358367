import AccordCore
import AccordHTTP
import AccordTestSupport
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A team as a user sees it: replica A holds N records, B starts empty, both against
/// one hub (through a proxy adding a round-trip time when `--rtt-ms` is given):
/// time until the hub and B hold everything, an edit in A until B's file shows it,
/// a fresh replica C joining (bootstrap), then idle CPU and memory of every process.
/// On loopback, the same workload runs through lsyncd (rsync) in the same run.
struct TeamBenchmark {
    var options: BenchOptions

    func run() async {
        let records = options.int("records", default: 10_000)
        let edits = options.int("edits", default: 60)
        let rtt = Double(options.string("rtt-ms", default: "0")) ?? 0
        let idleSeconds = options.int("idle-seconds", default: 30)
        let bin = options.string("bin", default: ".build/release")
        let schemas = FileManager.default.currentDirectoryPath + "/" + options.string("schemas", default: "config/schemas")
        let work = NSTemporaryDirectory() + "accord-bench-team-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let daemons = DaemonBenchmark(options: options)
        do {
            for name in ["a", "b", "c"] { try FileManager.default.createDirectory(atPath: "\(work)/\(name)/root", withIntermediateDirectories: true) }
            print("generating \(records) records as .json files ...")
            try writeBenchRecords(records, into: work + "/a/root")
            let hub = try startHub(bin + "/accordhub", work: work, schemas: schemas)
            defer { kill(hub.pid, SIGTERM) }
            var proxies: [DelayProxy] = []
            func remote() throws -> Int {
                guard rtt > 0 else { return hub.port }
                let proxy = try DelayProxy(upstreamPort: hub.port, oneWayMilliseconds: rtt / 2)
                proxies.append(proxy)
                return proxy.port
            }
            let link = rtt > 0 ? String(format: "%.0f ms round trip", rtt) : "loopback"
            let http = HTTPClient()
            defer { http.shutdown() }

            // 1. A (full) and B (empty) start together.
            let began = monotonicSeconds()
            var processes: [String: pid_t] = [:]
            for name in ["a", "b"] {
                try config(work: work, name: name, port: try remote(), schemas: schemas).write(
                    toFile: "\(work)/\(name)/accordd.toml", atomically: true, encoding: .utf8)
                processes[name] = try daemons.startDaemon(bin + "/accordd", config: "\(work)/\(name)/accordd.toml", work: "\(work)/\(name)").pid
            }
            var hubDone: Double?
            var bDone: Double?
            var peaks: [String: Double] = [:]
            while hubDone == nil || bDone == nil {
                if hubDone == nil, try await hubSeq(http, hub.port) >= records { hubDone = monotonicSeconds() - began }
                if bDone == nil, count(work + "/b/root/agreement") >= records { bDone = monotonicSeconds() - began }
                for (name, pid) in processes { peaks[name] = max(peaks[name] ?? 0, daemons.rss(pid, "VmHWM")) }
                guard monotonicSeconds() - began < 3600 else { throw BenchError("no convergence within an hour") }
                try await Task.sleep(for: .milliseconds(20))
            }
            print(String(format: "%d records A -> hub, cold start, %@: %.2f s", records, link, hubDone!))
            print(
                String(
                    format: "%d records A -> B, cold start, %@: %.2f s (peak RSS A %.1f MiB, B %.1f MiB, hub %.1f MiB)", records, link, bDone!,
                    peaks["a"]!, peaks["b"]!, daemons.rss(hub.pid, "VmHWM")))

            // 2. An edit in A until B's file shows it.
            let latencies = try await editLatencies(
                edits, records: records, source: work + "/a/root", target: { "\(work)/b/root/agreement/agreement-\($0).json" })
            print(
                String(
                    format: "edit in A -> file in B, %@, %d-record folder, %d edits: p50 %.1f ms, p95 %.1f ms", link, records, edits,
                    latencies.p50, latencies.p95))

            // 3. A new replica joins a populated dataset.
            let joined = monotonicSeconds()
            try config(work: work, name: "c", port: try remote(), schemas: schemas).write(toFile: work + "/c/accordd.toml", atomically: true, encoding: .utf8)
            processes["c"] = try daemons.startDaemon(bin + "/accordd", config: work + "/c/accordd.toml", work: work + "/c").pid
            while count(work + "/c/root/agreement") < records {
                guard monotonicSeconds() - joined < 3600 else { throw BenchError("C did not catch up within an hour") }
                try await Task.sleep(for: .milliseconds(20))
            }
            print(
                String(
                    format: "new replica bootstrap, %d records, %@: %.2f s (peak RSS %.1f MiB)", records, link, monotonicSeconds() - joined,
                    daemons.rss(processes["c"]!, "VmHWM")))

            // 4. Idle.
            try await Task.sleep(for: .seconds(3))
            for name in ["a", "b"] {
                let cpu = try await daemons.idleCPU(processes[name]!, seconds: idleSeconds)
                print(
                    String(
                        format: "idle daemon %@ with %d records: %.4f CPU-s/min, RSS %.1f MiB", name.uppercased(), records, cpu,
                        daemons.rss(processes[name]!, "VmRSS")))
            }
            let hubCPU = try await daemons.idleCPU(hub.pid, seconds: idleSeconds)
            print(String(format: "idle hub: %.4f CPU-s/min, RSS %.1f MiB", hubCPU, daemons.rss(hub.pid, "VmRSS")))
            let total = processes.values.map { daemons.rss($0, "VmRSS") }.reduce(daemons.rss(hub.pid, "VmRSS"), +)
            print(String(format: "hub and three daemons together: %.1f MiB RSS", total))
            for pid in processes.values {
                kill(pid, SIGTERM)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
            if rtt == 0, options.string("lsyncd", default: "yes") == "yes" { try await lsyncd(records: records, edits: edits, work: work) }
        } catch {
            print("accord-bench team: \(error)")
            exit(1)
        }
    }

    /// The same workload through lsyncd with rsync: a full copy from a cold start,
    /// then edits until the target file shows them.
    private func lsyncd(records: Int, edits: Int, work: String) async throws {
        let source = work + "/ls-source"
        let target = work + "/ls-target"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        try writeBenchRecords(
            records,
            into: {
                try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true); return source
            }())
        let config = """
            settings { nodaemon = true, statusInterval = 3600, insist = true, logfile = "\(work)/lsyncd.log" }
            sync { default.rsync, source = "\(source)", target = "\(target)", delay = 0 }
            """
        try config.write(toFile: work + "/lsyncd.conf", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/lsyncd")
        process.arguments = [work + "/lsyncd.conf"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let began = monotonicSeconds()
        try process.run()
        defer { process.terminate() }
        while count(target) < records {
            guard monotonicSeconds() - began < 3600 else { throw BenchError("lsyncd did not copy within an hour") }
            try await Task.sleep(for: .milliseconds(20))
        }
        print(String(format: "lsyncd (rsync): %d records source -> target, cold start: %.2f s", records, monotonicSeconds() - began))
        let latencies = try await editLatencies(edits, records: records, source: source, target: { "\(target)/agreement-\($0).json" })
        print(
            String(
                format: "lsyncd (rsync): edit -> file in target, %d-record folder: p50 %.1f ms, p95 %.1f ms, RSS %.1f MiB", records, latencies.p50,
                latencies.p95, DaemonBenchmark(options: options).rss(process.processIdentifier, "VmRSS")))
    }

    /// Edits `agreement-i.json` in `source` one at a time and times until `target(i)`
    /// shows the new value.
    private func editLatencies(_ edits: Int, records: Int, source: String, target: (Int) -> String) async throws -> (p50: Double, p95: Double) {
        var latencies: [Double] = []
        for edit in 0..<edits {
            let index = (edit * 7919) % records
            let path = "\(source)/agreement-\(index).json"
            var text = try String(contentsOfFile: path, encoding: .utf8)
            let marker = "\"fiscal_year\": \(5000 + edit)"
            text = text.replacingOccurrences(of: #""fiscal_year": \d+"#, with: marker, options: .regularExpression)
            let written = monotonicSeconds()
            try DaemonBenchmark(options: options).writeInPlace(path, text)
            let destination = target(index)
            while !((try? String(contentsOfFile: destination, encoding: .utf8))?.contains(marker) ?? false) {
                guard monotonicSeconds() - written < 60 else { throw BenchError("edit \(edit) did not arrive within a minute") }
                usleep(200)
            }
            latencies.append((monotonicSeconds() - written) * 1000)
            try await Task.sleep(for: .milliseconds(30))
        }
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 95 / 100)])
    }

    private func config(work: String, name: String, port: Int, schemas: String) -> String {
        """
        root = "\(work)/\(name)/root"
        remote = "http://127.0.0.1:\(port)"
        schemas = "\(schemas)"
        state = "\(work)/\(name)/state.db"
        [control]
        socket = "\(work)/\(name)/control.sock"
        [log]
        level = "\(options.string("log-level", default: "warning"))"
        """
    }

    /// The hub's latest seq (every record written once: the number of records).
    private func hubSeq(_ http: HTTPClient, _ port: Int) async throws -> Int {
        let response = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/changes?since=999999999999"))
        return (try? JSONParser.parse(response.body))?.objectValue?["last_seq"]?.numberValue.flatMap { Int($0.literal) } ?? 0
    }

    private func count(_ folder: String) -> Int {
        guard let directory = opendir(folder) else { return 0 }
        defer { closedir(directory) }
        var total = 0
        while let entry = readdir(directory) {
            // Regular files, not the temporary dot-files of a write in progress.
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if entry.pointee.d_type == UInt8(DT_REG), first != UInt8(ascii: ".") { total += 1 }
        }
        return total
    }
}
