/// What the first bytes of an input say it is, by magic number only (never by file name).
enum ArchiveMagic: Equatable {
    /// Compressed in a format Fathom decompresses.
    case compressed(Compression)
    /// Compressed or archived in a format Fathom recognises but does not read.
    case unsupported(format: String, magic: String)
    /// Anything else: plain data, passed on as is.
    case plain

    /// The most leading bytes ``sniff(_:)`` looks at.
    static let sniffLength = 8

    /// Recognises zstd (including a leading skippable frame), gzip, and the common formats Fathom
    /// does not read: xz, bzip2, zip, 7z, lz4, rar, lzip and Unix compress.
    static func sniff(_ head: ByteView) -> ArchiveMagic {
        func starts(_ bytes: [UInt8]) -> Bool { head.starts(with: bytes) }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .compressed(.zstd) }
        if head.count >= 4, head[0] & 0xF0 == 0x50, head[1] == 0x2A, head[2] == 0x4D, head[3] == 0x18 {
            return .compressed(.zstd)  // skippable frame 0x184D2A5?
        }
        if starts([0x1F, 0x8B]) { return .compressed(.gzip) }
        let unsupported: [(String, [UInt8])] = [
            ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]),
            ("7z", [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]),
            ("rar", Array("Rar!".utf8) + [0x1A, 0x07]),
            ("zip", [0x50, 0x4B, 0x03, 0x04]),
            ("zip", [0x50, 0x4B, 0x05, 0x06]),
            ("zip", [0x50, 0x4B, 0x07, 0x08]),
            ("lz4", [0x04, 0x22, 0x4D, 0x18]),
            ("lz4 (legacy)", [0x02, 0x21, 0x4C, 0x18]),
            ("lzip", Array("LZIP".utf8)),
            ("Unix compress (.Z)", [0x1F, 0x9D]),
        ]
        for (format, magic) in unsupported where starts(magic) {
            return .unsupported(format: format, magic: hex(magic))
        }
        if starts(Array("BZh".utf8)), head.count >= 4, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(head[3]) {
            return .unsupported(format: "bzip2", magic: hex(Array("BZh".utf8)))
        }
        return .plain
    }

    /// Whether `head` (at least 262 bytes of decompressed data) starts with a ustar/GNU tar header.
    static func isTar(_ head: ByteView) -> Bool {
        head.count >= 262 && head[257..<262].equals("ustar")
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = Array("0123456789ABCDEF".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined(separator: " ")
    }
}
