import CZlib

/// One member of a zip archive, as its central directory describes it.
public struct ZipEntry: Sendable, Equatable {
    /// The member name as stored (UTF-8, invalid bytes repaired).
    public var name: String
    /// 0 = stored, 8 = deflate; anything else is not read.
    public var method: UInt16
    public var flags: UInt16
    public var crc32: UInt32
    public var compressedSize: Int
    public var uncompressedSize: Int
    public var localHeaderOffset: Int
    /// Offset of the central directory record, for error messages.
    public var directoryOffset: Int

    public var isDirectory: Bool { name.hasSuffix("/") }
    public var isEncrypted: Bool { flags & 1 != 0 }
}

/// Reads the members of a zip archive (PKZIP APPNOTE 6.3) straight from a file mapping, without
/// extracting anything to disk. PyTorch `.pt`/`.pth`/`.bin` checkpoints are zip archives whose
/// `*/data.pkl` member holds the pickle.
///
/// The central directory is found from the end of the file and is the only index trusted; local
/// headers are read only to find where a member's data starts. ZIP64 sizes and offsets are read.
///
/// ```
///  ┌ local header 1 ┬ data 1 ┬ … ┬ central dir entry 1 … n ┬ [zip64 EOCD, locator] ┬ EOCD ┐
///  │ PK\3\4 … name  │        │   │ PK\1\2 … sizes, offset  │ PK\6\6 …  PK\6\7 …      │PK\5\6│
///  └────────────────┴────────┴───┴─────────────────────────┴──────────────────────────┴──────┘
///  EOCD (22 bytes + comment ≤ 65535): entries @10 (2), dir size @12 (4), dir offset @16 (4)
///  central entry (46 + n + m + k): method @10, crc @16, csize @20, usize @24, n @28, m @30,
///                                   k @32, local offset @42, name @46, extra @46+n
///  local header (30 + n + m): n @26, m @28, data @30+n+m
/// ```
///
/// Every offset and length read from the file is checked against the mapping; damage throws
/// ``StoreError/corrupt(path:offset:detail:)``.
///
/// - Complexity: O(entries) to open; O(member size) to read a member.
public struct ZipArchive: Sendable {
    public let mapping: FileMapping
    /// Where the archive lies in the mapping: the whole file, or a stored member of another archive
    /// (a zip inside a zip is read in place). Offsets of ``ZipEntry`` and ``dataOffset(of:)`` are
    /// relative to its start.
    public let range: Range<Int>
    public let entries: [ZipEntry]

    /// The archive's bytes.
    public var bytes: ByteView { mapping.bytes[range] }

    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50

    /// Whether `bytes` starts like a zip archive (a local header or an empty archive's EOCD).
    public static func looksLikeZip(_ bytes: ByteView) -> Bool {
        bytes.count >= 4 && (readUInt32(bytes, 0) == localSignature || readUInt32(bytes, 0) == endSignature)
    }

    /// Reads the central directory of `mapping`.
    public init(mapping: FileMapping) throws(StoreError) {
        try self.init(mapping: mapping, range: 0..<mapping.count)
    }

    /// Reads the central directory of the archive that fills `range` of `mapping`.
    public init(mapping: FileMapping, range: Range<Int>) throws(StoreError) {
        guard range.lowerBound >= 0, range.upperBound <= mapping.count else {
            throw .corrupt(path: mapping.path, offset: range.lowerBound,
                           detail: "archive range \(range) lies outside the file (\(mapping.count) bytes).")
        }
        self.mapping = mapping
        self.range = range
        let bytes = mapping.bytes[range]
        let path = mapping.path
        guard bytes.count >= 22 else {
            throw .corrupt(path: path, offset: 0, detail: "too short for a zip archive (\(bytes.count) bytes).")
        }
        // Find the end-of-central-directory record: the last signature within 22 + 65535 bytes of the end.
        var end = -1
        var position = bytes.count - 22
        let lowest = Swift.max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if Self.readUInt32(bytes, position) == Self.endSignature { end = position; break }
            position -= 1
        }
        guard end >= 0 else {
            throw .corrupt(path: path, offset: bytes.count, detail: "no end-of-central-directory record found.")
        }
        var entryCount = Int(Self.readUInt16(bytes, end + 10))
        var directorySize = Int(Self.readUInt32(bytes, end + 12))
        var directoryOffset = Int(Self.readUInt32(bytes, end + 16))
        if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF,
           end >= 20, Self.readUInt32(bytes, end - 20) == Self.zip64LocatorSignature {
            let recordOffset = Self.readUInt64(bytes, end - 20 + 8)
            guard recordOffset >= 0, recordOffset <= bytes.count - 56,
                  Self.readUInt32(bytes, recordOffset) == Self.zip64EndSignature else {
                throw .corrupt(path: path, offset: end - 20, detail: "ZIP64 locator points to \(recordOffset), which is not a ZIP64 end record.")
            }
            entryCount = Self.readUInt64(bytes, recordOffset + 32)
            directorySize = Self.readUInt64(bytes, recordOffset + 40)
            directoryOffset = Self.readUInt64(bytes, recordOffset + 48)
        }
        guard directoryOffset >= 0, directorySize >= 0, directoryOffset <= bytes.count,
              directorySize <= bytes.count - directoryOffset else {
            throw .corrupt(path: path, offset: end, detail: "central directory at \(directoryOffset) (+\(directorySize)) lies past the file end (\(bytes.count)).")
        }
        guard entryCount >= 0, entryCount <= directorySize / 46 + 1 else {
            throw .corrupt(path: path, offset: end, detail: "\(entryCount) entries cannot fit in a central directory of \(directorySize) bytes.")
        }
        var result: [ZipEntry] = []
        result.reserveCapacity(entryCount)
        var cursor = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0..<entryCount {
            guard cursor + 46 <= directoryEnd, Self.readUInt32(bytes, cursor) == Self.centralSignature else {
                throw .corrupt(path: path, offset: cursor, detail: "central directory entry \(index) is missing or truncated.")
            }
            let flags = Self.readUInt16(bytes, cursor + 8)
            let method = Self.readUInt16(bytes, cursor + 10)
            let crc = Self.readUInt32(bytes, cursor + 16)
            var compressed = Int(Self.readUInt32(bytes, cursor + 20))
            var uncompressed = Int(Self.readUInt32(bytes, cursor + 24))
            let nameLength = Int(Self.readUInt16(bytes, cursor + 28))
            let extraLength = Int(Self.readUInt16(bytes, cursor + 30))
            let commentLength = Int(Self.readUInt16(bytes, cursor + 32))
            var localOffset = Int(Self.readUInt32(bytes, cursor + 42))
            let recordEnd = cursor + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= directoryEnd else {
                throw .corrupt(path: path, offset: cursor, detail: "central directory entry \(index) runs past the directory end (\(directoryEnd)).")
            }
            let name = bytes[(cursor + 46)..<(cursor + 46 + nameLength)].string
            // ZIP64 extended information: present fields follow in a fixed order.
            var extra = cursor + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let tag = Self.readUInt16(bytes, extra)
                let size = Int(Self.readUInt16(bytes, extra + 2))
                let body = extra + 4
                guard body + size <= extraEnd else { break }
                if tag == 0x0001 {
                    var field = body
                    if uncompressed == 0xFFFF_FFFF, field + 8 <= body + size {
                        uncompressed = Self.readUInt64(bytes, field); field += 8
                    }
                    if compressed == 0xFFFF_FFFF, field + 8 <= body + size {
                        compressed = Self.readUInt64(bytes, field); field += 8
                    }
                    if localOffset == 0xFFFF_FFFF, field + 8 <= body + size {
                        localOffset = Self.readUInt64(bytes, field); field += 8
                    }
                }
                extra = body + size
            }
            result.append(ZipEntry(
                name: name, method: method, flags: flags, crc32: crc, compressedSize: compressed,
                uncompressedSize: uncompressed, localHeaderOffset: localOffset, directoryOffset: cursor))
            cursor = recordEnd
        }
        entries = result
    }

    /// Where `entry`'s data starts, checked against the mapping.
    public func dataOffset(of entry: ZipEntry) throws(StoreError) -> Int {
        let bytes = self.bytes
        let local = entry.localHeaderOffset
        guard local >= 0, local <= bytes.count - 30, Self.readUInt32(bytes, local) == Self.localSignature else {
            throw .corrupt(path: mapping.path, offset: entry.directoryOffset,
                           detail: "member '\(entry.name)' points to a local header at \(local), which is missing.")
        }
        let start = local + 30 + Int(Self.readUInt16(bytes, local + 26)) + Int(Self.readUInt16(bytes, local + 28))
        guard entry.compressedSize >= 0, start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw .corrupt(path: mapping.path, offset: local,
                           detail: "member '\(entry.name)' data (\(entry.compressedSize) bytes at \(start)) runs past the file end (\(bytes.count)).")
        }
        return start
    }

    /// Lends the uncompressed bytes of `entry` to `body`: a slice of the mapping when stored, an
    /// inflated buffer when deflated. The view must not escape `body`.
    ///
    /// - Parameter limit: the largest uncompressed size accepted (a guard against zip bombs).
    /// - Returns: `body`'s result and whether the CRC-32 in the directory matched the bytes.
    /// - Complexity: O(member size).
    public func withContents<R>(
        of entry: ZipEntry, limit: Int, _ body: (ByteView) throws -> R
    ) throws -> (result: R, crcMatches: Bool) {
        if entry.isEncrypted {
            throw StoreError.unsupported(path: mapping.path, detail: "member '\(entry.name)' is encrypted.")
        }
        guard entry.uncompressedSize >= 0, entry.uncompressedSize <= limit else {
            throw StoreError.unsupported(path: mapping.path,
                                         detail: "member '\(entry.name)' declares \(entry.uncompressedSize) bytes, more than the limit of \(limit).")
        }
        let start = try dataOffset(of: entry)
        let compressed = bytes[start..<(start + entry.compressedSize)]
        switch entry.method {
        case 0:
            let crc = Self.crc32(of: compressed)
            return (try body(compressed), crc == entry.crc32)
        case 8:
            let inflated = try Self.inflate(compressed, expected: entry.uncompressedSize, limit: limit,
                                            path: mapping.path, member: entry.name, offset: start)
            return try inflated.withUnsafeBytes { raw in
                let view = ByteView(unsafeStart: raw.baseAddress, count: raw.count)
                let crc = Self.crc32(of: view)
                return (try body(view), crc == entry.crc32)
            }
        default:
            throw StoreError.unsupported(path: mapping.path,
                                         detail: "member '\(entry.name)' uses compression method \(entry.method); only stored (0) and deflate (8) are read.")
        }
    }

    /// The uncompressed bytes of `entry` as a stream, decoded as they are read: stored members are
    /// lent from the mapping (its pages released behind the reader), deflate (8), bzip2 (12) and
    /// zstd (93) members are decoded on the fly. The stream ends with a ``StreamDamage`` when the
    /// member's CRC-32 or size differs from the central directory's, and stops with one when a
    /// member inflates past its declared size (a lying header is a bomb's trick).
    ///
    /// - Throws: ``StoreError/unsupported(path:detail:)`` for an encrypted member or another
    ///   compression method; ``StoreError/corrupt(path:offset:detail:)`` when its data lies outside
    ///   the archive.
    /// - Complexity: O(member size), memory O(1).
    public func memberStream(of entry: ZipEntry) throws(StoreError) -> any ByteStream {
        if entry.isEncrypted {
            throw StoreError.unsupported(path: mapping.path, detail: "member '\(entry.name)' is encrypted.")
        }
        let start = try dataOffset(of: entry)
        let raw = OwnedBytesStream(mapping: mapping, range: (range.lowerBound + start)..<(range.lowerBound + start + entry.compressedSize))
        let decoded: any ByteStream
        switch entry.method {
        case 0: decoded = raw
        case 8: decoded = CodecStream(source: raw, codec: .deflate, name: entry.name)
        case 12: decoded = CodecStream(source: raw, codec: .bzip2, name: entry.name)
        case 93: decoded = ZstdStream(source: raw, name: entry.name)
        default:
            throw StoreError.unsupported(path: mapping.path,
                                         detail: "member '\(entry.name)' uses compression method \(entry.method) (\(Self.methodName(entry.method))); stored, deflate, bzip2 and zstd are read.")
        }
        return CheckedMemberStream(source: decoded, entry: entry, path: mapping.path)
    }

    /// The APPNOTE name of a compression method, for messages.
    public static func methodName(_ method: UInt16) -> String {
        switch method {
        case 0: "stored"
        case 1: "shrunk"
        case 6: "imploded"
        case 8: "deflate"
        case 9: "deflate64"
        case 12: "bzip2"
        case 14: "LZMA"
        case 93: "zstd"
        case 95: "xz"
        case 98: "PPMd"
        case 99: "AES-encrypted"
        default: "unknown"
        }
    }

    /// Inflates a raw deflate stream. The corresponding C functions are zlib's `inflateInit2_`
    /// (window bits −15: raw deflate), `inflate` and `inflateEnd`.
    static func inflate(_ input: ByteView, expected: Int, limit: Int, path: String, member: String,
                        offset: Int) throws(StoreError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .unsupported(path: path, detail: "zlib could not be initialised.")
        }
        defer { inflateEnd(&stream) }
        guard input.count <= Int(UInt32.max) else {
            throw .unsupported(path: path, detail: "member '\(member)' has \(input.count) compressed bytes; deflate members over 4 GiB are not read.")
        }
        var output = [UInt8](repeating: 0, count: Swift.max(64, Swift.min(expected, limit)))
        var produced = 0
        var status: Int32 = Z_OK
        try input.withUnsafeBytes { (source: UnsafeRawBufferPointer) throws(StoreError) in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(source.count)
            while true {
                if produced == output.count {
                    guard output.count < limit else {
                        throw .unsupported(path: path, detail: "member '\(member)' inflates past the limit of \(limit) bytes.")
                    }
                    output.append(contentsOf: repeatElement(0, count: Swift.min(output.count, limit - output.count)))
                }
                let room = output.count - produced
                status = output.withUnsafeMutableBytes { target in
                    stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self).advanced(by: produced)
                    stream.avail_out = uInt(room)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                produced += room - Int(stream.avail_out)
                if status == Z_STREAM_END { break }
                if status == Z_BUF_ERROR && stream.avail_in == 0 {
                    throw .corrupt(path: path, offset: offset + Int(stream.total_in),
                                   detail: "member '\(member)' deflate stream is truncated.")
                }
                if status != Z_OK && status != Z_BUF_ERROR {
                    throw .corrupt(path: path, offset: offset + Int(stream.total_in),
                                   detail: "member '\(member)' deflate stream is corrupt (zlib status \(status)).")
                }
            }
        }
        output.removeSubrange(produced..<output.count)
        return output
    }

    /// CRC-32 of `view`. The corresponding C function is zlib's `crc32`.
    static func crc32(of view: ByteView) -> UInt32 {
        view.withUnsafeBytes { raw in
            var crc: uLong = 0
            var offset = 0
            while offset < raw.count {
                let length = Swift.min(raw.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, raw.baseAddress?.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length))
                offset += length
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    static func readUInt16(_ bytes: ByteView, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    static func readUInt32(_ bytes: ByteView, _ offset: Int) -> UInt32 {
        UInt32(readUInt16(bytes, offset)) | UInt32(readUInt16(bytes, offset + 2)) << 16
    }

    /// A little-endian UInt64 as an Int, clamped to `Int.max` so that a hostile value fails the
    /// bounds checks instead of wrapping.
    static func readUInt64(_ bytes: ByteView, _ offset: Int) -> Int {
        let value = UInt64(readUInt32(bytes, offset)) | UInt64(readUInt32(bytes, offset + 4)) << 32
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }
}

/// A zip member's decoded bytes checked against its central directory entry: CRC-32 and size
/// at the end, and no byte past the declared size.
final class CheckedMemberStream: ByteStream {
    private let source: any ByteStream
    private let entry: ZipEntry
    private let path: String
    private var crc: uLong = 0
    private var produced = 0
    private var isFinished = false

    init(source: any ByteStream, entry: ZipEntry, path: String) {
        self.source = source
        self.entry = entry
        self.path = path
    }

    var consumedInputBytes: Int { source.consumedInputBytes }

    /// The corresponding C function is zlib's `crc32`.
    func next() throws(StoreError) -> StreamEvent? {
        guard !isFinished else { return nil }
        switch try source.next() {
        case nil:
            isFinished = true
            let actual = UInt32(truncatingIfNeeded: crc)
            if produced != entry.uncompressedSize {
                return .damage(StreamDamage(offset: entry.localHeaderOffset,
                                            detail: "member '\(entry.name)' holds \(produced) bytes, its directory entry says \(entry.uncompressedSize)"))
            }
            if actual != entry.crc32 {
                return .damage(StreamDamage(offset: entry.localHeaderOffset,
                                            detail: "member '\(entry.name)' fails its CRC-32 check"))
            }
            return nil
        case let .damage(damage)?:
            return .damage(damage)
        case let .bytes(view)?:
            let room = entry.uncompressedSize - produced
            guard view.count <= room else {
                isFinished = true
                return .damage(StreamDamage(offset: entry.localHeaderOffset,
                                            detail: "member '\(entry.name)' inflates past its declared \(entry.uncompressedSize) bytes (refused)"))
            }
            crc = view.withUnsafeBytes { raw in
                CZlib.crc32(crc, raw.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(raw.count))
            }
            produced += view.count
            return .bytes(view)
        }
    }
}
