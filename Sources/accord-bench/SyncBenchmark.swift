import AccordCore
import AccordFiles
import AccordHTTP
import AccordStore
import AccordSync
import Foundation

/// Bulk initial push of generated records to a local hub, and the single-record round
/// trip (edit, scan, push, acknowledged), with wall time, records/s and peak RSS.
struct SyncBenchmark {
    var options: BenchOptions

    func run() async {
        let records = options.int("records", default: 10_000)
        let roundTrips = options.int("round-trips", default: 200)
        let hubBinary = options.string("hub", default: ".build/release/accordhub")
        let schemaFolder = options.string("schemas", default: "config/schemas")
        let work = NSTemporaryDirectory() + "accord-bench-sync-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work + "/root", withIntermediateDirectories: true)
            let schemas = try SchemaDirectory.load(schemaFolder)
            // --tls yes: the hub serves HTTPS with a throw-away certificate; --http2 no
            // keeps the client on HTTP/1.1, to see what multiplexing is worth.
            let tls = options.string("tls", default: "no") == "yes"
            var clientOptions = HTTPClientOptions()
            var hubConfig: String?
            if tls {
                try makeBenchCertificate(work: work)
                hubConfig = work + "/hub.toml"
                try "open = true\n[tls]\ncert_file = \"\(work)/tls.crt\"\nkey_file = \"\(work)/tls.key\"\n".write(
                    toFile: hubConfig!, atomically: true, encoding: .utf8)
                clientOptions.tls.caFile = work + "/tls.crt"
            }
            if options.string("http2", default: "yes") == "no" { clientOptions.http2 = .never }
            let hub = try startHub(hubBinary, work: work, schemas: schemaFolder, config: hubConfig)
            defer { kill(hub.pid, SIGTERM) }
            print("generating \(records) records as .json files ...")
            try writeBenchRecords(records, into: work + "/root")
            let http = HTTPClient(options: clientOptions)
            defer { http.shutdown() }
            let store = try StateStore(path: work + "/state.db")
            let engine = try SyncEngine(
                settings: SyncSettings(root: work + "/root", schemas: schemas, pushConcurrency: options.int("concurrency", default: 8)), store: store,
                hub: HubClient(baseURL: "\(tls ? "https" : "http")://127.0.0.1:\(hub.port)", token: nil, http: http))
            if tls { print("over TLS, HTTP/\(clientOptions.http2 == .never ? "1.1" : "2 when offered")") }
            let start = monotonicSeconds()
            let queued = try await engine.scan().queued
            let scanned = monotonicSeconds()
            let report = try await engine.push()
            let end = monotonicSeconds()
            print(
                String(
                    format: "bulk initial push of %d records: scan %.2f s, push %.2f s, total %.2f s, %.0f records/s, peak RSS %.1f MiB",
                    queued, scanned - start, end - scanned, end - start, Double(report.pushed) / (end - start), peakRSSMiB()))
            if report.pushed != records { print("accord-bench: only \(report.pushed) of \(records) pushed (\(report))") }

            var latencies: [Double] = []
            let path = work + "/root/agreement-0.json"
            for trip in 0..<roundTrips {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let edited = text.replacingOccurrences(of: #""fiscal_year": \d+"#, with: "\"fiscal_year\": \(3000 + trip)", options: .regularExpression)
                let began = monotonicSeconds()
                try edited.write(toFile: path, atomically: true, encoding: .utf8)
                try await engine.scan()
                let pushed = try await engine.push()
                latencies.append(monotonicSeconds() - began)
                if pushed.pushed != 1 { print("accord-bench: round trip \(trip) pushed \(pushed.pushed)") }
            }
            latencies.sort()
            let p50 = latencies[latencies.count / 2] * 1000
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)] * 1000
            print(
                String(format: "single-record round trip (write file, scan, push, acknowledged) over %d edits: p50 %.2f ms, p99 %.2f ms", roundTrips, p50, p99))
            print("targets: 10,000 in <= 2 s; 100,000 in <= 20 s with peak RSS <= 150 MB")
        } catch {
            print("accord-bench: \(error)")
            exit(1)
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Writes `count` agreement records of about 1 KB, one `.json` file each.
func writeBenchRecords(_ count: Int, into root: String) throws {
    for index in 0..<count {
        let record = Record(
            key: RecordKey(kind: "agreement", id: "agreement-\(index)"),
            fields: [
                "title": .string("Host Nation Support agreement number \(index) between the allies"),
                "parties": .array([.string("United States"), .string("Japan")]), "status": .string("negotiating"),
                "value": .object(["amount": .number(JSONNumber(1_910_000_000 + index)), "currency": .string("USD")]),
                "fiscal_year": .number(JSONNumber(2021)), "covers": .array([.string("utilities"), .string("labor"), .string("training")]),
                "notes": .string(String(repeating: "Cost-sharing talks will resume in April. ", count: 12)),
            ])
        try JSONWriter.pretty(.object(record.object)).write(toFile: "\(root)/agreement-\(index).json", atomically: false, encoding: .utf8)
    }
}

/// Starts the hub on a free loopback port; returns its pid and port.
/// A self-signed certificate for 127.0.0.1 (`tls.crt`, `tls.key` in `work`), by openssl.
func makeBenchCertificate(work: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", work + "/tls.key", "-out",
        work + "/tls.crt", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchError("openssl could not make a certificate") }
}

/// `config`: a TOML file for the hub (with tokens or open = true); without one the
/// hub runs open.
func startHub(_ binary: String, work: String, schemas: String, config: String? = nil) throws -> (pid: pid_t, port: Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments =
        ["--listen", "127.0.0.1:0", "--db", work + "/hub.db", "--schemas", schemas, "--log-level", "warning"]
        + (config.map { ["--config", $0] } ?? ["--open"])
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    var line = ""
    while !line.contains("\n") {
        let data = pipe.fileHandleForReading.availableData
        if data.isEmpty { throw BenchError("the hub exited before listening; build it with swift build -c release --product accordhub") }
        line += String(decoding: data, as: UTF8.self)
    }
    guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
        throw BenchError("cannot read the hub's port from: \(line)")
    }
    return (process.processIdentifier, port)
}
