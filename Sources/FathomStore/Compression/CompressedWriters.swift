import CZlib
import CZstd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Lends the bytes of `bytes` to `body`, keeping `body`'s typed error (the standard library's
/// `withUnsafeBytes` only rethrows untyped). The pointer must not escape `body`.
@inline(__always)
func withBytes(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) {
    let result: Result<Void, StoreError> = bytes.withUnsafeBytes { buffer in
        do throws(StoreError) {
            try body(buffer)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
    try result.get()
}

/// Something that takes bytes in order: a file, a compressor, a tar member.
///
/// Sinks are single-owner and not thread-safe.
public protocol ByteSink: AnyObject {
    /// Appends `bytes` to the sink.
    func write(_ bytes: [UInt8]) throws(StoreError)
    /// Flushes and closes the sink; further writes are programmer errors.
    func close() throws(StoreError)
}

/// An output file written with `write(2)`, created or truncated on open.
public final class PlainFileWriter: ByteSink {
    public let path: String
    private var fd: Int32
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    /// Creates (or truncates) `path` for writing, mode 0644.
    ///
    /// The corresponding C function is `open(2)` with `O_CREAT | O_TRUNC`.
    public init(path: String) throws(StoreError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
    }

    deinit {
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    public func write(_ bytes: [UInt8]) throws(StoreError) {
        try withBytes(bytes) { (buffer: UnsafeRawBufferPointer) throws(StoreError) in
            try writeRaw(buffer)
        }
    }

    func writeRaw(_ buffer: UnsafeRawBufferPointer) throws(StoreError) {
        precondition(fd >= 0, "write after close")
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", code: errno)
            }
            remaining -= written
            base += written
            bytesWritten += written
        }
    }

    public func close() throws(StoreError) {
        guard fd >= 0 else { return }
        let result = Glibc.close(fd)
        fd = -1
        if result != 0 { throw .io(path: path, operation: "close", code: errno) }
    }
}

/// Writes a zstd file made of several independent frames: a new frame starts once the current one
/// holds at least `frameSize` uncompressed bytes (checked at the end of each `write`, so a frame
/// never splits a caller's chunk — callers that write whole lines get frames that end on lines).
///
/// Each frame carries a content checksum. Concatenating two such files gives a valid multi-frame
/// file, which is how parallel producers assemble one archive from parts.
///
/// The corresponding C functions are `ZSTD_createCCtx`, `ZSTD_CCtx_setParameter` and
/// `ZSTD_compressStream2`.
public final class ZstdFileWriter: ByteSink {
    public let path: String
    public let frameSize: Int
    private let file: PlainFileWriter
    private let context: OpaquePointer
    private var output: [UInt8]
    private var frameBytes = 0
    private var isClosed = false
    /// Uncompressed bytes written so far.
    public private(set) var uncompressedBytes = 0
    /// Frames completed so far.
    public private(set) var framesWritten = 0

    /// Opens `path` for writing at compression `level` (1–19), one frame per `frameSize` bytes.
    public init(path: String, level: Int32 = 3, frameSize: Int = 4 << 20) throws(StoreError) {
        self.path = path
        self.frameSize = Swift.max(1, frameSize)
        guard let context = ZSTD_createCCtx() else {
            throw .io(path: path, operation: "ZSTD_createCCtx", code: ENOMEM)
        }
        self.context = context
        do {
            file = try PlainFileWriter(path: path)
        } catch {
            ZSTD_freeCCtx(context)
            throw error
        }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    public func write(_ bytes: [UInt8]) throws(StoreError) {
        precondition(!isClosed, "write after close")
        guard !bytes.isEmpty else { return }
        try withBytes(bytes) { (buffer: UnsafeRawBufferPointer) throws(StoreError) in
            try compress(buffer, directive: ZSTD_e_continue)
        }
        frameBytes += bytes.count
        uncompressedBytes += bytes.count
        if frameBytes >= frameSize { try endFrame() }
    }

    /// Ends the current frame now (if it holds anything), so the next write starts a new one.
    public func endFrame() throws(StoreError) {
        guard frameBytes > 0 else { return }
        try compress(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_end)
        frameBytes = 0
        framesWritten += 1
    }

    public func close() throws(StoreError) {
        guard !isClosed else { return }
        try endFrame()
        isClosed = true
        try file.close()
    }

    private func compress(_ buffer: UnsafeRawBufferPointer, directive: ZSTD_EndDirective) throws(StoreError) {
        var input = ZSTD_inBuffer(src: buffer.baseAddress, size: buffer.count, pos: 0)
        while true {
            let (remaining, produced) = output.withUnsafeMutableBytes { out -> (Int, Int) in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let result = ZSTD_compressStream2(context, &outBuffer, &input, directive)
                return (result, outBuffer.pos)
            }
            if ZSTD_isError(remaining) != 0 {
                let name = String(cString: ZSTD_getErrorName(remaining))
                throw .corrupt(path: path, offset: file.bytesWritten, detail: "zstd compression failed: \(name)")
            }
            if produced > 0 {
                try withBytes(output) { (out: UnsafeRawBufferPointer) throws(StoreError) in
                    try file.writeRaw(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
                }
            }
            let done: Bool
            if directive == ZSTD_e_continue {
                done = input.pos == input.size
            } else {
                done = remaining == 0
            }
            if done { break }
        }
    }
}

/// Writes a gzip file made of several members: a new member starts once the current one holds at
/// least `memberSize` uncompressed bytes (checked at the end of each `write`). `gzip -dc` and every
/// conforming reader return the concatenation of all members.
///
/// The corresponding C functions are `deflateInit2_` (window bits 31: gzip wrapper), `deflate`
/// and `deflateReset`.
public final class GzipFileWriter: ByteSink {
    public let path: String
    public let memberSize: Int
    private let file: PlainFileWriter
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8]
    private var memberBytes = 0
    private var isClosed = false
    /// Uncompressed bytes written so far.
    public private(set) var uncompressedBytes = 0
    /// Members completed so far.
    public private(set) var membersWritten = 0

    /// Opens `path` for writing at zlib `level` (1–9), one member per `memberSize` bytes.
    public init(path: String, level: Int32 = 6, memberSize: Int = 4 << 20) throws(StoreError) {
        self.path = path
        self.memberSize = Swift.max(1, memberSize)
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .io(path: path, operation: "deflateInit2_", code: status == Z_MEM_ERROR ? ENOMEM : EINVAL)
        }
        do {
            file = try PlainFileWriter(path: path)
        } catch {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw error
        }
        output = [UInt8](repeating: 0, count: 256 << 10)
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    public func write(_ bytes: [UInt8]) throws(StoreError) {
        precondition(!isClosed, "write after close")
        guard !bytes.isEmpty else { return }
        try withBytes(bytes) { (buffer: UnsafeRawBufferPointer) throws(StoreError) in
            try deflateAll(buffer, flush: Z_NO_FLUSH)
        }
        memberBytes += bytes.count
        uncompressedBytes += bytes.count
        if memberBytes >= memberSize { try endMember() }
    }

    /// Ends the current member now (if it holds anything), so the next write starts a new one.
    public func endMember() throws(StoreError) {
        guard memberBytes > 0 else { return }
        try deflateAll(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        guard deflateReset(stream) == Z_OK else {
            throw .corrupt(path: path, offset: file.bytesWritten, detail: "deflateReset failed")
        }
        memberBytes = 0
        membersWritten += 1
    }

    public func close() throws(StoreError) {
        guard !isClosed else { return }
        try endMember()
        isClosed = true
        try file.close()
    }

    private func deflateAll(_ buffer: UnsafeRawBufferPointer, flush: Int32) throws(StoreError) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: buffer.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(buffer.count)
        while true {
            let (status, produced) = output.withUnsafeMutableBytes { out -> (Int32, Int) in
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = deflate(stream, flush)
                return (status, out.count - Int(stream.pointee.avail_out))
            }
            if status == Z_STREAM_ERROR {
                throw .corrupt(path: path, offset: file.bytesWritten, detail: "deflate failed (Z_STREAM_ERROR)")
            }
            if produced > 0 {
                try withBytes(output) { (out: UnsafeRawBufferPointer) throws(StoreError) in
                    try file.writeRaw(UnsafeRawBufferPointer(rebasing: out[0..<produced]))
                }
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { break }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                break
            }
        }
        stream.pointee.next_in = nil
    }
}

/// Appends whole files to an already-open sink, in chunks (used to join part files that parallel
/// producers wrote: concatenated zstd frames and gzip members stay valid).
public enum FileConcatenation {
    /// Copies the bytes of `path` to `sink` in 1 MiB chunks.
    ///
    /// The corresponding C functions are `open(2)` and `read(2)`.
    public static func append(contentsOf path: String, to sink: ByteSink) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
        defer { _ = Glibc.close(fd) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", code: errno)
            }
            if count == 0 { break }
            if count == chunk.count {
                try sink.write(chunk)
            } else {
                try sink.write(Array(chunk[0..<count]))
            }
        }
    }

    /// The size of the file at `path`.
    ///
    /// The corresponding C function is `stat(2)`.
    public static func size(of path: String) throws(StoreError) -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw .io(path: path, operation: "stat", code: errno) }
        return Int(info.st_size)
    }
}
