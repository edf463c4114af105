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
