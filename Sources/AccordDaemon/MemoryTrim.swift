#if canImport(Glibc)
    import Glibc
#endif

/// glibc keeps freed memory in its arenas; `malloc_trim` gives it back to the kernel.
/// Looked up at run time because Swift's Glibc module does not import `<malloc.h>`.
enum MemoryTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    static func returnFreedMemory() {
        _ = trim?(0)
    }
}
