/// The logical inputs of one evidence file: the entry point of ingest.
///
/// The file is recognised by its magic bytes, never its name:
/// - zstd (`28 B5 2F FD`, or a leading skippable frame `5? 2A 4D 18`) and gzip (`1F 8B`) are
///   decompressed as a stream; a compressed layer inside another is decompressed too (up to
///   ``maxLayers``);
/// - if the (decompressed) data has `ustar` at offset 257 it is read as a tar archive, and each
///   regular member is one input; members compressed with zstd or gzip are decompressed, members
///   that are themselves tar archives are passed on as data;
/// - xz, bzip2, zip, 7z, lz4, rar, lzip and compress files are rejected with
///   ``StoreError/unsupported(path:detail:)``;
/// - anything else is one plain input, the source's chunks passed on without a copy.
///
/// Memory stays bounded whatever the file size: each decompressor holds a 1 MiB output buffer, a
/// 256 KiB lookback and its codec's window; tar members are never buffered.
///
/// - Complexity: O(*n*) in the file size plus the decompressed size, in one pass.
public final class ArchiveInputs {
    /// The most compression layers decompressed in a row (e.g. a `.gz.zst` file is two).
    public static let maxLayers = 3

    /// The name inputs are reported under.
    public let displayName: String
    /// The compressions of the file itself, outermost first.
    public let compressions: [Compression]
    private let base: any ByteStream
    private let tarReader: TarReader?
    private var single: (any ByteStream)?

    /// Recognises the file's compression and container.
    ///
    /// - Throws: ``StoreError/unsupported(path:detail:)`` for a known compression or archive
    ///   format Fathom does not read; errors of the first decompressed bytes.
    /// - Parameter source: the file's bytes (an ``EvidenceStream``, or any stream in tests).
    public init(source: any ByteStream, displayName: String) throws(StoreError) {
        self.displayName = displayName
        base = source
        let start = PeekableStream(source: source)
        var stream: any ByteStream = start
        var head = try start.peek(PeekableStream.capacity)
        var layers: [Compression] = []
        while true {
            switch ArchiveMagic.sniff(head) {
            case .plain:
                break
            case .unsupported(let format, let magic):
                let inside = layers.isEmpty ? "" : " inside \(layers.map(\.rawValue).joined(separator: " inside "))"
                throw .unsupported(
                    path: displayName,
                    detail: "\(format) data\(inside) (magic \(magic)) is not supported; decompress it first, or recompress it with zstd or gzip.")
            case .compressed(let compression):
                guard layers.count < Self.maxLayers else {
                    throw .unsupported(
                        path: displayName,
                        detail: "more than \(Self.maxLayers) nested compression layers (\(layers.map(\.rawValue).joined(separator: ", ")), then \(compression.rawValue)).")
                }
                layers.append(compression)
                let peekable = PeekableStream(source: Self.decompressor(compression, stream, name: displayName))
                head = try peekable.peek(PeekableStream.capacity)
                stream = peekable
                continue
            }
            break
        }
        compressions = layers
        if ArchiveMagic.isTar(head) {
            tarReader = TarReader(source: stream)
            single = nil
        } else {
            tarReader = nil
            single = stream
        }
    }

    /// Whether the file (after decompression) is a tar archive.
    public var isTar: Bool { tarReader != nil }

    /// Bytes of the file consumed so far, for progress.
    public var consumedInputBytes: Int { base.consumedInputBytes }

    /// Damage found at the container level (tar headers, the end of the archive, data skipped
    /// between members). Damage inside an input's data is yielded by that input's stream.
    public var containerDamage: [StreamDamage] { tarReader?.damage ?? [] }

    /// The next input: for a plain or compressed file exactly one, for a tar archive one per
    /// regular member; nil at the end.
    ///
    /// Asking for the next input ends the previous one: the rest of a tar member is skipped.
    public func nextInput() throws(StoreError) -> ArchiveInput? {
        if let single {
            self.single = nil
            return ArchiveInput(name: displayName, compressions: compressions, isTarMember: false, stream: single)
        }
        guard let tarReader, let member = try tarReader.nextMember() else { return nil }
        let name = displayName + "!" + member.name
        var stream: any ByteStream = member.stream
        var layers = compressions
        for _ in 0..<Self.maxLayers {
            let peekable = PeekableStream(source: stream)
            let head = try peekable.peek(ArchiveMagic.sniffLength)
            stream = peekable
            switch ArchiveMagic.sniff(head) {
            case .plain:
                break
            case .compressed(let compression):
                layers.append(compression)
                stream = Self.decompressor(compression, stream, name: name)
                continue
            case .unsupported(let format, let magic):
                // One bad member must not abort the bundle: report it on the member's stream.
                stream = DamagedStream(
                    damage: StreamDamage(
                        offset: 0,
                        detail: "tar member '\(member.name)' is \(format) data (magic \(magic)), which is not supported; skipped"),
                    source: stream)
            }
            break
        }
        return ArchiveInput(name: name, compressions: layers, isTarMember: true, stream: stream)
    }

    private static func decompressor(_ compression: Compression, _ source: any ByteStream, name: String) -> any ByteStream {
        switch compression {
        case .zstd: ZstdStream(source: source, name: name)
        case .gzip: GzipStream(source: source, name: name)
        }
    }
}
