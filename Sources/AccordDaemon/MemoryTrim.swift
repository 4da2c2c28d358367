import CLinux

/// The daemon stays up for months: what a bulk step allocated should not stay
/// resident after it. glibc keeps freed memory in its arenas (up to eight per core);
/// two arenas and a trim after each bulk step keep an idle daemon near its live data.
enum MemoryTrim {
    /// At start, before the threads are made.
    static func limitArenas() {
        accord_malloc_arena_max(2)
    }

    static func returnFreedMemory() {
        accord_malloc_trim()
    }
}
