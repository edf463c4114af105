#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory mapping of a whole file.
///
/// Evidence is never written: the file is opened `O_RDONLY` and mapped `PROT_READ`, `MAP_PRIVATE`.
/// The mapping lives as long as this object; views lent by ``withBytes(_:)`` must not outlive it.
/// An empty file has no mapping and lends an empty view.
public final class FileMapping: @unchecked Sendable {
    public let path: String
    /// The size of the file when it was mapped.
    public let count: Int
    /// Modification time of the file, nanoseconds since the epoch.
    public let modificationTime: Int64
    private let base: UnsafeMutableRawPointer?
    /// False for bytes copied into memory this object allocated (``init(copying:name:)``).
    private let isMapped: Bool

    /// Maps `path` for reading.
    ///
    /// The corresponding C functions are `open(2)`, `fstat(2)` and `mmap(2)`.
    public init(path: String) throws(StoreError) {
        self.path = path
        // O_NONBLOCK: a FIFO put where a file was expected must fail at mmap, not hang in open.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw .io(path: path, operation: "stat", code: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .unsupported(path: path, detail: "is a directory")
        }
        count = Int(info.st_size)
        isMapped = true
        modificationTime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        if count == 0 {
            base = nil
            return
        }
        guard let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw .io(path: path, operation: "mmap", code: errno)
        }
        base = pointer
        _ = madvise(pointer, count, MADV_SEQUENTIAL)
    }

    /// Bytes held in memory instead of mapped from a file: a nested archive decoded out of a
    /// compressed layer, read by the same code as a mapped one. `name` stands in for the path.
    public init(copying bytes: some Collection<UInt8>, name: String) {
        path = name
        count = bytes.count
        modificationTime = 0
        isMapped = false
        guard count > 0 else {
            base = nil
            return
        }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        _ = memory.initializeMemory(as: UInt8.self, from: bytes)
        base = memory.baseAddress
    }

    deinit {
        guard let base else { return }
        if isMapped {
            munmap(base, count)
        } else {
            base.deallocate()
        }
    }

    /// The whole file as a view. The view must not outlive this mapping.
    public var bytes: ByteView { ByteView(unsafeStart: base, count: count) }

    /// Lends the mapped bytes to `body`.
    @inlinable
    public func withBytes<R, E: Error>(_ body: (ByteView) throws(E) -> R) throws(E) -> R {
        try body(bytes)
    }

    /// Tells the kernel that the pages in `range` are no longer needed, so a long sequential read
    /// does not keep a multi-gigabyte archive resident.
    ///
    /// The corresponding C function is `madvise(2)` with `MADV_DONTNEED`.
    public func release(_ range: Range<Int>) {
        guard let base, isMapped else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lower = (Swift.max(0, range.lowerBound) / page) * page
        let upper = (Swift.min(count, range.upperBound) / page) * page
        guard upper > lower else { return }
        _ = madvise(base + lower, upper - lower, MADV_DONTNEED)
    }
}
