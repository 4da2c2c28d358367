#if canImport(Glibc)
    import Glibc
#endif

/// `--name value` pairs from the command line.
struct BenchOptions {
    private var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let key = iterator.next() {
            guard key.hasPrefix("--") else {
                print("accord-bench: unexpected argument \(key)")
                exit(2)
            }
            values[String(key.dropFirst(2))] = iterator.next() ?? ""
        }
    }

    func int(_ name: String, default value: Int) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")), number > 0 else {
            print("accord-bench: --\(name) needs a positive whole number, not \(text)")
            exit(2)
        }
        return number
    }

    func string(_ name: String, default value: String) -> String {
        values[name] ?? value
    }
}

/// Peak resident set size of this process so far, in MiB.
func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
