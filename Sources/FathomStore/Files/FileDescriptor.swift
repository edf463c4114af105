#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file, as the one place that loops over `read(2)`/`write(2)` for interrupted calls and
/// short transfers (after swift-system's `FileDescriptor`, with `writeAll` and `read(into:)`).
///
/// The descriptor is not closed by this value; its owner calls ``close()`` once. Errors name the
/// path and the call: `Cannot write 'segments/x.seg.tmp': No space left on device (errno 28).`
public struct FileDescriptor: Sendable {
    /// The raw descriptor.
    public let rawValue: Int32
    /// The path it was opened with, for error messages.
    public let path: String

    /// Wraps a descriptor the caller opened.
    public init(rawValue: Int32, path: String) {
        self.rawValue = rawValue
        self.path = path
    }

    /// Opens `path` with `flags` (`O_CLOEXEC` is always added).
    ///
    /// The corresponding C function is `open(2)`.
    public static func open(_ path: String, _ flags: Int32, permissions: mode_t = 0o644) throws(StoreError) -> FileDescriptor {
        let fd = Glibc.open(path, flags | O_CLOEXEC, permissions)
        if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
        return FileDescriptor(rawValue: fd, path: path)
    }

    /// Closes the descriptor. The corresponding C function is `close(2)`.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Writes every byte of `bytes`, retrying interrupted calls and continuing after short writes.
    ///
    /// The corresponding C function is `write(2)`.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = Glibc.write(rawValue, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", code: errno)
            }
            if written == 0 { throw .io(path: path, operation: "write", code: EIO) }
            pointer += written
            remaining -= written
        }
    }

    /// Writes every byte of `bytes` (see ``writeAll(_:)-(UnsafeRawBufferPointer)``).
    public func writeAll(_ bytes: [UInt8]) throws(StoreError) {
        let result: Result<Void, StoreError> = bytes.withUnsafeBytes { buffer in
            do throws(StoreError) { try writeAll(buffer) } catch { return .failure(error) }
            return .success(())
        }
        try result.get()
    }

    /// Writes every byte of `view`.
    public func writeAll(_ view: ByteView) throws(StoreError) {
        try view.withUnsafeBytes { (buffer) throws(StoreError) in try writeAll(buffer) }
    }

    /// Reads up to `buffer.count` bytes at `offset`, retrying interrupted calls and continuing
    /// after short reads; returns fewer bytes only at the end of the file.
    ///
    /// The corresponding C function is `pread(2)`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StoreError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let count = pread(rawValue, base + total, buffer.count - total, off_t(offset + total))
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", code: errno)
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Reads up to `buffer.count` bytes at the current position (see ``read(into:at:)``); for
    /// descriptors that cannot seek.
    ///
    /// The corresponding C function is `read(2)`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var total = 0
        while total < buffer.count {
            let count = Glibc.read(rawValue, base + total, buffer.count - total)
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", code: errno)
            }
            if count == 0 { break }
            total += count
        }
        return total
    }

    /// Type, size, modification time and identity of the open file.
    ///
    /// The corresponding C function is `fstat(2)`.
    public func status() throws(StoreError) -> FileStatus {
        var info = stat()
        if fstat(rawValue, &info) != 0 { throw .io(path: path, operation: "stat", code: errno) }
        return FileStatus(info)
    }

    /// Makes the file's data and metadata durable. The corresponding C function is `fsync(2)`.
    public func sync() throws(StoreError) {
        while fsync(rawValue) != 0 {
            if errno == EINTR { continue }
            throw .io(path: path, operation: "fsync", code: errno)
        }
    }
}
