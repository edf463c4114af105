import CBzip2
import CLzma
import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A compressed format ``CodecStream`` decodes: the wrappers model files hide in (a pickle saved
/// through `gzip.open`, `bz2.open`, `lzma.open`; `joblib.dump(…, compress=…)`; deflated zip members).
public enum Codec: String, Sendable, CaseIterable {
    /// bzip2 (`BZh1`…`BZh9`), one or more concatenated streams. libbz2.
    case bzip2
    /// xz (`FD 37 7A 58 5A 00`), one or more concatenated streams. liblzma.
    case xz
    /// The legacy `.lzma` ("LZMA alone") format joblib writes for `compress='lzma'`. liblzma.
    case lzma
    /// A zlib stream (RFC 1950), as joblib writes for `compress=True`. zlib.
    case zlib
    /// Raw deflate (RFC 1951), as zip members store it. zlib.
    case deflate

    /// What ``sniff(_:)`` needs to see.
    public static let sniffLength = 13

    /// The codec whose magic `head` starts with, if any. Raw deflate has no magic and is never
    /// returned; a zlib header is accepted only with a 32 KiB window and valid check bits, and an
    /// `.lzma` header only as Python's `lzma` module writes it (properties `5D`, a rounded
    /// dictionary size, an unknown length), since neither format has a real magic number — a
    /// protocol 1 pickle starting with `]` (`5D`) is not taken for one.
    public static func sniff(_ bytes: some Collection<UInt8>) -> Codec? {
        let head = Array(bytes.prefix(sniffLength))
        if head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .xz }
        if head.count >= 4, head.starts(with: Array("BZh".utf8)), (0x31...0x39).contains(head[3]) { return .bzip2 }
        // zlib: only the 32 KiB window every zlib writer uses (CMF 0x78). Smaller windows are
        // legal but unused, and a CMF of 0x28 would take protocol 0 pickles starting `(S` for zlib.
        if head.count >= 2, head[0] == 0x78, (0x78 * 256 + Int(head[1])) % 31 == 0, head[1] & 0x20 == 0 { return .zlib }
        if head.count >= 13, head[0] == 0x5D, head[5..<13].allSatisfy({ $0 == 0xFF }) {
            // lc=3 lp=0 pb=2 (0x5D) and an unknown length, as Python's lzma module and joblib write
            // it; the dictionary size a power of two or three times one, as encoders round it.
            var dictionary = 0
            for index in 0..<4 { dictionary |= Int(head[1 + index]) << (8 * index) }
            let isPower = dictionary & (dictionary - 1) == 0
            let isThreeHalves = dictionary % 3 == 0 && (dictionary / 3) & (dictionary / 3 - 1) == 0
            if dictionary >= 4096, isPower || isThreeHalves { return .lzma }
        }
        return nil
    }
}

/// The decoded bytes of a bzip2, xz, `.lzma`, zlib or raw deflate stream read from another
/// ``ByteStream``, produced as they are decoded (memory is one 1 MiB output buffer plus the codec's
/// own state).
///
/// Concatenated bzip2 and xz streams are all decoded. Damage ends the stream: a corrupt or cut
/// stream yields what was decoded, then one ``StreamDamage``, then nil. Bytes after the end of the
/// last stream are not decoded; their count is in ``trailingBytes``.
///
/// The decoder's memory is bounded: xz and `.lzma` decoders are given a memory limit
/// (``memoryLimit``), so a stream that declares a huge dictionary is refused as damage instead of
/// allocating it (a decompression bomb of another kind).
///
/// The corresponding C functions are `BZ2_bzDecompress` (libbz2), `lzma_code` (liblzma) and
/// `inflate` (zlib).
///
/// - Complexity: O(*n*) in the compressed plus decoded size.
public final class CodecStream: ByteStream {
    public let codec: Codec
    public let name: String
    /// The most memory the xz and `.lzma` decoders may allocate.
    public static let memoryLimit: UInt64 = 256 << 20

    private let source: any ByteStream
    private var input = ByteView.empty
    private var inputIndex = 0
    private var isSourceFinished = false
    private var isFinished = false
    private var consumed = 0
    /// Bytes of the input left after the end of the last stream.
    public private(set) var trailingBytes = 0
    private let output: UnsafeMutableRawBufferPointer
    private var engine: Engine

    private enum Engine {
        case zlib(UnsafeMutablePointer<z_stream>, raw: Bool)
        case bzip2(UnsafeMutablePointer<bz_stream>)
        case lzma(UnsafeMutablePointer<lzma_stream>, alone: Bool)
        case failed(String)
    }

    public init(source: any ByteStream, codec: Codec, name: String) {
        self.source = source
        self.codec = codec
        self.name = name
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        engine = .failed("not initialised")
        engine = Self.start(codec)
    }

    deinit {
        Self.stop(engine)
        output.deallocate()
    }

    public var consumedInputBytes: Int { source.consumedInputBytes }

    /// The corresponding C functions are `inflateInit2_`, `BZ2_bzDecompressInit`,
    /// `lzma_stream_decoder` and `lzma_alone_decoder`.
    private static func start(_ codec: Codec) -> Engine {
        switch codec {
        case .zlib, .deflate:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let bits: Int32 = codec == .zlib ? MAX_WBITS : -MAX_WBITS
            guard inflateInit2_(stream, bits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                return .failed("zlib could not be initialised")
            }
            return .zlib(stream, raw: codec == .deflate)
        case .bzip2:
            let stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
            stream.initialize(to: bz_stream())
            guard BZ2_bzDecompressInit(stream, 0, 0) == BZ_OK else {
                stream.deallocate()
                return .failed("libbz2 could not be initialised")
            }
            return .bzip2(stream)
        case .xz, .lzma:
            let stream = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)
            stream.initialize(to: lzma_stream())
            // 0x08 is LZMA_CONCATENATED (a macro Swift does not import): decode every stream of the file.
            let status = codec == .xz ? lzma_stream_decoder(stream, memoryLimit, 0x08)
                : lzma_alone_decoder(stream, memoryLimit)
            guard status == LZMA_OK else {
                stream.deallocate()
                return .failed("liblzma could not be initialised (status \(status.rawValue))")
            }
            return .lzma(stream, alone: codec == .lzma)
        }
    }

    /// The corresponding C functions are `inflateEnd`, `BZ2_bzDecompressEnd` and `lzma_end`.
    private static func stop(_ engine: Engine) {
        switch engine {
        case let .zlib(stream, _):
            inflateEnd(stream)
            stream.deallocate()
        case let .bzip2(stream):
            BZ2_bzDecompressEnd(stream)
            stream.deallocate()
        case let .lzma(stream, _):
            lzma_end(stream)
            stream.deallocate()
        case .failed:
            break
        }
    }

    private enum Fill {
        case ready
        case end
        case damage(StreamDamage)
    }

    /// Makes `input` hold unread bytes, pulling the next chunk from the source when needed.
    private func fill() throws(StoreError) -> Fill {
        while inputIndex >= input.count {
            if isSourceFinished { return .end }
            switch try source.next() {
            case nil:
                isSourceFinished = true
                input = .empty
                inputIndex = 0
                return .end
            case let .damage(damage)?:
                return .damage(damage)
            case let .bytes(view)?:
                input = view
                inputIndex = 0
            }
        }
        return .ready
    }

    private func damage(_ detail: String) -> StreamEvent {
        isFinished = true
        return .damage(StreamDamage(offset: consumed, detail: "\(detail) (\(codec.rawValue) stream '\(name)')"))
    }

    private func view(_ count: Int) -> StreamEvent {
        .bytes(ByteView(unsafeStart: output.baseAddress.map { UnsafeRawPointer($0) }, count: count))
    }

    public func next() throws(StoreError) -> StreamEvent? {
        guard !isFinished else { return nil }
        if case let .failed(reason) = engine { return damage(reason) }
        while true {
            if case let .damage(sourceDamage) = try fill() {
                isFinished = true
                return .damage(sourceDamage)
            }
            let atEnd = isSourceFinished
            let piece = input[inputIndex..<input.count]
            let (status, used, produced) = step(piece, finishing: atEnd)
            inputIndex += used
            consumed += used
            switch status {
            case .progress:
                if produced > 0 { return view(produced) }
                if atEnd { return damage("truncated stream") }
            case .streamEnd:
                // Another stream may follow (bzip2); xz handles concatenation itself.
                if case let .bzip2(stream) = engine, try hasMoreInput(startingWith: Array("BZh".utf8)) {
                    BZ2_bzDecompressEnd(stream)
                    stream.initialize(to: bz_stream())
                    if BZ2_bzDecompressInit(stream, 0, 0) != BZ_OK {
                        stream.deallocate()
                        engine = .failed("libbz2 could not be initialised")
                    }
                    if produced > 0 { return view(produced) }
                    continue
                }
                isFinished = true
                trailingBytes = input.count - inputIndex
                while case let .bytes(rest)? = try source.next() { trailingBytes += rest.count }
                return produced > 0 ? view(produced) : nil
            case let .corrupt(message):
                if produced > 0 {
                    // Deliver what was decoded; the damage is reported on the next call. The
                    // decoder is released now (its state is useless after the damage).
                    Self.stop(engine)
                    engine = .failed(message)
                    return view(produced)
                }
                return damage(message)
            }
        }
    }

    /// Whether unread input remains and starts with `magic` (checked on the bytes at hand: a
    /// magic cut by a chunk boundary counts as a match, and the decoder then judges the rest).
    private func hasMoreInput(startingWith magic: [UInt8]) throws(StoreError) -> Bool {
        guard case .ready = try fill() else { return false }
        let rest = input[inputIndex..<input.count]
        return rest.starts(with: magic.prefix(Swift.min(magic.count, rest.count)))
    }

    private enum Status {
        case progress
        case streamEnd
        case corrupt(String)
    }

    /// Runs the codec once over `piece` into the output buffer.
    ///
    /// The corresponding C functions are `inflate`, `BZ2_bzDecompress` and `lzma_code`.
    private func step(_ piece: ByteView, finishing: Bool) -> (Status, Int, Int) {
        let count = Swift.min(piece.count, Int(UInt32.max))
        return piece.withUnsafeBytes { bytes -> (Status, Int, Int) in
            switch engine {
            case let .zlib(stream, raw):
                stream.pointee.next_in = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
                stream.pointee.avail_in = uInt(count)
                stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(output.count)
                let result = inflate(stream, Z_NO_FLUSH)
                let used = count - Int(stream.pointee.avail_in)
                let produced = output.count - Int(stream.pointee.avail_out)
                stream.pointee.next_in = nil
                switch result {
                case Z_OK, Z_BUF_ERROR: return (.progress, used, produced)
                case Z_STREAM_END: return (.streamEnd, used, produced)
                default:
                    let message = stream.pointee.msg.map { String(cString: $0) } ?? "status \(result)"
                    return (.corrupt("corrupt \(raw ? "deflate" : "zlib") data: \(message)"), used, produced)
                }
            case let .bzip2(stream):
                stream.pointee.next_in = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: CChar.self)) }
                stream.pointee.avail_in = UInt32(count)
                stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: CChar.self)
                stream.pointee.avail_out = UInt32(output.count)
                let result = BZ2_bzDecompress(stream)
                let used = count - Int(stream.pointee.avail_in)
                let produced = output.count - Int(stream.pointee.avail_out)
                stream.pointee.next_in = nil
                switch result {
                case BZ_OK: return (.progress, used, produced)
                case BZ_STREAM_END: return (.streamEnd, used, produced)
                default: return (.corrupt("corrupt bzip2 data (libbz2 status \(result))"), used, produced)
                }
            case let .lzma(stream, _):
                stream.pointee.next_in = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_in = count
                stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_out = output.count
                let result = lzma_code(stream, finishing ? LZMA_FINISH : LZMA_RUN)
                let used = count - stream.pointee.avail_in
                let produced = output.count - stream.pointee.avail_out
                stream.pointee.next_in = nil
                switch result {
                case LZMA_OK, LZMA_BUF_ERROR: return (.progress, used, produced)
                case LZMA_STREAM_END: return (.streamEnd, used, produced)
                case LZMA_MEMLIMIT_ERROR:
                    return (.corrupt("refused: the stream needs more than \(Self.memoryLimit >> 20) MiB of decoder memory"), used, produced)
                default: return (.corrupt("corrupt \(codec.rawValue) data (liblzma status \(result.rawValue))"), used, produced)
                }
            case let .failed(reason):
                return (.corrupt(reason), 0, 0)
            }
        }
    }
}

/// A ``ByteStream`` over bytes this process owns: a copy of an array, or a range of a
/// ``FileMapping`` whose pages are released as they are passed (so a long member read from a
/// multi-gigabyte archive does not stay resident).
public final class OwnedBytesStream: ByteStream {
    private let mapping: FileMapping
    private let range: Range<Int>
    private let chunkSize: Int
    private var offset: Int

    /// The bytes of `range` in `mapping` (clamped to the mapping).
    public init(mapping: FileMapping, range: Range<Int>, chunkSize: Int = 4 << 20) {
        self.mapping = mapping
        let lower = Swift.max(0, Swift.min(range.lowerBound, mapping.count))
        self.range = lower..<Swift.max(lower, Swift.min(range.upperBound, mapping.count))
        self.chunkSize = Swift.max(1, chunkSize)
        offset = self.range.lowerBound
    }

    /// A copy of `bytes`.
    public convenience init(copying bytes: some Collection<UInt8>, name: String = "(bytes)") {
        let mapping = FileMapping(copying: bytes, name: name)
        self.init(mapping: mapping, range: 0..<mapping.count)
    }

    public var consumedInputBytes: Int { offset - range.lowerBound }

    public func next() throws(StoreError) -> StreamEvent? {
        guard offset < range.upperBound else { return nil }
        let end = Swift.min(range.upperBound, offset + chunkSize)
        if offset - range.lowerBound >= chunkSize { mapping.release((offset - chunkSize)..<offset) }
        let view = mapping.bytes[offset..<end]
        offset = end
        return .bytes(view)
    }
}

extension OwnedBytesStream: SkippingStream {
    public func skip(_ count: Int) throws(StoreError) -> Int {
        let skipped = Swift.max(0, Swift.min(count, range.upperBound - offset))
        offset += skipped
        return skipped
    }
}
