import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The decompressed bytes of a gzip stream: every member of a multi-member file, in order.
///
/// Zero bytes between or after members (padding written by tape tools and some loggers) are
/// skipped. Damage does not stop the stream:
/// - a member zlib rejects yields ``StreamDamage`` (`corrupt gzip member: <zlib message>`), then
///   decoding resumes at the next gzip header (`1F 8B 08`) after the start of the damaged member,
///   or the stream ends when there is none;
/// - a final member cut short yields everything decoded from it, then ``StreamDamage``, then ends.
///
/// Damage offsets are byte offsets in the compressed input: where the damaged member begins, or
/// for a truncated member where the input ends. A member's data is delivered as it is inflated,
/// so when its CRC-32 or length check fails at its end the damage follows its data.
///
/// ```
///  │ member 0 │ member 1 │ … │ 00 00 … (padding) │
///  └──────────┴──────────┴───┴───────────────────┘
///  each member: 1F 8B 08 flags mtime xfl os │ [extra] [name] [comment] [hcrc] │ deflate │ crc32 isize
/// ```
///
/// Each yielded view points into one reused output buffer and is valid until the next call to
/// ``next()``.
///
/// The corresponding C function is `inflate`.
///
/// - Complexity: O(*n*) in the compressed plus decompressed size; memory is the output buffer,
///   the lookback of ``CompressedInput`` and zlib's 32 KiB window.
public final class GzipStream: ByteStream {
    /// The start of every gzip member header: magic and the deflate method.
    static let memberMagic: [UInt8] = [0x1F, 0x8B, 0x08]

    /// The name of the input, for damage details and errors.
    public let name: String
    private let input: CompressedInput
    /// Heap-allocated because zlib keeps a pointer back to its `z_stream`, which must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let isInitialised: Bool
    private let output: UnsafeMutableRawBufferPointer
    private var needsFlush = false
    private var isInMember = false
    private var isFinished = false
    private var memberIndex = 0
    private var memberStart = 0
    /// Bytes inflated from the current member so far.
    private var memberProduced = 0
    private var pending: [StreamDamage] = []

    /// Decompresses `source`, whose bytes are gzip members.
    ///
    /// The corresponding C function is `inflateInit2` (called as `inflateInit2_`), with gzip-only
    /// window bits (16 + 15).
    public init(source: any ByteStream, name: String) {
        self.name = name
        input = CompressedInput(source: source)
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        isInitialised = inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    }

    deinit {
        if isInitialised { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    public var consumedInputBytes: Int { input.source.consumedInputBytes }

    /// The next decompressed bytes or damage, or nil at the end.
    ///
    /// The corresponding C functions are `inflate` and `inflateReset`.
    public func next() throws(StoreError) -> StreamEvent? {
        guard isInitialised else { throw .io(path: name, operation: "initialise zlib for", code: ENOMEM) }
        while true {
            switch try input.step(pending: &pending, isFinished: &isFinished, needsFlush: needsFlush, isInUnit: isInMember,
                                  truncated: { end in
                                      StreamDamage(offset: end, detail: "truncated gzip member (member \(memberIndex) starts at byte \(memberStart))")
                                  }) {
            case .yield(let event): return event
            case .decode: break
            }
            if !isInMember, !needsFlush {
                // Between members: skip zero padding; anything else starts the next member.
                let piece = input.available
                var zeros = 0
                while zeros < piece.count, piece[zeros] == 0 { zeros += 1 }
                input.advance(by: zeros)
                if input.isExhausted { continue }
                isInMember = true
                memberStart = input.position
                memberProduced = 0
            }
            let piece = input.available
            let count = Swift.min(piece.count, Int(UInt32.max))
            let (status, consumed, produced) = piece.withUnsafeBytes { bytes in
                stream.pointee.next_in = bytes.baseAddress.map {
                    UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
                }
                stream.pointee.avail_in = uInt(count)
                stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(output.count)
                let status = inflate(stream, Z_NO_FLUSH)
                let consumed = count - Int(stream.pointee.avail_in)
                let produced = output.count - Int(stream.pointee.avail_out)
                stream.pointee.next_in = nil
                return (status, consumed, produced)
            }
            input.advance(by: consumed)
            memberProduced += produced
            switch status {
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress was possible; more input or output space is needed.
                needsFlush = produced == output.count
            case Z_STREAM_END:
                needsFlush = false
                isInMember = false
                memberIndex += 1
                memberStart = input.position
                _ = inflateReset(stream)
            case Z_MEM_ERROR:
                throw .io(path: name, operation: "inflate", code: ENOMEM)
            default:
                // Z_DATA_ERROR (and Z_NEED_DICT / Z_STREAM_ERROR, which gzip data cannot cause).
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                let damage = try resynchronise(after: message)
                if produced > 0 {
                    pending.insert(damage, at: 0)
                    return .bytes(outputView(produced))
                }
                return .damage(damage)
            }
            if produced > 0 { return .bytes(outputView(produced)) }
        }
    }

    private func outputView(_ count: Int) -> ByteView {
        ByteView(unsafeStart: output.baseAddress.map { UnsafeRawPointer($0) }, count: count)
    }

    /// Resets zlib and moves the input to the next member header after the damaged member's
    /// start; returns the damage to report.
    ///
    /// The corresponding C function is `inflateReset`.
    private func resynchronise(after message: String) throws(StoreError) -> StreamDamage {
        let damagedMember = memberIndex
        let damagedStart = memberStart
        let produced = memberProduced
        _ = inflateReset(stream)
        needsFlush = false
        isInMember = false
        let outcome: String
        var lost: Int?
        if try input.seek(to: Self.memberMagic, from: damagedStart + 1) {
            memberIndex += 1
            memberStart = input.position
            memberProduced = 0
            outcome = "resuming at byte \(input.position)"
            lost = declaredSize(endingAt: input.position, start: damagedStart).map { Swift.max(0, $0 - produced) }
        } else {
            isFinished = true
            outcome = "no later member found"
        }
        return StreamDamage(
            offset: damagedStart,
            detail: "corrupt gzip member: \(message) (member \(damagedMember) starts at byte \(damagedStart); \(outcome))",
            lostBytes: lost, skippedBytes: input.position - damagedStart)
    }

    /// The ISIZE trailer (uncompressed size mod 2³²) of a member that ends at `end`, when it is
    /// plausible: deflate cannot expand more than about 1,032 times.
    private func declaredSize(endingAt end: Int, start: Int) -> Int? {
        guard end - start >= 18 else { return nil }
        var size = 0
        for index in 0..<4 {
            guard let byte = input.byte(at: end - 4 + index) else { return nil }
            size |= Int(byte) << (8 * index)
        }
        return size <= (end - start) * 1032 ? size : nil
    }
}
