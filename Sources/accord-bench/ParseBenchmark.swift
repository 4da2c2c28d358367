import AccordCore
import AccordFiles
import Foundation

/// Parse + validate throughput on one core, beside Python's `json.loads` on the same files.
struct ParseBenchmark {
    var options: BenchOptions

    func run() {
        let records = options.int("records", default: 100_000)
        let recordBytes = options.int("record-bytes", default: 2048)
        let rounds = options.int("rounds", default: 3)
        let directory = options.string("dir", default: NSTemporaryDirectory() + "accord-bench-parse")
        let schemaFolder = options.string("schemas", default: "config/schemas")

        let schemas: SchemaSet
        do {
            schemas = try SchemaDirectory.load(schemaFolder)
        } catch {
            print("accord-bench: \(error); run from the repository root or pass --schemas DIR")
            exit(2)
        }
        let generator = DatasetGenerator(records: records, recordBytes: recordBytes)
        let dataset: (files: [String], bytes: Int)
        do {
            if options.string("reuse", default: "no") == "yes", let existing = generator.existing(in: directory) {
                print("reusing the dataset in \(directory)")
                dataset = existing
            } else {
                print("generating \(records) records of ~\(recordBytes) bytes in \(directory) ...")
                dataset = try generator.write(to: directory)
            }
        } catch {
            print("accord-bench: cannot write the dataset: \(error)")
            exit(1)
        }
        let megabytes = Double(dataset.bytes) / 1_000_000
        print(String(format: "dataset: %d files, %.1f MB", dataset.files.count, megabytes))

        var best = Double.infinity
        for round in 1...rounds {
            let start = monotonicSeconds()
            var valid = 0
            var problems = 0
            for path in dataset.files {
                guard let bytes = try? FileReader.readRegularFile(path) else { continue }
                let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: .jsonl)
                problems += parsed.problems.count
                for located in parsed.records {
                    if schemas.validate(located.record).isEmpty { valid += 1 } else { problems += 1 }
                }
            }
            let seconds = monotonicSeconds() - start
            best = min(best, seconds)
            print(String(format: "  round %d: %.3f s, %d valid, %d problems", round, seconds, valid, problems))
            if valid != records {
                print("accord-bench: expected \(records) valid records, got \(valid): the generator or validator is wrong")
                exit(1)
            }
        }
        let ours = (mbps: megabytes / best, rps: Double(records) / best, rss: peakRSSMiB())
        let python = options.string("python", default: "yes") == "yes" ? runPython(files: dataset.files, rounds: rounds) : nil

        print("")
        print("read + parse + validate, one core, best of \(rounds) rounds")
        print(row("", "MB/s", "records/s", "peak RSS"))
        print(row("accord (parse+validate)", String(format: "%.1f", ours.mbps), String(format: "%.0f", ours.rps), String(format: "%.1f MiB", ours.rss)))
        if let python {
            print(row("python3 json.loads", String(format: "%.1f", python.mbps), String(format: "%.0f", python.rps), String(format: "%.1f MiB", python.rss)))
            print(String(format: "  accord / python: %.2fx (target >= 1.5x); accord: %.0f MB/s (target >= 100)", ours.mbps / python.mbps, ours.mbps))
        } else {
            print("  python3 reference: not run (python3 missing or failed)")
        }
    }

    private func row(_ name: String, _ a: String, _ b: String, _ c: String) -> String {
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + space : space + text
        }
        return "  " + pad(name, 26, left: true) + pad(a, 9) + pad(b, 12) + pad(c, 12)
    }

    /// Runs python3 over the same files: read each file, `json.loads` each line.
    private func runPython(files: [String], rounds: Int) -> (mbps: Double, rps: Double, rss: Double)? {
        let script = """
            import json, resource, sys, time
            files = sys.argv[2:]
            rounds = int(sys.argv[1])
            best = float("inf"); total = 0; count = 0
            for _ in range(rounds):
                start = time.perf_counter(); total = 0; count = 0
                for path in files:
                    with open(path, "rb") as handle:
                        data = handle.read()
                    total += len(data)
                    for line in data.split(b"\\n"):
                        if line.strip():
                            json.loads(line); count += 1
                best = min(best, time.perf_counter() - start)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{total / 1e6 / best} {count / best} {rss}")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(rounds)] + files
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            return nil
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let fields = String(decoding: output, as: UTF8.self).split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard process.terminationStatus == 0, fields.count == 3 else { return nil }
        return (fields[0], fields[1], fields[2])
    }
}
