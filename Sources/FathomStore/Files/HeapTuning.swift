/// How the process's allocator hands memory back to the kernel, set once at start-up.
///
/// glibc's defaults are tuned for long-lived servers: a free of more than 128 KB — growing to a
/// dynamic threshold — goes back to the kernel with `munmap`, and the top of the heap is trimmed
/// when 128 KB are free. An ingest grows column buffers of megabytes for every archive and frees
/// them when the archive's last segment is written; with the defaults each archive maps, faults
/// in page by page (a zeroed page per 4 KB) and unmaps them again, and the kernel's page-fault
/// path took a tenth of an ingest's CPU time. Here buffers up to 32 MB (glibc's largest mmap
/// threshold) come from the heap, and freed memory stays with the process for the next archive:
/// the peak resident set is unchanged (it is set by the largest archive's buffers), the faults
/// and the zeroing go.
///
/// Elsewhere (macOS, musl) nothing is done: their allocators keep freed memory already.
public enum HeapTuning {
    /// Buffers up to this size come from the heap rather than their own mapping.
    public static let mmapThreshold = 32 << 20
    /// Free memory at the top of the heap kept before it is returned.
    public static let trimThreshold = 1 << 30

    /// Applies the settings; call once, before the work starts. Returns whether the allocator
    /// took them.
    @discardableResult
    public static func apply() -> Bool {
        // glibc's mallopt; M_MMAP_THRESHOLD (-3) also turns off its dynamic threshold,
        // M_TRIM_THRESHOLD is -1.
        guard let mallopt = CLibrary.function("mallopt", as: Mallopt.self) else { return false }
        let mapped = mallopt(-3, Int32(mmapThreshold)) == 1
        let trimmed = mallopt(-1, Int32(trimThreshold)) == 1
        return mapped && trimmed
    }

    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
}
