import Foundation
import Testing
@testable import FathomStore

/// bzip2, xz, .lzma, zlib and raw deflate through ``CodecStream``: whole, concatenated, cut at
/// every chunk size, truncated, corrupt, and an `.lzma` header asking for too much decoder memory.
@Suite struct CodecStreamTests {
    /// `"fathom codec test line\n" × 200`, compressed by Python's bz2, lzma and zlib modules.
    static let text = [UInt8](String(repeating: "fathom codec test line\n", count: 200).utf8)
    static let samples: [String: (Codec, String)] = [
        "bzip2": (.bzip2, "QlpoOTFBWSZTWYPue3MABK/RgAAQQAAvZ4wAIACQKYAAClVBtQ9R+lOhFsRcEWhF7EXkRaEWCLBFsRehF8EXYRYItCLQiwRbEWCLYi4ItCLgi/i7kinChIQfc9uY"),
        "bzip2Twice": (.bzip2, "QlpoOTFBWSZTWTsHLnYAABnRgAAQQAAvZ4wAIABQpgAAKlQYTR6SxqNlzMdl4oo0YPDPMUYMRRYqNGy5uPxdyRThQkDsHLnYQlpoOTFBWSZTWemPr8IABn9RgAAQQAAvZ4wAIACQKYAAClVBtDU2U4IWaC2QsELqgvpCxQWiFohZIXJC7oL1QWiFghYoLRC4zQWqCyQtkLkhboL+LuSKcKEh0x9fhA=="),
        "xz": (.xz, "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4BH3ADRdADMYSu8rWKwmtXejFNOqY/ppZeivQssLB+vQvtwcgGz61OLorQDPGTljaagsyNiOuwp+6gAAEDcPcx1QhzsAAVD4IwAAAGbHGAWxxGf7AgAAAAAEWVo="),
        "xzTwice": (.xz, "/Td6WFoAAATm1rRGAgAhARYAAAB0L+Wj4ABjAB5dADMYSu8rWKwmtXejFNOqY/ppZeivQssLB+EaafSgAAAAANjevlDhB78UAAE6ZBPO8E8ftvN9AQAAAAAEWVr9N3pYWgAABObWtEYCACEBFgAAAHQv5aPgEZMANV0AN5kI3iPW4DW9e5DDGKHZkMjcJoybUrgNjGXooD6g+IudqoPaEnn4X2J/dEUnr+cLFyxuAAAAAAAA23Tl5bhDXCoAAVGUIwAAAI+OhpKxxGf7AgAAAAAEWVo="),
        "lzma": (.lzma, "XQAAgAD//////////wAzGErvK1isJrV3oxTTqmP6aWXor0LLCwfr0L7cHIBs+tTi6K0Azxk5Y2moLMjYjrsLuU4s//+QLAAA"),
        "zlib": (.zlib, "eJztyMEJgDAQALC/U9xq0l6pYO3D2x/nEJJnxllzr2i7Z4vKt+K+njyG1lprrbXWWmuttf53f4wpfhM="),
        "deflate": (.deflate, "7cjBCYAwEACwv1PcatJeqWDtw9sf5xCSZ8ZZc69ou2eLyrfivp48htZaa6211lprrbX+d38="),
    ]
    static let names = samples.keys.sorted()

    static func compressed(_ name: String) throws -> (Codec, [UInt8]) {
        let (codec, text) = try #require(samples[name])
        return (codec, [UInt8](try #require(Data(base64Encoded: text))))
    }

    @Test(arguments: names)
    func decodesWholeAndAtEveryChunkSize(_ name: String) throws {
        let (codec, bytes) = try Self.compressed(name)
        if codec != .deflate { #expect(Codec.sniff(bytes) == codec) }
        for sizes in [[bytes.count], [1], [7], [3, 50, 1]] {
            let drained = try drain(CodecStream(source: ChunkedStream(bytes, chunkSizes: sizes), codec: codec, name: name))
            #expect(drained.damage.isEmpty, "\(sizes): \(drained.damage)")
            #expect(drained.bytes.raw == Self.text)
        }
    }

    @Test(arguments: names)
    func truncatedStreamYieldsAPrefixThenDamage(_ name: String) throws {
        let (codec, bytes) = try Self.compressed(name)
        let cut = Array(bytes.prefix(bytes.count * 2 / 3))
        let drained = try drain(CodecStream(source: ChunkedStream(cut, chunkSizes: [5]), codec: codec, name: name))
        #expect(drained.damage.count == 1)
        #expect(Self.text.starts(with: drained.bytes.raw))
        #expect(drained.bytes.raw.count < Self.text.count)
    }

    @Test(arguments: names)
    func corruptStreamIsDamageNotACrash(_ name: String) throws {
        let (codec, bytes) = try Self.compressed(name)
        var corrupt = bytes
        for index in stride(from: bytes.count / 3, to: bytes.count * 2 / 3, by: 2) { corrupt[index] ^= 0x5A }
        let drained = try drain(CodecStream(source: ChunkedStream(corrupt, chunkSizes: [11]), codec: codec, name: name))
        #expect(drained.damage.count == 1 || drained.bytes.raw != Self.text)
    }

    @Test func lzmaHeaderAskingForTooMuchMemoryIsRefused() throws {
        var (_, bytes) = try Self.compressed("lzma")
        bytes.replaceSubrange(1..<5, with: [0x00, 0x00, 0x00, 0x40])  // a 1 GiB dictionary
        let drained = try drain(CodecStream(source: ChunkedStream(bytes, chunkSizes: [64]), codec: .lzma, name: "huge"))
        #expect(drained.bytes.raw.isEmpty)
        #expect(drained.damage.first?.detail.contains("refused") == true)
    }

    @Test func trailingBytesAfterTheLastStreamAreCountedNotDecoded() throws {
        let (_, bytes) = try Self.compressed("zlib")
        let stream = CodecStream(source: ChunkedStream(bytes + Array("garbage".utf8), chunkSizes: [16]), codec: .zlib, name: "z")
        let drained = try drain(stream)
        #expect(drained.bytes.raw == Self.text)
        #expect(drained.damage.isEmpty)
        #expect(stream.trailingBytes == 7)
    }

    @Test(arguments: [
        ([0x78, 0x9C], Codec.zlib), ([0x78, 0xDA], .zlib), ([0x28, 0x53], nil), ([0x5D, 0x71, 0x00], nil),
        (Array("BZh9".utf8), .bzip2), (Array("BZh0".utf8), nil), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], .xz),
    ] as [([UInt8], Codec?)])
    func sniffing(head: [UInt8], expected: Codec?) {
        #expect(Codec.sniff(head) == expected)
    }
}
