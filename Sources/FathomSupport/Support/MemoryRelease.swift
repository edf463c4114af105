import FathomStore

/// Hands memory freed by a finished phase back to the system.
///
/// glibc keeps freed memory in per-thread arenas for reuse; after a parallel phase (ingest, the
/// hunt) those arenas hold tens of megabytes the next phase, on other threads, does not reuse.
/// The same goes for the inflated-column mappings kept for reuse within a phase.
/// Trimming them keeps the resident set of a long run near what the current phase needs.
/// `malloc_trim` is looked up at run time (it is glibc's, not in the module Swift imports);
/// elsewhere this does nothing.
package enum MemoryRelease {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim = CLibrary.function("malloc_trim", as: Trim.self)

    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    private static let option = CLibrary.function("mallopt", as: Option.self)

    /// Sets the process's allocator to keep freed memory for reuse: blocks up to 8 MB come from the
    /// heap instead of a mapping of their own, and the heap's top is handed back only past 16 MB
    /// free (`mallopt`'s `M_MMAP_THRESHOLD` and `M_TRIM_THRESHOLD`; glibc's defaults start at
    /// 128 KB and move). A segment's scan and a segment's build allocate and free buffers of
    /// megabytes each time; given back and taken again, every page of them was a fault and a
    /// zeroed page (100,000 faults, a tenth of an every-rule hunt's CPU on the 4 GB
    /// high-cardinality store; 57,000 with this). Measured alternated against glibc's defaults
    /// (seven runs each): every-rule hunt at 4 GB 2.58 against 2.69 core-s, 1 GB ingest 3.78
    /// against 3.87; peak RSS +5 MB (hunt) and +13 MB (ingest), sweeps unchanged (first 181 MB,
    /// nightly 121 MB). A 64 MB trim threshold was no faster and held 20–40 MB more in a sweep.
    /// ``afterPhase()`` still trims between phases. Call once, first thing.
    package static func keepFreedMemory() {
        _ = option?(-3, 8 << 20)  // M_MMAP_THRESHOLD
        _ = option?(-1, 16 << 20)  // M_TRIM_THRESHOLD
    }

    package static func afterPhase() {
        InflatedMemory.releaseIdle()
        _ = trim?(0)
    }

    /// ``afterPhase()`` between the rules of one hunt: the heap is trimmed, the inflated-column
    /// mappings stay for the next rule, which reads the same columns (at most 64 MB).
    package static func afterRule() {
        _ = trim?(0)
    }
}
