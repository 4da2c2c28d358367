import AccordCore

#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target for the strict JSON parser and the record-file parser. Built with
/// `-sanitize=fuzzer -DFUZZING` (scripts/fuzz.sh) it is a libFuzzer binary; built
/// plainly it replays the files given on the command line (the committed corpus) and
/// traps on the first one that breaks a property.
///
/// Properties: parsing never traps; whatever parses writes back (compact and
/// indented) to text that parses to an equal value; the record-file parser never
/// traps on the same bytes read as `.json` or `.jsonl`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    if let value = try? JSONParser.parse(bytes) {
        for text in [JSONWriter.line(value), JSONWriter.pretty(value)] {
            guard let again = try? JSONParser.parse(text) else { fatalError("written JSON does not parse: \(text.prefix(200))") }
            guard again == value else { fatalError("written JSON parses to another value: \(text.prefix(200))") }
        }
    }
    _ = RecordFileParser.parse(path: "fuzz.json", bytes: bytes, format: .json)
    _ = RecordFileParser.parse(path: "fuzz.jsonl", bytes: bytes, format: .jsonl)
    return 0
}

/// libFuzzer's driver, called from our own `main` (SwiftPM names the entry point).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@main
enum FuzzMain {
    /// Fuzzing (built with `-DFUZZING`): hands the command line to libFuzzer. Otherwise
    /// replays every file named on the command line through the target (the committed
    /// corpus, in CI), so a plain build checks what the fuzzer once found.
    static func main() {
        #if FUZZING
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(runFuzzerDriver(&argc, &argv, fuzzJSON))
        #else
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("accord-fuzz-json: cannot open \(path)")
                    exit(2)
                }
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = fread(&chunk, 1, chunk.count, file)
                    if count <= 0 { break }
                    bytes += chunk[0..<count]
                }
                fclose(file)
                _ = bytes.withUnsafeBufferPointer { fuzzJSON($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
            }
            print("accord-fuzz-json: \(CommandLine.arguments.count - 1) inputs replayed")
        #endif
    }
}
