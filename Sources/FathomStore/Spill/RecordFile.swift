import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Variable-length byte records appended to a scratch file and read back by offset: how a run's
/// results that grow with the evidence (a hunt's hits) are kept out of memory until they are written.
///
/// The file is made in a ``SpillDirectory`` and unlinked at once, so it lives as long as this
/// object (its descriptor) and is never left behind, even by a killed process. Appends come from
/// any thread (one `write(2)` of a whole batch under a lock); reads are `pread(2)` and need no lock.
///
/// ```
/// file:  | batch 1 (records end to end) | batch 2 | …
///          ^ offset returned by append    ^ …
/// ```
public final class RecordFile: @unchecked Sendable {
    private let descriptor: FileDescriptor
    private let lock = NSLock()
    /// Bytes appended so far (the offset of the next batch).
    private var end = 0

    /// Makes the scratch file `name` in `spill` (its folder made on first use) and unlinks it.
    public init(spill: SpillDirectory, name: String) throws {
        let path = try spill.path(of: name)
        descriptor = try spill.create(name)
        _ = unlink(path)
    }

    deinit { descriptor.close() }

    /// Bytes in the file.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return end
    }

    /// Appends `bytes` (records end to end) and returns the offset of their first byte, from any thread.
    public func append(_ bytes: [UInt8]) throws -> Int {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Appends the bytes of `buffer` and returns the offset of the first, from any thread.
    public func append(_ buffer: UnsafeRawBufferPointer) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let offset = end
        try descriptor.writeAll(buffer)
        end += buffer.count
        return offset
    }

    /// Fills `buffer` with the bytes at `offset`.
    ///
    /// - Throws: ``StoreError/corrupt(path:offset:detail:)`` when the file ends before the buffer is
    ///   full, or the read's I/O error.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        guard offset >= 0 else {
            throw StoreError.corrupt(path: descriptor.path, offset: offset, detail: "no record here")
        }
        let read = try descriptor.read(into: buffer, at: offset)
        guard read == buffer.count else {
            throw StoreError.corrupt(path: descriptor.path, offset: offset,
                                     detail: "record of \(buffer.count) bytes, file ends after \(read)")
        }
    }

    /// The `count` bytes at `offset`.
    ///
    /// - Throws: ``StoreError/corrupt(path:offset:detail:)`` when the file ends before them (a
    ///   record this object did not write), or the read's I/O error.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard count >= 0 else {
            throw StoreError.corrupt(path: descriptor.path, offset: offset, detail: "no record of \(count) bytes here")
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            initialized = count
        }
    }
}
