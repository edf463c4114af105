import CZlib
import CZstd
import Foundation
import Testing
@testable import FathomStore

@Suite("Streaming decompression")
struct CompressionTests {
    // MARK: Clean inputs

    struct CleanCase: Sendable, CustomTestStringConvertible {
        var fixture: String
        var expected: String
        var compressions: [Compression]
        var testDescription: String { fixture }
    }

    static let cleanCases: [CleanCase] = [
        CleanCase(fixture: "single.log.zst", expected: "plain.log", compressions: [.zstd]),
        CleanCase(fixture: "multi.log.zst", expected: "plain.log", compressions: [.zstd]),
        CleanCase(fixture: "skippable.log.zst", expected: "plain.log", compressions: [.zstd]),
        CleanCase(fixture: "single.log.gz", expected: "plain.log", compressions: [.gzip]),
        CleanCase(fixture: "multi.log.gz", expected: "plain.log", compressions: [.gzip]),
        CleanCase(fixture: "padded.log.gz", expected: "plain.log", compressions: [.gzip]),
        CleanCase(fixture: "plain.log", expected: "plain.log", compressions: []),
        CleanCase(fixture: "empty.log", expected: "empty.log", compressions: []),
        CleanCase(fixture: "binary.bin", expected: "binary.bin", compressions: []),
    ]

    @Test("a clean file is one input with all its data and no damage", arguments: cleanCases)
    func cleanInput(_ clean: CleanCase) throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture(clean.fixture)), displayName: clean.fixture)
        #expect(!inputs.isTar)
        #expect(inputs.compressions == clean.compressions)
        let input = try #require(try inputs.nextInput())
        #expect(input.name == clean.fixture)
        #expect(input.compressions == clean.compressions)
        #expect(!input.isTarMember)
        let drained = try drain(input.stream)
        #expect(drained.bytes == (try fixture(clean.expected)))
        #expect(drained.damage.isEmpty)
        #expect(try inputs.nextInput() == nil)
        #expect(inputs.containerDamage.isEmpty)
        #expect(inputs.consumedInputBytes == (try archiveFixtureBytes(clean.fixture)).count)
    }

    @Test("plain text is lent straight from the mapping")
    func plainIsZeroCopy() throws {
        let mapping = try mapFixture("plain.log")
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapping), displayName: "plain.log")
        let input = try #require(try inputs.nextInput())
        guard case .bytes(let view) = try input.stream.next() else {
            Issue.record("expected bytes")
            return
        }
        #expect(view.count == mapping.count)
        let same = view.withUnsafeBytes { viewBytes in
            mapping.bytes.withUnsafeBytes { mapped in viewBytes.baseAddress == mapped.baseAddress }
        }
        #expect(same)
    }

    @Test("an empty file gives one input with an empty stream")
    func emptyFile() throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture("empty.log")), displayName: "empty.log")
        let input = try #require(try inputs.nextInput())
        #expect(try input.stream.next() == nil)
        #expect(try inputs.nextInput() == nil)
    }

    // MARK: Damage

    @Test("a truncated final zstd frame delivers what came before it, then one damage")
    func truncatedZstd() throws {
        let drained = try drain(ZstdStream(source: MappedStream(mapping: mapFixture("truncated.log.zst")), name: "t"))
        let plain = try fixture("plain.log")
        let goodPrefix = try fixture("part1.log") + fixture("part2.log")
        #expect(drained.bytes.hasPrefix(goodPrefix))
        #expect(plain.hasPrefix(drained.bytes))
        #expect(drained.damage.count == 1)
        let damage = try #require(drained.damage.first)
        #expect(damage.detail.hasPrefix("truncated zstd frame"))
        #expect(damage.detail.contains("frame 2 starts at byte 1009"))
        #expect(damage.offset == (try archiveFixtureBytes("truncated.log.zst")).count)
    }

    @Test("a corrupt zstd frame in the middle is reported and the next frame is decoded")
    func corruptZstdMiddle() throws {
        let drained = try drain(ZstdStream(source: MappedStream(mapping: mapFixture("corrupt-middle.log.zst")), name: "c"))
        #expect(drained.bytes.hasPrefix(try fixture("part1.log")))
        #expect(drained.bytes.hasSuffix(try fixture("part3.log")))
        #expect(drained.damage.count == 1)
        let damage = try #require(drained.damage.first)
        #expect(damage.detail.hasPrefix("corrupt zstd frame: "))
        #expect(damage.offset == 508)
        #expect(damage.detail.contains("frame 1 starts at byte 508"))
        #expect(damage.detail.contains("resuming at byte 1009"))
    }

    @Test("a corrupt gzip member between good members loses only that member")
    func corruptGzipMiddle() throws {
        let drained = try drain(GzipStream(source: MappedStream(mapping: mapFixture("corrupt-middle.log.gz")), name: "c"))
        #expect(drained.bytes.hasPrefix(try fixture("part1.log")))
        #expect(drained.bytes.hasSuffix(try fixture("part3.log")))
        #expect(drained.damage.count == 1)
        let damage = try #require(drained.damage.first)
        #expect(damage.detail.hasPrefix("corrupt gzip member: "))
        #expect(damage.offset == 576)
        #expect(damage.detail.contains("member 1 starts at byte 576"))
        #expect(damage.detail.contains("resuming at byte 1169"))
    }

    @Test("a truncated final gzip member delivers what came before it, then one damage")
    func truncatedGzip() throws {
        let drained = try drain(GzipStream(source: MappedStream(mapping: mapFixture("truncated.log.gz")), name: "t"))
        let plain = try fixture("plain.log")
        let goodPrefix = try fixture("part1.log") + fixture("part2.log")
        #expect(drained.bytes.hasPrefix(goodPrefix))
        #expect(plain.hasPrefix(drained.bytes))
        #expect(drained.damage.map(\.detail) == ["truncated gzip member (member 2 starts at byte 1169)"])
    }

    @Test("damage and resynchronisation do not depend on how the input is chunked",
          arguments: ["corrupt-middle.log.zst", "truncated.log.zst", "corrupt-middle.log.gz", "truncated.log.gz",
                      "skippable.log.zst", "padded.log.gz"])
    func chunkingIndependence(_ name: String) throws {
        let compressed = try archiveFixtureBytes(name)
        func decode(_ source: any ByteStream) -> any ByteStream {
            name.hasSuffix(".zst") ? ZstdStream(source: source, name: name) : GzipStream(source: source, name: name)
        }
        let whole = try drain(decode(ChunkedStream(compressed, chunkSizes: [compressed.count + 1])))
        for sizes in [[1], [2, 3], [7, 1, 13], [64, 5], [300]] {
            let chunked = try drain(decode(ChunkedStream(compressed, chunkSizes: sizes)))
            if name == "corrupt-middle.log.zst" {
                // libzstd delivers a damaged frame's blocks as they arrive; how many precede the
                // checksum failure depends on the chunking. The frames around it do not.
                #expect(chunked.bytes.hasPrefix(try fixture("part1.log")), "chunk sizes \(sizes)")
                #expect(chunked.bytes.hasSuffix(try fixture("part3.log")), "chunk sizes \(sizes)")
            } else {
                #expect(chunked.bytes == whole.bytes, "chunk sizes \(sizes)")
            }
            if name == "corrupt-middle.log.zst" {
                // What the damage lost is what the frame declared less what was delivered of it.
                #expect(chunked.damage.map(\.detail) == whole.damage.map(\.detail), "chunk sizes \(sizes)")
                #expect(chunked.damage.map(\.skippedBytes) == whole.damage.map(\.skippedBytes), "chunk sizes \(sizes)")
            } else {
                #expect(chunked.damage == whole.damage, "chunk sizes \(sizes): \(chunked.damage.map { ($0.lostBytes, $0.skippedBytes) }) vs \(whole.damage.map { ($0.lostBytes, $0.skippedBytes) })")
            }
        }
    }

    @Test("a zstd block header that swallows the next frame is recovered from the lookback")
    func zstdOvershootRecovery() throws {
        var generator = SeededGenerator(seed: 42)
        let parts = (0..<3).map { _ in randomPayload(20_000, using: &generator) }
        var frames = parts.map { zstdFrame($0, level: 3) }
        // Frame 1: make its first block claim the largest size its window allows, so libzstd
        // buffers well past the frame's end before it can fail.
        let headerSize = ZSTD_frameHeaderSize(frames[1], frames[1].count)
        #expect(ZSTD_isError(headerSize) == 0)
        let blockHeader = Int(headerSize)
        let claimed = 16_000  // below the block limit (the 20 KB window), past the frame end
        frames[1][blockHeader] = UInt8((claimed << 3) & 0xFF) | (2 << 1)  // not last, compressed
        frames[1][blockHeader + 1] = UInt8((claimed >> 5) & 0xFF)
        frames[1][blockHeader + 2] = UInt8((claimed >> 13) & 0xFF)
        let file = frames.flatMap { $0 }
        let drained = try drain(ZstdStream(source: ChunkedStream(file, chunkSizes: [4096]), name: "o"))
        #expect(drained.bytes.hasPrefix(Bytes(parts[0])))
        #expect(drained.bytes.hasSuffix(Bytes(parts[2])))
        #expect(drained.damage.count == 1)
    }

    // MARK: Recognition

    @Test("known but unsupported formats are refused, naming the format",
          arguments: [("plain.log.xz", "xz"), ("plain.zip", "zip")])
    func unsupported(_ fixture: String, _ format: String) throws {
        let mapping = try mapFixture(fixture)
        do throws(StoreError) {
            _ = try ArchiveInputs(source: MappedStream(mapping: mapping), displayName: fixture)
            Issue.record("\(fixture) was accepted")
        } catch {
            guard case .unsupported(_, let detail) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(detail.hasPrefix("\(format) data"))
            #expect(error.description.contains(fixture))
        }
    }

    @Test("unsupported compression inside zstd is refused too")
    func unsupportedInsideZstd() throws {
        let xz = try archiveFixtureBytes("plain.log.xz")
        let mapping = try mapBytes(zstdFrame(xz, level: 1))
        #expect(throws: StoreError.self) { try ArchiveInputs(source: MappedStream(mapping: mapping), displayName: "x.xz.zst") }
    }

    @Test("a gzip inside zstd is decompressed twice")
    func nestedCompression() throws {
        let plain = try archiveFixtureBytes("plain.log")
        let mapping = try mapBytes(zstdFrame(gzipMember(plain), level: 1))
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapping), displayName: "plain.log.gz.zst")
        #expect(inputs.compressions == [.zstd, .gzip])
        let input = try #require(try inputs.nextInput())
        #expect(try drain(input.stream).bytes == Bytes(plain))
    }

    @Test("a file whose first frame is skippable is recognised as zstd")
    func leadingSkippableFrame() throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture("skippable.log.zst")), displayName: "s")
        #expect(inputs.compressions == [.zstd])
    }

    // MARK: Seeded round trips

    @Test("zstd round trip: random data in random frames, randomly chunked", arguments: 0..<12)
    func zstdRoundTrip(_ seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let (original, parts) = randomParts(using: &generator)
        let file = parts.flatMap { zstdFrame($0, level: Int32.random(in: 1...6, using: &generator)) }
        let sizes = (0..<3).map { _ in Int.random(in: 1...20_000, using: &generator) }
        let drained = try drain(ZstdStream(source: ChunkedStream(file, chunkSizes: sizes), name: "r"))
        #expect(drained.damage.isEmpty)
        #expect(drained.bytes == Bytes(original))
    }

    @Test("gzip round trip: random data in random members, randomly chunked", arguments: 0..<12)
    func gzipRoundTrip(_ seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let (original, parts) = randomParts(using: &generator)
        let file = parts.flatMap { gzipMember($0) }
        let sizes = (0..<3).map { _ in Int.random(in: 1...20_000, using: &generator) }
        let drained = try drain(GzipStream(source: ChunkedStream(file, chunkSizes: sizes), name: "r"))
        #expect(drained.damage.isEmpty)
        #expect(drained.bytes == Bytes(original))
    }

    @Test("one corrupt frame or member costs only itself", arguments: 0..<12)
    func corruptionIsContained(_ seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed &+ 1000)
        let parts = (0..<4).map { _ in randomPayload(Int.random(in: 2_000...30_000, using: &generator), using: &generator) }
        let isZstd = seed % 2 == 0
        var units = parts.map { isZstd ? zstdFrame($0, level: 3) : gzipMember($0) }
        let victim = Int.random(in: 0..<units.count, using: &generator)
        // Corrupt the body, keeping the magic and (for gzip) the fixed header intact.
        let lower = isZstd ? 8 : 12
        let at = Int.random(in: lower..<(units[victim].count - 8), using: &generator)
        for index in at..<min(at + 4, units[victim].count - 8) { units[victim][index] ^= 0x5A }
        let file = units.flatMap { $0 }
        let sizes = [Int.random(in: 1...9_000, using: &generator)]
        let source = ChunkedStream(file, chunkSizes: sizes)
        let stream: any ByteStream = isZstd ? ZstdStream(source: source, name: "c") : GzipStream(source: source, name: "c")
        let drained = try drain(stream)
        #expect(drained.bytes.hasPrefix(Bytes(parts[..<victim].flatMap { $0 })))
        #expect(drained.bytes.hasSuffix(Bytes(parts[(victim + 1)...].flatMap { $0 })))
        #expect(drained.damage.count == 1, "victim \(victim) at \(at): \(drained.damage)")
    }
}

// MARK: - Helpers

/// Random data cut into 1…6 random parts (a part may be empty).
func randomParts(using generator: inout SeededGenerator) -> (original: [UInt8], parts: [[UInt8]]) {
    let original = randomPayload(Int.random(in: 0...120_000, using: &generator), using: &generator)
    var cuts = (0..<Int.random(in: 0...5, using: &generator)).map { _ in
        Int.random(in: 0...original.count, using: &generator)
    }
    cuts.sort()
    var parts: [[UInt8]] = []
    var start = 0
    for cut in cuts + [original.count] {
        parts.append(Array(original[start..<cut]))
        start = cut
    }
    return (original, parts)
}

/// One zstd frame with a content checksum. The corresponding C function is `ZSTD_compress2`.
func zstdFrame(_ bytes: [UInt8], level: Int32) -> [UInt8] {
    guard let context = ZSTD_createCCtx() else { return [] }
    defer { ZSTD_freeCCtx(context) }
    _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let written = output.withUnsafeMutableBytes { target in
        bytes.withUnsafeBytes { source in
            ZSTD_compress2(context, target.baseAddress, target.count, source.baseAddress, source.count)
        }
    }
    guard ZSTD_isError(written) == 0 else { return [] }
    return Array(output[..<written])
}

/// One gzip member. The corresponding C functions are `deflateInit2_` and `deflate`.
func gzipMember(_ bytes: [UInt8]) -> [UInt8] {
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer { stream.deinitialize(count: 1); stream.deallocate() }
    guard deflateInit2_(stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                        ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
    defer { deflateEnd(stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))) + 64)
    var input = bytes
    let status = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = uInt(source.count)
            stream.pointee.next_out = target.baseAddress
            stream.pointee.avail_out = uInt(target.count)
            return deflate(stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else { return [] }
    return Array(output[..<Int(stream.pointee.total_out)])
}
