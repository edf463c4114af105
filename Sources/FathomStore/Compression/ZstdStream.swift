import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The decompressed bytes of a zstd stream: every frame of a multi-frame file, in order.
///
/// Skippable frames (magic `0x184D2A50`…`0x184D2A5F`) are skipped by libzstd. Damage does not stop
/// the stream:
/// - a frame libzstd rejects yields ``StreamDamage`` naming libzstd's error, then decoding resumes
///   at the next zstd frame magic (`28 B5 2F FD`) after the start of the damaged frame, or the
///   stream ends when there is none;
/// - a final frame cut short yields everything decoded from it, then ``StreamDamage``, then ends.
///
/// Damage offsets are byte offsets in the compressed input: where the damaged frame begins, or
/// for a truncated frame where the input ends. Data of a damaged frame decoded before libzstd
/// noticed the damage (for a checksum mismatch, the whole frame) has already been delivered; how
/// much depends on how the input was chunked.
///
/// ```
///  │ frame 0 │ skippable │ frame 1 │ … │ frame n (maybe truncated) │
///  └─────────┴───────────┴─────────┴───┴───────────────────────────┘
///  each frame: 28 B5 2F FD │ header │ blocks │ optional checksum
/// ```
///
/// Frame numbers in damage details count from 0 and include skippable frames.
///
/// Each yielded view points into one reused output buffer and is valid until the next call to
/// ``next()``. The decompression window is limited to libzstd's default maximum (128 MiB).
///
/// The corresponding C function is `ZSTD_decompressStream`.
///
/// - Complexity: O(*n*) in the compressed plus decompressed size; memory is the output buffer,
///   the lookback of ``CompressedInput`` and libzstd's window.
public final class ZstdStream: ByteStream {
    /// The frame magic number, little-endian on disk.
    static let frameMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]

    /// The name of the input, for damage details.
    public let name: String
    private let input: CompressedInput
    /// nil only when libzstd could not allocate it; ``next()`` then throws.
    private let context: OpaquePointer?
    private let output: UnsafeMutableRawBufferPointer
    private var needsFlush = false
    private var isInFrame = false
    private var isFinished = false
    private var frameIndex = 0
    private var frameStart = 0
    /// The current frame's content size as its header declares it (nil: not declared or not yet
    /// seen), and the bytes decoded from it so far: what a damaged frame lost is the difference.
    private var frameContentSize: Int?
    private var frameProduced = 0
    /// The first bytes of the current frame, gathered (whatever the chunking) until its header
    /// tells the content size; nil once it has told, or has said it does not.
    private var frameHeader: [UInt8]? = []
    private var pending: [StreamDamage] = []

    /// Decompresses `source`, whose bytes are zstd frames.
    ///
    /// The corresponding C functions are `ZSTD_createDCtx` and `ZSTD_DStreamOutSize`.
    public init(source: any ByteStream, name: String) {
        self.name = name
        input = CompressedInput(source: source)
        context = ZSTD_createDCtx()
        let capacity = Swift.max(1 << 18, ZSTD_DStreamOutSize())
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if let context { ZSTD_freeDCtx(context) }
        output.deallocate()
    }

    public var consumedInputBytes: Int { input.source.consumedInputBytes }

    /// The next decompressed bytes or damage, or nil at the end.
    ///
    /// The corresponding C function is `ZSTD_decompressStream`.
    public func next() throws(StoreError) -> StreamEvent? {
        guard let context else { throw .io(path: name, operation: "create a zstd context for", code: ENOMEM) }
        while true {
            switch try input.step(pending: &pending, isFinished: &isFinished, needsFlush: needsFlush, isInUnit: isInFrame,
                                  truncated: { end in
                                      StreamDamage(offset: end, detail: "truncated zstd frame (frame \(frameIndex) starts at byte \(frameStart))",
                                                   lostBytes: frameContentSize.map { Swift.max(0, $0 - frameProduced) })
                                  }) {
            case .yield(let event): return event
            case .decode: break
            }
            let piece = input.available
            if !isInFrame, input.position == frameStart {
                frameContentSize = nil
                frameProduced = 0
                frameHeader = []
            }
            readContentSize(from: piece)
            let (result, consumed, produced) = piece.withUnsafeBytes { bytes in
                var source = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
                var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
                let result = ZSTD_decompressStream(context, &target, &source)
                return (result, source.pos, target.pos)
            }
            input.advance(by: consumed)
            frameProduced += produced
            if ZSTD_isError(result) != 0 {
                let damage = try resynchronise(after: String(cString: ZSTD_getErrorName(result)))
                if produced > 0 {
                    // Blocks flushed before the failing one are good data: deliver them first.
                    pending.insert(damage, at: 0)
                    return .bytes(outputView(produced))
                }
                return .damage(damage)
            }
            needsFlush = produced == output.count
            if result == 0 {
                isInFrame = false
                frameIndex += 1
                frameStart = input.position
            } else if consumed > 0 {
                // A call that only flushed output (or found no input) says nothing about frames:
                // after a frame's end libzstd returns the next header's size, not 0.
                isInFrame = true
            }
            if produced > 0 {
                return .bytes(outputView(produced))
            }
        }
    }

    /// Gathers the current frame's first bytes from `piece` (which starts at the input position)
    /// until the frame header is complete, then records the content size it declares.
    ///
    /// The corresponding C function is `ZSTD_getFrameContentSize`.
    private func readContentSize(from piece: ByteView) {
        guard var header = frameHeader else { return }
        let maximum = 18  // ZSTD_FRAMEHEADERSIZE_MAX
        let skip = header.count - (input.position - frameStart)
        guard skip >= 0, skip < piece.count else { return }
        header += piece[skip..<Swift.min(piece.count, skip + maximum - header.count)].array
        let size = header.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        // ZSTD_CONTENTSIZE_ERROR (0 - 2): the header is not complete yet, or invalid.
        if size == UInt64.max - 1, header.count < maximum {
            frameHeader = header
            return
        }
        frameHeader = nil
        // ZSTD_CONTENTSIZE_UNKNOWN (0 - 1): the frame does not declare its size.
        if size < UInt64.max - 1, size <= UInt64(Int.max) { frameContentSize = Int(size) }
    }

    private func outputView(_ count: Int) -> ByteView {
        ByteView(unsafeStart: output.baseAddress.map { UnsafeRawPointer($0) }, count: count)
    }

    /// Resets the context and moves the input to the next frame magic after the damaged frame's
    /// start; returns the damage to report.
    ///
    /// The corresponding C function is `ZSTD_DCtx_reset`.
    private func resynchronise(after error: String) throws(StoreError) -> StreamDamage {
        let damagedFrame = frameIndex
        let damagedStart = frameStart
        let lost = frameContentSize.map { Swift.max(0, $0 - frameProduced) }
        if let context { _ = ZSTD_DCtx_reset(context, ZSTD_reset_session_only) }
        needsFlush = false
        isInFrame = false
        let outcome: String
        if try input.seek(to: Self.frameMagic, from: damagedStart + 1) {
            frameIndex += 1
            frameStart = input.position
            outcome = "resuming at byte \(input.position)"
        } else {
            isFinished = true
            outcome = "no later frame found"
        }
        return StreamDamage(
            offset: damagedStart,
            detail: "corrupt zstd frame: \(error) (frame \(damagedFrame) starts at byte \(damagedStart); \(outcome))",
            lostBytes: lost, skippedBytes: input.position - damagedStart)
    }
}
