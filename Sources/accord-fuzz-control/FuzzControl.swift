import AccordDaemon

#if canImport(Glibc)
    import Glibc
#endif

/// Fuzz target for the control API's request path: raw bytes written on the real
/// control socket (the NIO server, its HTTP codec and `ControlHandler`, against a real
/// engine and a running sync loop). Property: every input gets an HTTP status or a
/// plain close, and nothing traps. Built with `-sanitize=fuzzer -DFUZZING` it is a libFuzzer binary; built
/// plainly it replays the files named on the command line.
let harness: ControlFuzzHarness = {
    do {
        return try ControlFuzzHarness()
    } catch {
        fatalError("cannot build the control API for fuzzing: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzControl(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let status = harness.run(bytes), !(100..<600).contains(status) {
        fatalError("status \(status) is not an HTTP status")
    }
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
            exit(runFuzzerDriver(&argc, &argv, fuzzControl))
        #else
            for path in CommandLine.arguments.dropFirst() {
                guard let file = fopen(path, "rb") else {
                    print("accord-fuzz-control: cannot open \(path)")
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
                _ = bytes.withUnsafeBufferPointer { fuzzControl($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
            }
            print("accord-fuzz-control: \(CommandLine.arguments.count - 1) inputs replayed")
        #endif
    }
}
