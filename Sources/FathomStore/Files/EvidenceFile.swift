#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An evidence file opened read-only and read with `pread(2)` into buffers this process owns.
///
/// Evidence is not memory-mapped: a mapped file that shrinks while it is read (logrotate's
/// `copytruncate` in a watched folder, a producer rewriting it) kills the reader with `SIGBUS` on
/// the first page past the new end. A read past the end just returns fewer bytes, which
/// ``EvidenceStream`` reports as ``StoreError/changed(path:detail:)``. The copy costs one `memcpy`
/// per byte of the file, which for compressed evidence is a fraction of the decompression work
/// (see the README's "Reliability" section for the measurement).
///
/// The file is opened `O_RDONLY | O_NONBLOCK` (a FIFO put where a file was expected must not hang
/// the open); anything but a regular file is refused.
public final class EvidenceFile: @unchecked Sendable {
    public let path: String
    /// The size when the file was opened; reads never go past it.
    public let count: Int
    /// Modification time when the file was opened, nanoseconds since the epoch.
    public let modificationTime: Int64
    private let descriptor: FileDescriptor

    /// Opens `path` for reading.
    ///
    /// The corresponding C functions are `open(2)` and `fstat(2)`.
    public init(path: String) throws(StoreError) {
        self.path = path
        let descriptor = try FileDescriptor.open(path, O_RDONLY | O_NONBLOCK)
        let status: FileStatus
        do { status = try descriptor.status() } catch {
            descriptor.close()
            throw error
        }
        guard status.kind == .regular else {
            descriptor.close()
            throw .unsupported(path: path, detail: "is a \(status.kind.rawValue), not a regular file")
        }
        self.descriptor = descriptor
        count = status.size
        modificationTime = status.modificationTime
    }

    deinit {
        descriptor.close()
    }

    /// Reads up to `buffer.count` bytes at `offset` (fewer only where the file now ends).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreError) -> Int {
        try descriptor.read(into: buffer, at: offset)
    }

    /// Up to `length` bytes from the start of the file (for samples of unreadable inputs).
    public func head(_ length: Int) -> [UInt8] {
        let wanted = Swift.max(0, Swift.min(length, count))
        var bytes = [UInt8](repeating: 0, count: wanted)
        let read = bytes.withUnsafeMutableBytes { buffer in (try? descriptor.read(into: buffer, at: 0)) ?? 0 }
        bytes.removeLast(wanted - read)
        return bytes
    }

    /// How the file differs from when it was opened, or nil when its size and modification time
    /// are unchanged. A file that only grew is reported too (its first ``count`` bytes were read).
    public func change() -> FileChange? {
        guard let now = try? descriptor.status() else { return .vanished }
        if now.size < count { return .shrank(to: now.size) }
        if now.modificationTime != modificationTime {
            return now.size > count ? .grew(to: now.size) : .modified
        }
        return nil
    }
}

/// How an evidence file changed while it was read.
public enum FileChange: Sendable, Equatable, CustomStringConvertible {
    /// It is shorter than when it was opened.
    case shrank(to: Int)
    /// It is longer, and was written to (an appended log); the first bytes were read as they were.
    case grew(to: Int)
    /// Same size, written to in place.
    case modified
    /// It can no longer be examined.
    case vanished

    public var description: String {
        switch self {
        case let .shrank(size): "it shrank to \(size) bytes"
        case let .grew(size): "it grew to \(size) bytes"
        case .modified: "it was modified in place (same size, new modification time)"
        case .vanished: "it can no longer be examined"
        }
    }
}

/// The bytes of an ``EvidenceFile`` as a ``ByteStream`` of chunks read into one owned buffer,
/// hashed (SHA-256) as they are read: a ``FileReadStream`` whose chunks go through the hasher.
///
/// Each chunk is valid until the next call to ``next()``, as the protocol says. When the file ends
/// before the size it had when opened, ``next()`` throws ``StoreError/changed(path:detail:)``.
///
/// - Complexity: O(*n*) in the file size; memory is one chunk.
public final class EvidenceStream: ByteStream {
    public var file: EvidenceFile { reader.file }
    private let reader: FileReadStream
    private var hasher = SHA256Stream()

    public init(file: EvidenceFile, chunkSize: Int = 4 << 20) {
        reader = FileReadStream(file: file, chunkSize: chunkSize)
    }

    public var consumedInputBytes: Int { reader.consumedInputBytes }

    public func next() throws(StoreError) -> StreamEvent? {
        let event = try reader.next()
        if case let .bytes(view)? = event { hasher.update(view) }
        return event
    }

    /// Reads and hashes the bytes no consumer asked for (after damage that ended the decoding, or
    /// a format read by another reader), then checks that the file did not change while it was
    /// read. Returns the SHA-256 of the file's first ``EvidenceFile/count`` bytes — the whole file
    /// as it was when opened.
    ///
    /// - Throws: ``StoreError/changed(path:detail:)`` when the file shrank or was rewritten; a file
    ///   that only grew is not an error (its first bytes were read as they were; ``EvidenceFile/change()``
    ///   tells the caller).
    public func finish() throws(StoreError) -> String {
        while try next() != nil {}
        if let change = file.change() {
            switch change {
            case .grew: break
            case .shrank, .modified, .vanished:
                throw .changed(path: file.path, detail: "\(change) after \(file.count) bytes were read")
            }
        }
        return hasher.finalize()
    }

}

/// The bytes of an ``EvidenceFile`` read forward with `pread(2)` in chunks into one owned buffer,
/// without hashing (for scanners that may skip most of a file), and skipped by moving the offset.
///
/// When the file ends before the size it had when opened, ``next()`` throws
/// ``StoreError/changed(path:detail:)``.
///
/// - Complexity: O(bytes read); skipped bytes cost nothing. Memory is one chunk.
public final class FileReadStream: SkippingStream {
    public let file: EvidenceFile
    private let buffer: UnsafeMutableRawBufferPointer
    private var offset = 0

    public init(file: EvidenceFile, chunkSize: Int = 1 << 20) {
        self.file = file
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(4096, chunkSize), alignment: 64)
    }

    deinit {
        buffer.deallocate()
    }

    public var consumedInputBytes: Int { offset }

    /// The corresponding C function is `pread(2)`.
    public func next() throws(StoreError) -> StreamEvent? {
        guard offset < file.count else { return nil }
        let wanted = Swift.min(buffer.count, file.count - offset)
        let read = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]), at: offset)
        guard read == wanted else {
            throw .changed(path: file.path, detail: "it ends at byte \(offset + read), but was \(file.count) bytes when it was opened")
        }
        offset += read
        return .bytes(ByteView(unsafeStart: UnsafeRawPointer(buffer.baseAddress), count: read))
    }

    public func skip(_ count: Int) throws(StoreError) -> Int {
        let skipped = Swift.max(0, Swift.min(count, file.count - offset))
        offset += skipped
        return skipped
    }
}
