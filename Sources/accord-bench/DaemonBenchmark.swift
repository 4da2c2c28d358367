import AccordCore
import AccordHTTP
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon as an operator sees it: time from start to in-sync, the start-up rescan
/// of unchanged records, the latency from a file written to the record on the hub, and
/// idle CPU and memory. Real `accordd` and `accordhub` processes on loopback.
struct DaemonBenchmark {
    var options: BenchOptions

    func run() async {
        let records = options.int("records", default: 10_000)
        let edits = options.int("edits", default: 50)
        let idleSeconds = options.int("idle-seconds", default: 30)
        let bin = options.string("bin", default: ".build/release")
        let schemas = options.string("schemas", default: "config/schemas")
        let work = NSTemporaryDirectory() + "accord-bench-daemon-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work + "/root", withIntermediateDirectories: true)
            print("generating \(records) records as .json files ...")
            try writeBenchRecords(records, into: work + "/root")
            let hub = try startHub(bin + "/accordhub", work: work, schemas: schemas)
            defer { kill(hub.pid, SIGTERM) }
            let config = """
                root = "\(work)/root"
                remote = "http://127.0.0.1:\(hub.port)"
                schemas = "\(FileManager.default.currentDirectoryPath)/\(schemas)"
                state = "\(work)/state.db"
                [control]
                socket = "\(work)/control.sock"
                [log]
                level = "warning"
                """
            try config.write(toFile: work + "/accordd.toml", atomically: true, encoding: .utf8)
            let http = HTTPClient()
            defer { http.shutdown() }
            var control = HTTPClientOptions()
            control.unixSocketPath = work + "/control.sock"
            let controlClient = HTTPClient(options: control)
            defer { controlClient.shutdown() }

            // 1. From start to in-sync, from an empty state.
            var began = monotonicSeconds()
            var (daemon, notify) = try startDaemon(bin + "/accordd", config: work + "/accordd.toml", work: work)
            let ready = try waitForReady(notify)
            try await waitInSync(controlClient, records: records)
            let inSync = monotonicSeconds() - began
            print(
                String(
                    format: "start to in-sync, %d new records: %.2f s (first scan %.2f s), daemon peak RSS %.1f MiB", records, inSync, ready - began,
                    rss(daemon, "VmHWM")))

            // 2. Propagation latency: a file written in the root to the record on the hub.
            var latencies: [Double] = []
            var since = try await lastSeq(http, hub.port)
            for edit in 0..<edits {
                let path = work + "/root/agreement-\(edit % records).json"
                var text = try String(contentsOfFile: path, encoding: .utf8)
                text = text.replacingOccurrences(of: #""fiscal_year": \d+"#, with: "\"fiscal_year\": \(3000 + edit)", options: .regularExpression)
                let request = HTTPRequest(url: "http://127.0.0.1:\(hub.port)/v1/changes?since=\(since)&wait=10", timeoutSeconds: 20)
                let poll = Task { [http] in try await http.send(request) }
                try await Task.sleep(for: .milliseconds(30))  // let the long-poll reach the hub first
                let written = monotonicSeconds()
                try writeInPlace(path, text)
                let response = try await poll.value
                latencies.append(monotonicSeconds() - written)
                since = Int((try? JSONParser.parse(response.body))?.objectValue?["last_seq"]?.numberValue.flatMap { Int($0.literal) } ?? since)
                try await Task.sleep(for: .milliseconds(20))
            }
            latencies.sort()
            func at(_ fraction: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))] * 1000 }
            print(
                String(
                    format: "write in the root -> record on the hub, %d edits: p50 %.1f ms, p95 %.1f ms, max %.1f ms", edits, at(0.5), at(0.95),
                    latencies.last! * 1000))

            // 3. Idle: CPU seconds per minute and RSS while watching every record.
            try await Task.sleep(for: .seconds(2))
            let cpu = try await idleCPU(daemon, seconds: idleSeconds)
            print(String(format: "idle with %d records watched: %.4f CPU-s/min, RSS %.1f MiB", records, cpu, rss(daemon, "VmRSS")))

            // 4. Restart: the start-up rescan of unchanged records.
            kill(daemon, SIGTERM)
            var status: Int32 = 0
            waitpid(daemon, &status, 0)
            began = monotonicSeconds()
            (daemon, notify) = try startDaemon(bin + "/accordd", config: work + "/accordd.toml", work: work)
            let rescanned = try waitForReady(notify) - began
            print(String(format: "start-up rescan of %d unchanged records: %.2f s (to READY=1)", records, rescanned))
            kill(daemon, SIGTERM)
            waitpid(daemon, &status, 0)
            print("targets: p50 <= 10 ms; rescan of 100,000 <= 2 s; idle <= 0.01 CPU-s/min, RSS <= 40 MB at 10,000 (80 MB at 100,000)")
            print("peers on this machine (from the issue): lsyncd edit p50 11 ms; Syncthing 1.02 s; Syncthing idle 0.07 CPU-s/min, 186 MB")
        } catch {
            print("accord-bench: \(error)")
            exit(1)
        }
    }

    func startDaemon(_ binary: String, config: String, work: String) throws -> (pid: pid_t, notify: NotifyListener) {
        unlink(work + "/notify.sock")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = work + "/notify.sock"
        process.environment = environment
        let listener = try NotifyListener(path: work + "/notify.sock")
        try process.run()
        return (process.processIdentifier, listener)
    }

    /// Waits for READY=1 on the notify socket; returns when it came (monotonic).
    func waitForReady(_ listener: NotifyListener) throws -> Double {
        guard listener.wait(for: "READY=1", timeout: 600) else { throw BenchError("accordd never sent READY=1") }
        return monotonicSeconds()
    }

    func waitInSync(_ client: HTTPClient, records: Int) async throws {
        for _ in 0..<60_000 {
            if let response = try? await client.send(HTTPRequest(url: "http://accordd/v1/status")),
                let status = (try? JSONParser.parse(response.body))?.objectValue,
                status["pending"]?.numberValue?.literal == "0", status["last_sync"] != .null, status["last_sync"] != nil
            {
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchError("accordd did not get in sync")
    }

    func lastSeq(_ http: HTTPClient, _ port: Int) async throws -> Int {
        let response = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/changes?since=0&limit=1"))
        let object = (try? JSONParser.parse(response.body))?.objectValue
        // The feed's head: ask for the page after everything.
        var since = object?["last_seq"]?.numberValue.flatMap { Int($0.literal) } ?? 0
        while true {
            let page = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(port)/v1/changes?since=\(since)&limit=1000"))
            let next = (try? JSONParser.parse(page.body))?.objectValue?["last_seq"]?.numberValue.flatMap { Int($0.literal) } ?? since
            if next == since { return since }
            since = next
        }
    }

    /// One write and one close: the single close-after-write an editor's save gives.
    func writeInPlace(_ path: String, _ text: String) throws {
        let descriptor = open(path, O_WRONLY | O_TRUNC)
        guard descriptor >= 0 else { throw BenchError("cannot open \(path)") }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// CPU seconds per minute over `seconds`, from the scheduler's nanosecond counters
    /// of every thread (clock ticks are too coarse for an idle process), sampled every
    /// second so that threads which exit meanwhile still count.
    func idleCPU(_ pid: pid_t, seconds: Int) async throws -> Double {
        let start = threadTimes(pid)
        var latest = start
        for _ in 0..<seconds {
            try await Task.sleep(for: .seconds(1))
            latest.merge(threadTimes(pid)) { max($0, $1) }
        }
        var used = 0.0
        for (thread, nanoseconds) in latest { used += nanoseconds - (start[thread] ?? 0) }
        return used / 1e9 / Double(seconds) * 60
    }

    func threadTimes(_ pid: pid_t) -> [String: Double] {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [:] }
        var times: [String: Double] = [:]
        for thread in threads {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/schedstat", encoding: .utf8) else { continue }
            times[thread] = Double(text.split(separator: " ").first ?? "0") ?? 0
        }
        return times
    }

    func rss(_ pid: pid_t, _ field: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
            return kilobytes / 1024
        }
        return 0
    }
}

/// The notify socket systemd would hold: READY=1 tells when the first scan is done.
final class NotifyListener: @unchecked Sendable {
    private let descriptor: Int32
    private var received: [String] = []

    init(path: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw BenchError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 1000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func wait(for prefix: String, timeout: Double) -> Bool {
        let end = monotonicSeconds() + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while monotonicSeconds() < end {
            if received.contains(where: { $0.hasPrefix(prefix) }) { return true }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { received.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        return false
    }
}
