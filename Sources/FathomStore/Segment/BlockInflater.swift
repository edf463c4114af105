import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a compressed text column, inflated block by block as rows are read, so a scan
/// that reads a few rows of a segment decompresses a few blocks, not the column.
///
/// Layout of the stored bytes (after the row offsets; SEGMENT-FORMAT.md): block size S (UInt64),
/// block count K (UInt64), K + 1 frame offsets (UInt64, from the first frame), then K zstd frames;
/// block *b* holds bytes `[b·S, min((b+1)·S, B))` of the column. The table and every frame's
/// declared content size are checked when the column is opened (``init``); a frame that still
/// fails to inflate (damage that kept the checksum) leaves its rows empty and is recorded in
/// ``failure``, which ``SegmentReader/verifyChecksums()`` reports.
///
/// The inflated bytes live in one anonymous mapping of B bytes: pages of blocks never read are
/// never touched, and the memory goes back to the system with the reader.
@usableFromInline
final class BlockInflater: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    private let size: Int
    private let byteCount: Int
    private let blockSize: Int
    private let frames: UnsafeRawPointer
    private let frameOffsets: UnsafeRawPointer
    private let blockCount: Int
    private var done: [Bool]
    private let lock = Lock()
    private(set) var failure: String?

    /// Bytes before the frames: size, count and K + 1 offsets.
    static func tableSize(blocks: Int) -> Int { 16 + (blocks + 1) * 8 }

    /// Checks the block table at `payload` (`length` bytes) for `byteCount` inflated bytes; throws
    /// what is wrong as a detail for a corruption error.
    ///
    /// `shuffle`: the values the writer byte-shuffled inside each block (a packed column of
    /// encoding ``SegmentLayout/encodingShuffled``), put back in order as each block is inflated.
    init(payload: UnsafeRawPointer, length: Int, byteCount: Int, shuffle: BlockShuffle? = nil) throws(InflaterError) {
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard length >= 16 else { throw InflaterError(offset: 0, detail: "the block table is cut short") }
        let size = u64(0), count = u64(8)
        guard size >= 1, size <= UInt64(SegmentLayout.maxInflatedText) else {
            throw InflaterError(offset: 0, detail: "block size \(size)")
        }
        let expected = byteCount == 0 ? 0 : (UInt64(byteCount) + size - 1) / size
        guard count == expected, Int(count) <= (length - 16) / 8 - 1 else {
            throw InflaterError(offset: 8, detail: "\(count) blocks for \(byteCount) bytes in blocks of \(size)")
        }
        let blocks = Int(count)
        let table = Self.tableSize(blocks: blocks)
        let framesLength = length - table
        var previous: UInt64 = 0
        for index in 0...blocks {
            let value = u64(16 + index * 8)
            guard (index == 0 ? value == 0 : value > previous), value <= UInt64(framesLength) else {
                throw InflaterError(offset: 16 + index * 8, detail: "frame offset \(index) is \(value)")
            }
            previous = value
        }
        guard previous == UInt64(framesLength) else {
            throw InflaterError(offset: 16 + blocks * 8, detail: "the frames end at \(previous), the column at \(framesLength)")
        }
        let frames = payload + table
        for block in 0..<blocks {
            let start = Int(u64(16 + block * 8)), end = Int(u64(16 + (block + 1) * 8))
            let content = ZSTD_getFrameContentSize(frames + start, end - start)
            let want = min(Int(size), byteCount - block * Int(size))
            guard content == UInt64(want) else {
                throw InflaterError(offset: table + start, detail: "frame \(block) declares \(content) bytes, its block holds \(want)")
            }
        }
        let capacity = InflatedMemory.capacity(for: byteCount)
        guard let mapped = InflatedMemory.shared.take(capacity) else {
            throw InflaterError(offset: 0, detail: "no memory (errno \(errno))")
        }
        bytes = mapped
        self.size = capacity
        self.byteCount = byteCount
        blockSize = Int(size)
        blockCount = blocks
        self.frames = frames
        frameOffsets = payload + 16
        done = Array(repeating: false, count: blocks)
        self.shuffle = shuffle
        hex = nil
    }

    private let shuffle: BlockShuffle?
    /// A hex-packed text column's pattern (``HexText``): its blocks are expanded from the packed
    /// rows at `frames`, not inflated.
    private let hex: HexText.Pattern?

    /// The text bytes of a hex-packed column of `rows` rows (`payload`: the stored column, whose
    /// pattern `hex` is), expanded in blocks of `blockSize` as rows are read.
    init(hex: HexText.Pattern, payload: UnsafeRawPointer, rows: Int, blockSize: Int) throws(InflaterError) {
        let byteCount = rows * hex.length
        let capacity = InflatedMemory.capacity(for: byteCount)
        guard let mapped = InflatedMemory.shared.take(capacity) else {
            throw InflaterError(offset: 0, detail: "no memory (errno \(errno))")
        }
        bytes = mapped
        size = capacity
        self.byteCount = byteCount
        self.blockSize = blockSize
        blockCount = byteCount == 0 ? 0 : (byteCount + blockSize - 1) / blockSize
        frames = payload + hex.rowsStart
        frameOffsets = payload
        done = Array(repeating: false, count: blockCount)
        shuffle = nil
        self.hex = hex
    }

    deinit { InflatedMemory.shared.give(bytes, size) }

    /// Inflates the blocks holding bytes `[start, end)` that are not inflated yet.
    @usableFromInline
    func ensure(_ start: Int, _ end: Int) {
        guard end > start else { return }
        let first = start / blockSize, last = (end - 1) / blockSize
        lock.withLock {
            for block in first...last where !done[block] {
                inflate(block)
                done[block] = true
            }
        }
    }

    /// Inflates every block (for verification).
    func ensureAll() {
        ensure(0, byteCount)
    }

    private func inflate(_ block: Int) {
        if let hex {
            let start = block * blockSize
            hex.expand(start, min(start + blockSize, byteCount), packed: frames.assumingMemoryBound(to: UInt8.self),
                       into: bytes.assumingMemoryBound(to: UInt8.self))
            return
        }
        func offset(_ index: Int) -> Int {
            Int(UInt64(littleEndian: frameOffsets.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
        }
        let want = min(blockSize, byteCount - block * blockSize)
        let start = offset(block), end = offset(block + 1)
        let target = bytes + block * blockSize
        let written: Int
        if let shuffle, shuffle.touches(blockStart: block * blockSize, length: want) {
            // Inflated aside, then the byte planes put back together into the block's place.
            let planes = UnsafeMutableRawPointer.allocate(byteCount: want, alignment: 16)
            defer { planes.deallocate() }
            written = DecompressionContexts.shared.with { context in
                ZSTD_decompressDCtx(context, planes, want, frames + start, end - start)
            }
            if ZSTD_isError(written) == 0, written == want {
                shuffle.unshuffle(block: planes, blockStart: block * blockSize, length: want, into: target)
            }
        } else {
            written = DecompressionContexts.shared.with { context in
                ZSTD_decompressDCtx(context, target, want, frames + start, end - start)
            }
        }
        if ZSTD_isError(written) != 0 || written != want {
            // Damage that kept the checksum: the block reads as zero bytes (its rows empty-ish),
            // and the failure is kept for verification to report.
            memset(bytes + block * blockSize, 0, want)
            if failure == nil {
                failure = "block \(block) does not inflate ("
                    + (ZSTD_isError(written) != 0 ? String(cString: ZSTD_getErrorName(written)) : "\(written) of \(want) bytes") + ")"
            }
        }
    }

    /// The stored bytes of `bytes` (the first `count`) as a block table and frames; empty, with no
    /// error, when the first block does not shrink to `worthIt` of its size or less (the caller
    /// stores the bytes plain).
    ///
    /// `shuffle`: the values to byte-shuffle inside each block before compressing it.
    static func compress(_ bytes: [UInt8], count: Int, blockSize: Int, level: Int32,
                         worthIt: Double = 1, shuffle: BlockShuffle? = nil) -> (data: [UInt8], error: String?) {
        let blocks = count == 0 ? 0 : (count + blockSize - 1) / blockSize
        var out = [UInt8]()
        func put(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt64(blockSize))
        put(UInt64(blocks))
        var frames = [UInt8]()
        var offsets: [UInt64] = [0]
        let context = ZSTD_createCCtx()
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        // Each frame carries a checksum of its content, so damage that kept the column checksum
        // (or a frame inflated from a damaged copy) is caught when the block is inflated.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        var scratch = [UInt8](repeating: 0, count: ZSTD_compressBound(blockSize))
        // A block's byte planes, when it holds shuffled values.
        var planes = [UInt8](repeating: 0, count: shuffle == nil ? 0 : blockSize)
        for block in 0..<blocks {
            let start = block * blockSize, length = min(blockSize, count - start)
            let written = scratch.withUnsafeMutableBytes { output in
                bytes.withUnsafeBytes { input in
                    let source = input.baseAddress! + start
                    guard let shuffle, shuffle.touches(blockStart: start, length: length) else {
                        return ZSTD_compress2(context, output.baseAddress, output.count, source, length)
                    }
                    return planes.withUnsafeMutableBytes { staged in
                        shuffle.shuffle(block: source, blockStart: start, length: length, into: staged.baseAddress!)
                        return ZSTD_compress2(context, output.baseAddress, output.count, staged.baseAddress!, length)
                    }
                }
            }
            if ZSTD_isError(written) != 0 { return ([], String(cString: ZSTD_getErrorName(written))) }
            if block == 0, Double(written) > Double(length) * worthIt { return ([], nil) }
            frames.append(contentsOf: scratch[0..<written])
            offsets.append(UInt64(frames.count))
        }
        for offset in offsets { put(offset) }
        out.append(contentsOf: frames)
        return (out, nil)
    }
}

struct InflaterError: Error {
    var offset: Int
    var detail: String
}

/// Decompression contexts kept for reuse: `ZSTD_decompress` makes and frees a context (over
/// 100 KB) for every call, and a scan inflates a 64 KB block per call, thousands of them.
final class DecompressionContexts: @unchecked Sendable {
    static let shared = DecompressionContexts()
    private let lock = Lock()
    private var idle: [OpaquePointer] = []

    /// Runs `body` with a context no other thread uses meanwhile.
    func with<R>(_ body: (OpaquePointer) -> R) -> R {
        let context = lock.withLock { idle.popLast() } ?? ZSTD_createDCtx()
        guard let context else { fatalError("ZSTD_createDCtx failed: out of memory") }
        defer {
            lock.withLock {
                if idle.count < 16 { idle.append(context) } else { ZSTD_freeDCtx(context) }
            }
        }
        return body(context)
    }
}

/// Anonymous mappings for inflated columns, kept for the next column when let go: a hunt inflates
/// the same columns of the same segments once per rule, and a fresh mapping costs a zero-filled
/// page fault per 4 KB written and an `munmap` at the end (a fifth of a hunt's CPU time was the
/// kernel's). At most ``limit`` bytes wait here; a longer mapping, or one beyond that, is unmapped.
/// A reused mapping holds an earlier column's bytes: an inflater reads only blocks it inflated.
package final class InflatedMemory: @unchecked Sendable {
    static let shared = InflatedMemory(limit: 64 << 20)
    private let lock = Lock()
    private let limit: Int
    private var idle: [(pointer: UnsafeMutableRawPointer, capacity: Int)] = []
    private var idleBytes = 0

    init(limit: Int) { self.limit = limit }

    /// Mappings come in multiples of 1 MiB beyond the first (so one fits columns of similar size)
    /// and whole pages below it.
    static func capacity(for byteCount: Int) -> Int {
        let bytes = max(byteCount, 1)
        let page = 4096, chunk = 1 << 20
        return bytes < chunk ? (bytes + page - 1) / page * page : (bytes + chunk - 1) / chunk * chunk
    }

    /// A mapping of exactly `capacity` bytes (``capacity(for:)``), reused when one waits; nil when
    /// the system has no memory.
    func take(_ capacity: Int) -> UnsafeMutableRawPointer? {
        let reused: UnsafeMutableRawPointer? = lock.withLock {
            guard let index = idle.firstIndex(where: { $0.capacity == capacity }) else { return nil }
            idleBytes -= capacity
            return idle.remove(at: index).pointer
        }
        if let reused { return reused }
        let mapped = mmap(nil, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { return nil }
        return mapped
    }

    /// Lets a mapping from ``take(_:)`` go: kept for reuse within the limit, else unmapped.
    func give(_ pointer: UnsafeMutableRawPointer, _ capacity: Int) {
        let kept: Bool = lock.withLock {
            guard capacity <= limit / 2, idleBytes + capacity <= limit else { return false }
            idle.append((pointer, capacity))
            idleBytes += capacity
            return true
        }
        if !kept { munmap(pointer, capacity) }
    }

    /// Unmaps every waiting mapping (between phases, so a long run's peak is not held).
    package static func releaseIdle() { shared.release() }

    func release() {
        let waiting: [(pointer: UnsafeMutableRawPointer, capacity: Int)] = lock.withLock {
            defer { idle = []; idleBytes = 0 }
            return idle
        }
        for mapping in waiting { munmap(mapping.pointer, mapping.capacity) }
    }
}

/// The byte shuffle of a packed column's values (``SegmentLayout/encodingShuffled``): ranges
/// `[start, end)` of the plain layout hold `width`-byte little-endian values. Inside a block of
/// bytes `[b, b + L)`, the part of a range it holds, `[max(start, b), min(end, b + L))`, keeps its
/// first n = ⌊part / width⌋ values as `width` planes of n bytes — byte 0 of every value, then byte
/// 1, … — in the same place; every other byte of the block stays as it is.
struct BlockShuffle: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        var start: Int
        var end: Int
        var width: Int
    }

    var ranges: [Range]

    /// Calls `body(offset, count, width)` for each range part in the block of `length` bytes at
    /// `blockStart`: the offset in the block of its first value and how many values it shuffles.
    func parts(blockStart: Int, length: Int, _ body: (Int, Int, Int) -> Void) {
        for range in ranges where range.width > 0 {
            let low = max(range.start, blockStart), high = min(range.end, blockStart + length)
            guard high - low >= range.width else { continue }
            body(low - blockStart, (high - low) / range.width, range.width)
        }
    }

    /// Whether any value of the block of `length` bytes at `blockStart` is shuffled.
    func touches(blockStart: Int, length: Int) -> Bool {
        var any = false
        parts(blockStart: blockStart, length: length) { _, _, _ in any = true }
        return any
    }

    /// The block of `length` bytes at `source` as stored: a copy with its range parts shuffled.
    func shuffle(block source: UnsafeRawPointer, blockStart: Int, length: Int, into destination: UnsafeMutableRawPointer) {
        memcpy(destination, source, length)
        parts(blockStart: blockStart, length: length) { offset, count, width in
            Self.shuffle(source + offset, into: destination + offset, count: count, width: width)
        }
    }

    /// The block of `length` bytes at `source` as inflated put back in order at `destination`.
    func unshuffle(block source: UnsafeRawPointer, blockStart: Int, length: Int, into destination: UnsafeMutableRawPointer) {
        memcpy(destination, source, length)
        parts(blockStart: blockStart, length: length) { offset, count, width in
            Self.unshuffle(source + offset, into: destination + offset, count: count, width: width)
        }
    }
    /// Writes `count` values of `width` bytes at `source` as byte planes at `destination`.
    static func shuffle(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, width: Int) {
        transpose(source, into: destination, count: count, width: width, toPlanes: true)
    }

    /// Puts `count` values of `width` bytes stored as byte planes at `source` back in order at
    /// `destination`: the inverse of ``shuffle(_:into:count:width:)``.
    static func unshuffle(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int, width: Int) {
        transpose(source, into: destination, count: count, width: width, toPlanes: false)
    }

    /// `count` values × `width` bytes, from values to planes or back. Eight (or four) values at a
    /// time, their bytes are transposed in registers: row *r* of the block of values from `first`
    /// is the value `first + r` on one side and plane *r* on the other.
    @inline(__always)
    private static func transpose(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, count: Int,
                                  width: Int, toPlanes: Bool) {
        func asValue(_ row: Int, _ first: Int) -> Int { (first + row) * width }
        func asPlane(_ row: Int, _ first: Int) -> Int { row * count + first }
        func from(_ row: Int, _ first: Int) -> Int { toPlanes ? asValue(row, first) : asPlane(row, first) }
        func to(_ row: Int, _ first: Int) -> Int { toPlanes ? asPlane(row, first) : asValue(row, first) }
        /// The values transposed `Rows` at a time; returns how many.
        func inRegisters<Rows: ByteMatrix>(_: Rows.Type) -> Int {
            let size = MemoryLayout<Rows.Word>.size
            var index = 0
            while index + size <= count {
                var rows = Rows { source.loadUnaligned(fromByteOffset: from($0, index), as: Rows.Word.self) }
                rows.transpose()
                rows.store { destination.storeBytes(of: $1, toByteOffset: to($0, index), as: Rows.Word.self) }
                index += size
            }
            return index
        }
        let index = switch width {
        case 8: inRegisters(Rows8.self)
        case 4: inRegisters(Rows4.self)
        default: 0
        }
        // The values left, and every value of another width, a byte at a time.
        let input = source.assumingMemoryBound(to: UInt8.self)
        let out = destination.assumingMemoryBound(to: UInt8.self)
        for value in index..<count {
            for plane in 0..<width {
                let inValues = value * width + plane, inPlanes = plane * count + value
                if toPlanes { out[inPlanes] = input[inValues] } else { out[inValues] = input[inPlanes] }
            }
        }
    }
}

/// Swaps the bits of `a` that `mask << shift` selects with the bits of `b` that `mask` selects:
/// one round of a byte-matrix transpose, on two rows at once.
@inline(__always)
private func maskedSwap<Word: FixedWidthInteger>(_ a: inout Word, _ b: inout Word, _ shift: Word, _ mask: Word) {
    let t = ((a >> shift) ^ b) & mask
    b ^= t
    a ^= t << shift
}

/// A square byte matrix held as one word a row (byte *c* of row *r*, in memory order, is element
/// (r, c)), as many rows as a word has bytes, that transposes itself in registers.
private protocol ByteMatrix {
    associatedtype Word: FixedWidthInteger
    /// Reads row *r* with `load(r)`, a word as stored in memory.
    init(_ load: (Int) -> Word)
    mutating func transpose()
    /// Hands each row, as a memory-order word, to `store(row, word)`.
    func store(_ store: (Int, Word) -> Void)
}

/// Eight words as the rows of an 8 × 8 byte matrix (byte *c* of row *r*, in memory order, is
/// element (r, c)), transposed in three rounds of swaps: bytes, then pairs, then quadruples.
private struct Rows8: ByteMatrix {
    var r: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// Rows read as memory-order words (`load(row)` returns the word as stored).
    @inline(__always)
    init(_ load: (Int) -> UInt64) {
        r = (UInt64(littleEndian: load(0)), UInt64(littleEndian: load(1)), UInt64(littleEndian: load(2)),
             UInt64(littleEndian: load(3)), UInt64(littleEndian: load(4)), UInt64(littleEndian: load(5)),
             UInt64(littleEndian: load(6)), UInt64(littleEndian: load(7)))
    }

    @inline(__always)
    mutating func transpose() {
        let m1: UInt64 = 0x00FF_00FF_00FF_00FF, m2: UInt64 = 0x0000_FFFF_0000_FFFF, m4: UInt64 = 0x0000_0000_FFFF_FFFF
        maskedSwap(&r.0, &r.1, 8, m1); maskedSwap(&r.2, &r.3, 8, m1); maskedSwap(&r.4, &r.5, 8, m1); maskedSwap(&r.6, &r.7, 8, m1)
        maskedSwap(&r.0, &r.2, 16, m2); maskedSwap(&r.1, &r.3, 16, m2); maskedSwap(&r.4, &r.6, 16, m2); maskedSwap(&r.5, &r.7, 16, m2)
        maskedSwap(&r.0, &r.4, 32, m4); maskedSwap(&r.1, &r.5, 32, m4); maskedSwap(&r.2, &r.6, 32, m4); maskedSwap(&r.3, &r.7, 32, m4)
    }

    /// Hands each row, as a memory-order word, to `store(row, word)`.
    @inline(__always)
    func store(_ store: (Int, UInt64) -> Void) {
        store(0, r.0.littleEndian); store(1, r.1.littleEndian); store(2, r.2.littleEndian); store(3, r.3.littleEndian)
        store(4, r.4.littleEndian); store(5, r.5.littleEndian); store(6, r.6.littleEndian); store(7, r.7.littleEndian)
    }
}

/// ``Rows8`` for a 4 × 4 byte matrix in four 32-bit words.
private struct Rows4: ByteMatrix {
    var r: (UInt32, UInt32, UInt32, UInt32)

    @inline(__always)
    init(_ load: (Int) -> UInt32) {
        r = (UInt32(littleEndian: load(0)), UInt32(littleEndian: load(1)), UInt32(littleEndian: load(2)),
             UInt32(littleEndian: load(3)))
    }

    @inline(__always)
    mutating func transpose() {
        maskedSwap(&r.0, &r.1, 8, 0x00FF_00FF); maskedSwap(&r.2, &r.3, 8, 0x00FF_00FF)
        maskedSwap(&r.0, &r.2, 16, 0x0000_FFFF); maskedSwap(&r.1, &r.3, 16, 0x0000_FFFF)
    }

    @inline(__always)
    func store(_ store: (Int, UInt32) -> Void) {
        store(0, r.0.littleEndian); store(1, r.1.littleEndian); store(2, r.2.littleEndian); store(3, r.3.littleEndian)
    }
}
