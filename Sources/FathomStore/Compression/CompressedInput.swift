#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The compressed input of a decompressor: pulls chunks from a source stream, lends them to the
/// decompressor without copying, and keeps a bounded tail of recent input so that, after damage,
/// the decompressor can search for the next frame or member from where the damaged one began.
///
/// Offsets are positions in the compressed input (byte 0 is the first byte the source yielded).
///
/// ```
///  lookbackStart          viewStart              end
///   │ lookback (copied)    │ view (source chunk)   │
///   └──────────────────────┴──────────▲───────────┘
///                                 position: next byte to feed
/// ```
///
/// When `position` is inside the lookback (after a resynchronisation that went backwards), the
/// lookback is fed first, then the view.
///
/// - Complexity: each source chunk is lent as is; on every chunk change at most
///   `lookbackCapacity` bytes are copied into the lookback.
final class CompressedInput {
    /// What ``fetch()`` found.
    enum Fetch {
        case bytes
        case damage(StreamDamage)
        case end
    }

    let source: any ByteStream
    /// Offset of the next byte to feed to the decompressor.
    private(set) var position = 0
    private var view = ByteView.empty
    private var viewStart = 0
    private let lookback: UnsafeMutableRawBufferPointer
    private var lookbackCount = 0
    private var lookbackStart = 0
    /// Whether the source has ended.
    private(set) var isSourceFinished = false
    /// Damage from the source met while seeking, to be yielded by the owner.
    var pendingDamage: [StreamDamage] = []

    /// - Parameter lookbackCapacity: how many bytes before the current chunk stay searchable. It
    ///   should exceed the largest amount a decompressor can swallow past a damaged frame header
    ///   (a zstd block is at most 128 KiB, a deflate stored block 64 KiB).
    init(source: any ByteStream, lookbackCapacity: Int = 256 << 10) {
        precondition(lookbackCapacity >= 16, "lookback too small to hold a magic number")
        self.source = source
        lookback = UnsafeMutableRawBufferPointer.allocate(byteCount: lookbackCapacity, alignment: 16)
    }

    deinit {
        lookback.deallocate()
    }

    /// What a decompressor's `next()` does before it decodes: yields queued damage, ends, or
    /// fetches input when everything fed so far is used up.
    enum Step {
        /// `next()` returns this event (nil: the end of the stream).
        case yield(StreamEvent?)
        /// Bytes are available (or a flush is due): decode.
        case decode
    }

    /// The shared first part of `next()` for a decompressor whose frames or members are units:
    /// queued damage first (the decompressor's own, then this input's), then the end, then more
    /// input. At the end of the source inside a unit, yields the damage `truncated` makes of the
    /// offset where the input ends.
    func step(pending: inout [StreamDamage], isFinished: inout Bool, needsFlush: Bool, isInUnit: Bool,
              truncated: (Int) -> StreamDamage) throws(StoreError) -> Step {
        while true {
            if !pending.isEmpty { return .yield(.damage(pending.removeFirst())) }
            if !pendingDamage.isEmpty { return .yield(.damage(pendingDamage.removeFirst())) }
            if isFinished { return .yield(nil) }
            guard isExhausted, !needsFlush else { return .decode }
            switch try fetch() {
            case .bytes:
                continue
            case .damage(let damage):
                return .yield(.damage(damage))
            case .end:
                isFinished = true
                guard isInUnit else { return .yield(nil) }
                return .yield(.damage(truncated(position)))
            }
        }
    }

    /// Offset just past the last byte available without fetching.
    var end: Int { viewStart + view.count }

    /// Whether every available byte has been fed.
    var isExhausted: Bool { position >= end }

    /// The contiguous bytes at `position`; valid until the next ``fetch()`` or ``seek(to:from:)``.
    var available: ByteView {
        if position < viewStart {
            let start = position - lookbackStart
            guard start >= 0 else { return .empty }
            return ByteView(unsafeStart: lookback.baseAddress.map { UnsafeRawPointer($0) + start },
                            count: lookbackCount - start)
        }
        return view[(position - viewStart)..<view.count]
    }

    /// Marks `count` bytes at `position` as fed.
    func advance(by count: Int) {
        position = Swift.min(end, position + Swift.max(0, count))
    }

    /// The byte at input offset `offset`, or nil when it is not held.
    func byte(at offset: Int) -> UInt8? {
        if offset >= viewStart {
            guard offset < end else { return nil }
            return view[offset - viewStart]
        }
        guard offset >= lookbackStart, let base = lookback.baseAddress else { return nil }
        return base.load(fromByteOffset: offset - lookbackStart, as: UInt8.self)
    }

    /// Pulls the next chunk from the source. Only valid once every available byte has been fed.
    ///
    /// The tail of the current chunk is kept in the lookback before the source is asked for more.
    func fetch() throws(StoreError) -> Fetch {
        precondition(position >= end, "fetch with unfed input")
        if isSourceFinished { return .end }
        keepTail()
        while true {
            guard let event = try source.next() else {
                isSourceFinished = true
                return .end
            }
            switch event {
            case .damage(let damage):
                return .damage(damage)
            case .bytes(let bytes):
                if bytes.isEmpty { continue }
                view = bytes
                return .bytes
            }
        }
    }

    /// Moves `position` to the first occurrence of `magic` at or after `offset`, fetching as
    /// needed. Returns false (with `position` at the end) when the source ends first.
    ///
    /// Bytes before the lookback are gone; the search starts no earlier than the lookback.
    /// Source damage met on the way is queued in ``pendingDamage``.
    ///
    /// - Complexity: O(*n*) in the bytes searched, using `memchr` for the first magic byte.
    func seek(to magic: [UInt8], from offset: Int) throws(StoreError) -> Bool {
        precondition(!magic.isEmpty && magic.count <= 16)
        var from = Swift.max(offset, lookbackStart)
        while true {
            if let hit = find(magic, from: from) {
                position = hit
                return true
            }
            from = Swift.max(from, end - (magic.count - 1))
            position = end
            switch try fetch() {
            case .end:
                return false
            case .damage(let damage):
                pendingDamage.append(damage)
            case .bytes:
                break
            }
        }
    }

    /// The offset of the first complete occurrence of `magic` in `[from, end)`.
    private func find(_ magic: [UInt8], from: Int) -> Int? {
        var candidate = Swift.max(from, lookbackStart)
        let first = magic[0]
        while candidate + magic.count <= end {
            // Jump to the next occurrence of the first byte within the current segment.
            if candidate < viewStart {
                let local = candidate - lookbackStart
                let segment = ByteView(unsafeStart: lookback.baseAddress.map { UnsafeRawPointer($0) },
                                       count: lookbackCount)
                guard let index = segment.firstIndex(of: first, from: local) else {
                    candidate = viewStart
                    continue
                }
                candidate = lookbackStart + index
            } else {
                guard let index = view.firstIndex(of: first, from: candidate - viewStart) else { return nil }
                candidate = viewStart + index
            }
            if candidate + magic.count > end { return nil }
            var matches = true
            for (index, expected) in magic.enumerated().dropFirst() where byte(at: candidate + index) != expected {
                matches = false
                break
            }
            if matches { return candidate }
            candidate += 1
        }
        return nil
    }

    /// Appends the current chunk's tail to the lookback, keeping at most its capacity.
    private func keepTail() {
        guard let base = lookback.baseAddress else { return }
        let capacity = lookback.count
        let fromView = Swift.min(view.count, capacity)
        let fromOld = Swift.min(lookbackCount, capacity - fromView)
        if fromOld > 0, fromOld < lookbackCount {
            memmove(base, base + (lookbackCount - fromOld), fromOld)
        }
        if fromView > 0 {
            view[(view.count - fromView)..<view.count].withUnsafeBytes { bytes in
                if let source = bytes.baseAddress {
                    _ = memcpy(base + fromOld, source, fromView)
                }
            }
        }
        lookbackCount = fromOld + fromView
        viewStart = end
        lookbackStart = viewStart - lookbackCount
        view = .empty
    }
}
