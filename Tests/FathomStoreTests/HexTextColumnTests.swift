import Foundation
import Testing
@testable import FathomStore

/// Text columns whose values all follow one pattern of lower-case hex digits between fixed bytes,
/// stored as the digits' nibbles (encoding 3, format version 4; SEGMENT-FORMAT.md).
@Suite("Hex-packed text columns")
struct HexTextColumnTests {
    static let columns = [
        ColumnSpec(name: "time", type: .int64),
        ColumnSpec(name: "request_id", type: .text, compressed: true),
        ColumnSpec(name: "note", type: .text),
    ]

    static func hex(_ count: Int, _ generator: inout SplitMix) -> String {
        String((0..<count).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
    }

    static func uuid(_ generator: inout SplitMix) -> [UInt8] {
        Array([hex(8, &generator), hex(4, &generator), hex(4, &generator), hex(4, &generator), hex(12, &generator)]
            .joined(separator: "-").utf8)
    }

    static func rows(_ ids: [[UInt8]]) -> [[Cell?]] {
        ids.enumerated().map { row, id in [.int(Int64(row)), .bytes(id), .bytes(Array("n\(row)".utf8))] }
    }

    static func encoding(_ bytes: [UInt8], column: Int) -> UInt8 { bytes[Format.entry(column) + 1] }

    @Test func uuidsReadBackExactlyInSixteenBytesARow() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("u.seg")
        var generator = SplitMix(seed: 0x0DD_1D5)
        let ids = (0..<5_000).map { _ in Self.uuid(&generator) }
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows(ids))
        let bytes = fileBytes(path)
        #expect(bytes[Format.version] == 4, "a segment with a hex-packed column is version 4")
        #expect(Self.encoding(bytes, column: 1) == 3)
        #expect(Self.encoding(bytes, column: 2) == 0)
        // 16 + 2·36 bytes of pattern, padded to 88, then 16 bytes a row; the count is the text.
        #expect(bytes.u64(at: Format.entry(1) + Format.entryLength) == 88 + 5_000 * 16)
        #expect(bytes.u64(at: Format.entry(1) + Format.entryCount) == 5_000 * 36)
        let reader = try SegmentReader(path: path)
        #expect(reader.columns[1].compressed)
        #expect(try readAll(reader) == expected)
        let column = try reader.text(1)
        #expect(column.byteCount == 5_000 * 36)
        #expect(column.string(at: 4_999) == String(decoding: ids[4_999], as: UTF8.self))
        try reader.verifyChecksums()
        // A second reader of the file takes the first one's validation and still expands.
        #expect(try readAll(SegmentReader(path: path)) == expected)
        // Rows read from the end, and a single row across a block's edge (65,536 = 1,820·36 + 16):
        // each block is expanded when a row first needs it, a row cut by the edge in two parts.
        Self.expectReversed(try SegmentReader(path: path), expected: expected)
        let edge = try SegmentReader(path: path).text(1)
        #expect(edge[1_820].array == ids[1_820])
        #expect(edge[1_821].array == ids[1_821] && edge[1_819].array == ids[1_819])
    }

    /// Reads column 1 from the last row to the first.
    static func expectReversed(_ reader: SegmentReader, expected: [[Cell]]) {
        guard let column = try? reader.text(1) else { Issue.record("column 1 did not open"); return }
        for row in (0..<reader.rowCount).reversed() where Cell.bytes(column[row].array) != expected[1][row] {
            Issue.record("row \(row) read backwards differs")
            return
        }
    }

    /// Patterns of any length and mix — an odd number of digits, fixed bytes that are digits in
    /// no row, a single row — read back exactly.
    @Test(arguments: 1...40)
    func randomPatternsRoundTrip(seed: UInt64) throws {
        var generator = SplitMix(seed: seed)
        let length = Int.random(in: 1...(seed % 4 == 0 ? 300 : 40), using: &generator)
        // Each position a digit (random per row) or a fixed byte that is no lower-case hex digit.
        // Digits at a half of the positions or at most of them (ids are mostly digits).
        let fixedShare = seed % 2 == 0 ? 0.5 : 0.15
        let fixed: [UInt8?] = (0..<length).map { _ in
            Double.random(in: 0..<1, using: &generator) >= fixedShare ? nil : Array("-_:xyzQ.G /".utf8).randomElement(using: &generator)!
        }
        let rows = seed % 5 == 0 ? 1 : Int.random(in: 1...3_000, using: &generator)
        let ids: [[UInt8]] = (0..<rows).map { _ in
            fixed.map { $0 ?? Array("0123456789abcdef".utf8).randomElement(using: &generator)! }
        }
        let digits = fixed.filter { $0 == nil }.count
        let directory = TemporaryDirectory()
        let path = directory.file("r.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows(ids))
        let bytes = fileBytes(path)
        let header = (16 + 2 * length + 7) / 8 * 8
        let packed = header + rows * ((digits + 1) / 2)
        if digits > 0, digits * 4 >= length * 3, Double(packed) <= 0.67 * Double((rows + 1 + 7) / 8 * 64 + rows * length) {
            #expect(Self.encoding(bytes, column: 1) == 3, "length \(length), \(digits) digits, \(rows) rows")
            #expect(bytes.u64(at: Format.entry(1) + Format.entryLength) == UInt64(header + rows * ((digits + 1) / 2)))
        } else {
            #expect(Self.encoding(bytes, column: 1) != 3, "length \(length), \(digits) digits, \(rows) rows")
        }
        let reader = try SegmentReader(path: path)
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
        Self.expectReversed(try SegmentReader(path: path), expected: expected)
    }

    /// The same text on every row (a system prompt) has hex letters here and there: it follows
    /// one pattern but is left to zstd, which stores the repeats for almost nothing.
    @Test func repeatedTextIsLeftToZstd() throws {
        let prompt = Array("You are Penny, AcmeBank's support assistant. Answer briefly and politely.".utf8)
        let directory = TemporaryDirectory()
        let path = directory.file("s.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows(Array(repeating: prompt, count: 2_000)))
        let bytes = fileBytes(path)
        #expect(Self.encoding(bytes, column: 1) == 1)
        #expect(bytes.u64(at: Format.entry(1) + Format.entryLength) < 2_000 * 9)
        #expect(try readAll(SegmentReader(path: path)) == expected)
    }

    /// One value off the first one's pattern keeps the column on zstd (or plain), exact.
    @Test(arguments: ["upper-case digit", "shorter", "empty", "moved dash", "letter for digit", "other fixed byte"])
    func aValueOffThePatternIsNotPacked(change: String) throws {
        var generator = SplitMix(seed: 77)
        var ids = (0..<3_000).map { _ in Self.uuid(&generator) }
        let row = 1_234
        switch change {
        case "upper-case digit": ids[row][ids[row].firstIndex { $0 >= 0x61 }!] -= 0x20
        case "shorter": ids[row].removeLast()
        case "empty": ids[row] = []
        case "moved dash": ids[row].swapAt(8, 9)
        case "letter for digit": ids[row][0] = UInt8(ascii: "g")
        default: ids[row][8] = UInt8(ascii: "_")
        }
        let directory = TemporaryDirectory()
        let path = directory.file("o.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows(ids))
        let bytes = fileBytes(path)
        #expect(Self.encoding(bytes, column: 1) == 1, "\(change): zstd")
        #expect(bytes[Format.version] == 2)
        #expect(try readAll(SegmentReader(path: path)) == expected)
        // The same column not marked compressed is plain, whatever its values.
        let plain = directory.file("p.seg")
        var columns = Self.columns
        columns[1] = ColumnSpec(name: "request_id", type: .text)
        var clean = SplitMix(seed: 78)
        _ = try writeSegment(plain, columns: columns, rows: Self.rows((0..<100).map { _ in Self.uuid(&clean) }))
        #expect(Self.encoding(fileBytes(plain), column: 1) == 0)
    }

    /// A byte just outside the digits' ranges, or one whose low seven bits are a digit, at a digit
    /// position that the packer takes eight at a time (2, in the first run of eight digits, and
    /// 27, in the last run's first eight) or one at a time (33): the column is not packed.
    @Test(arguments: [0x2F, 0x3A, 0x40, 0x41, 0x46, 0x60, 0x67, 0x7F, 0x80, 0xB0, 0xB9, 0xE1, 0xE6, 0xFF] as [UInt8])
    func aByteThatIsNoDigitIsCaught(byte: UInt8) throws {
        for position in [2, 27, 33] {
            var generator = SplitMix(seed: UInt64(byte) << 8 | UInt64(position))
            var ids = (0..<200).map { _ in Self.uuid(&generator) }
            ids[150][position] = byte
            let directory = TemporaryDirectory()
            let path = directory.file("b.seg")
            let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows(ids))
            #expect(Self.encoding(fileBytes(path), column: 1) != 3, "byte \(byte) at \(position)")
            #expect(try readAll(SegmentReader(path: path)) == expected)
        }
    }

    @Test func damageIsReportedWhereItIs() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("h.seg")
        var generator = SplitMix(seed: 5)
        _ = try writeSegment(path, columns: Self.columns, rows: Self.rows((0..<300).map { _ in Self.uuid(&generator) }))
        let valid = fileBytes(path)
        let offset = Int(valid.u64(at: Format.entry(1) + Format.entryOffset))
        func opened(_ bytes: [UInt8], _ name: String) -> String {
            writeBytes(bytes, to: directory.file(name))
            do {
                _ = try SegmentReader(path: directory.file(name)).text(1)
                return ""
            } catch {
                return "\(error)"
            }
        }
        // A mask byte other than 0 or 1, resealed so it gets past the checksum: named at its byte.
        var mask = valid
        mask[offset + 16 + 36 + 3] = 2
        mask.reseal(column: 1)
        #expect(opened(mask, "m.seg").contains("byte \(offset + 16 + 36 + 3)"))
        // A digit position whose template byte is not 0.
        var template = valid
        template[offset + 16] = 0x41
        template.reseal(column: 1)
        #expect(opened(template, "t.seg").contains("template byte 0"))
        // More digits claimed than the mask marks (the length still fits: 31 digits, 16 bytes a row).
        var digits = valid
        digits.put(UInt64(31), at: offset + 8)
        digits.reseal(column: 1)
        #expect(opened(digits, "d.seg").contains("31 digits claimed"))
        // A count that is not rows × length is caught when the directory is read.
        var count = valid
        count.put(valid.u64(at: Format.entry(1) + Format.entryCount) + 36, at: Format.entry(1) + Format.entryCount)
        count.reseal()
        #expect(opened(count, "c.seg").contains("hex-packed text column 'request_id'"))
        // A flipped packed byte fails the column checksum.
        var flipped = valid
        flipped[offset + 100] ^= 0x01
        #expect(opened(flipped, "f.seg").contains("hashes to"))
        // A version-3 segment cannot have encoding 3.
        var relabelled = valid
        relabelled.put(UInt16(3), at: Format.version)
        relabelled.reseal()
        #expect(opened(relabelled, "v.seg").contains("encoding 3"))
        // Random damage, resealed: an error or a column read in full, never a crash.
        var random = SplitMix(seed: 99)
        for trial in 0..<300 {
            var damaged = valid
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: offset..<min(valid.count, offset + 140), using: &random)
                damaged[at] = UInt8.random(in: 0...255, using: &random)
            }
            damaged.reseal(column: 1)
            let name = "x\(trial).seg"
            writeBytes(damaged, to: directory.file(name))
            if let reader = try? SegmentReader(path: directory.file(name)), let column = try? reader.text(1) {
                column.forEachRow { _, value in #expect(value.count == 36) }
            }
        }
    }
}
