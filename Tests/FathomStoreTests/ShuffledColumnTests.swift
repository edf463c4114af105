import Foundation
import Testing
@testable import FathomStore

/// Packed int64 and dictionary columns stored with their integers byte-shuffled inside each block
/// (encoding 2, format version 3; SEGMENT-FORMAT.md).
@Suite("Shuffled packed columns")
struct ShuffledColumnTests {
    /// The stored block as SEGMENT-FORMAT.md defines it, byte by byte: in each range part, byte
    /// `plane` of value `i` goes to `plane · n + i`; every other byte stays.
    static func reference(_ block: [UInt8], blockStart: Int, ranges: [BlockShuffle.Range]) -> [UInt8] {
        var stored = block
        for range in ranges {
            let low = max(range.start, blockStart), high = min(range.end, blockStart + block.count)
            guard high - low >= range.width else { continue }
            let n = (high - low) / range.width, first = low - blockStart
            for value in 0..<n {
                for plane in 0..<range.width {
                    stored[first + plane * n + value] = block[first + value * range.width + plane]
                }
            }
        }
        return stored
    }

    @Test func blocksAreShuffledAsTheFormatSaysAndBack() {
        var generator = SplitMix(seed: 0x5EED_0F_B10C)
        for trial in 0..<400 {
            let length = Int.random(in: 1...300, using: &generator)
            let blockStart = Int.random(in: 0...200, using: &generator)
            let block = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Up to two ranges, in order, of widths 8, 4 or odd ones, cut anywhere by the block.
            var ranges: [BlockShuffle.Range] = []
            var at = Int.random(in: 0...(blockStart + length), using: &generator)
            for _ in 0..<Int.random(in: 1...2, using: &generator) {
                let end = at + Int.random(in: 0...300, using: &generator)
                ranges.append(.init(start: at, end: end, width: [8, 4, 3, 1].randomElement(using: &generator)!))
                at = end + Int.random(in: 0...20, using: &generator)
            }
            let shuffle = BlockShuffle(ranges: ranges)
            var stored = [UInt8](repeating: 0, count: length)
            var restored = [UInt8](repeating: 0, count: length)
            block.withUnsafeBytes { source in
                stored.withUnsafeMutableBytes { shuffle.shuffle(block: source.baseAddress!, blockStart: blockStart, length: length, into: $0.baseAddress!) }
            }
            #expect(stored == Self.reference(block, blockStart: blockStart, ranges: ranges), "trial \(trial): \(ranges) at \(blockStart)")
            stored.withUnsafeBytes { source in
                restored.withUnsafeMutableBytes { shuffle.unshuffle(block: source.baseAddress!, blockStart: blockStart, length: length, into: $0.baseAddress!) }
            }
            #expect(restored == block, "trial \(trial)")
        }
    }

    static let columns = [
        ColumnSpec(name: "time", type: .int64),
        ColumnSpec(name: "line", type: .int64, compressed: true),
        ColumnSpec(name: "bytes", type: .int64, compressed: true),
        ColumnSpec(name: "subject", type: .dictionary, compressed: true),
        ColumnSpec(name: "latency", type: .float64, compressed: true),
    ]

    /// 20,000 rows: the line numbers span three 64 KB blocks, the subjects' codes (80,000 bytes)
    /// and entry offsets (9,002 × 8 bytes, from byte 80,000) each cross a block boundary.
    static func rows() -> [[Cell?]] {
        var generator = SplitMix(seed: 20_000)
        return (0..<20_000).map { (row: Int) -> [Cell?] in
            let size: Cell? = row % 13 == 0 ? nil : .int(Int64.random(in: 0...(row % 7 == 0 ? Int64.max : 40_000), using: &generator))
            let subject: Cell? = row % 17 == 0 ? nil : .bytes(Array("cus_\((row * 7_919) % 9_001)".utf8))
            return [.int(Int64(row / 4)), .int(Int64(row + 1)), size, subject, .double(Double(row % 300) / 10)]
        }
    }

    @Test func columnsOverSeveralBlocksReadBackExactly() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("s.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        let bytes = fileBytes(path)
        #expect(bytes[Format.version] == 3)
        #expect(bytes[Format.entry(1) + 1] == 2 && bytes[Format.entry(3) + 1] == 2 && bytes[Format.entry(4) + 1] == 1)
        #expect(bytes.u64(at: Format.entry(3) + Format.entryCount) == 9_002)
        let reader = try SegmentReader(path: path)
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
    }

    /// A store written before version 3 packed its integers without the shuffle (encoding 1,
    /// version 2): such a segment still reads. Made here by storing the last column the old way.
    @Test func versionTwoPackedIntegersStillRead() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("v3.seg")
        let columns = [ColumnSpec(name: "time", type: .int64), ColumnSpec(name: "line", type: .int64, compressed: true)]
        let rows = (0..<12_000).map { [Cell.int(Int64($0 / 5)), .int(Int64($0 + 1))] as [Cell?] }
        let (_, expected) = try writeSegment(path, columns: columns, rows: rows)
        var bytes = fileBytes(path)
        #expect(bytes[Format.entry(1) + 1] == 2)
        let plain = (1...12_000).flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(value) >> (8 * $0)) } }
        let (stored, error) = BlockInflater.compress(plain, count: plain.count, blockSize: 64 << 10, level: 1)
        #expect(error == nil)
        let offset = Int(bytes.u64(at: Format.entry(1) + Format.entryOffset))
        bytes = Array(bytes[..<offset]) + stored
        bytes[Format.entry(1) + 1] = 1
        bytes.put(UInt64(stored.count), at: Format.entry(1) + Format.entryLength)
        bytes.put(UInt64(bytes.count), at: 72)
        bytes.put(UInt16(2), at: Format.version)
        bytes.reseal(column: 1)
        writeBytes(bytes, to: directory.file("v2.seg"))
        let reader = try SegmentReader(path: directory.file("v2.seg"))
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
    }

    /// Encoding 2 means something only for int64 and dictionary columns, and only from version 3.
    @Test func theShuffledEncodingIsRefusedWhereItMeansNothing() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("s.seg")
        _ = try writeSegment(path, columns: Self.columns, rows: Array(Self.rows().prefix(500)))
        let valid = fileBytes(path)
        var onFloat = valid
        onFloat[Format.entry(4) + 1] = 2
        onFloat.reseal()
        writeBytes(onFloat, to: directory.file("float.seg"))
        let floatError = #expect(throws: StoreError.self) { _ = try SegmentReader(path: directory.file("float.seg")) }
        #expect(String(describing: floatError).contains("column 'latency' has encoding 2"))
        var versionTwo = valid
        versionTwo.put(UInt16(2), at: Format.version)
        versionTwo.reseal()
        writeBytes(versionTwo, to: directory.file("v2.seg"))
        let versionError = #expect(throws: StoreError.self) { _ = try SegmentReader(path: directory.file("v2.seg")) }
        #expect(String(describing: versionError).contains("column 'line' has encoding 2"))
    }
}
