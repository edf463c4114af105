import Foundation
import Testing
import FathomStore

// MARK: - Helpers

/// A fresh temporary directory, removed when the value is dropped. It is on tmpfs (`/dev/shm`)
/// when there is one, so the many small files and `fsync`s of these tests cost no disk time.
final class TemporaryDirectory {
    let path: String

    init() {
        var isDirectory: ObjCBool = false
        let base = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory) && isDirectory.boolValue
            ? "/dev/shm/" : NSTemporaryDirectory()
        path = base + "fathom-segment-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// A value of a cell, for comparing what was written with what was read.
enum Cell: Equatable {
    case int(Int64)
    case double(Double)  // NaN compared by bit pattern
    case bytes([UInt8])
    case hash(Hash128)

    static func == (lhs: Cell, rhs: Cell) -> Bool {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        case let (.bytes(a), .bytes(b)): return a == b
        case let (.hash(a), .hash(b)): return a == b
        default: return false
        }
    }

    static func null(_ type: ColumnType) -> Cell {
        switch type {
        case .int64: return .int(.min)
        case .float64: return .double(.nan)
        case .dictionary, .text: return .bytes([])
        case .hash128: return .hash(.null)
        }
    }
}

extension SegmentBuilder {
    /// Sets a cell; nil leaves the column unset (null).
    func set(_ cell: Cell?, at column: Int) {
        switch cell {
        case nil: break
        case let .int(value)?: setInt64(value, at: column)
        case let .double(value)?: setDouble(value, at: column)
        case let .bytes(value)?:
            value.withUnsafeBytes { setString(ByteView(unsafeStart: $0.baseAddress, count: $0.count), at: column) }
        case let .hash(value)?: setHash(value, at: column)
        }
    }
}

/// Reads every cell of every column.
func readAll(_ reader: SegmentReader) throws(StoreError) -> [[Cell]] {
    var result: [[Cell]] = []
    for (index, column) in reader.columns.enumerated() {
        var cells: [Cell] = []
        cells.reserveCapacity(reader.rowCount)
        switch column.type {
        case .int64:
            let values = try reader.int64(index)
            values.forEachRow { _, value in cells.append(.int(value)) }
        case .float64:
            let values = try reader.float64(index)
            for row in 0..<values.count { cells.append(.double(values[row])) }
        case .dictionary:
            let values = try reader.dictionary(index)
            for row in 0..<values.count { cells.append(.bytes(values[row].array)) }
        case .text:
            let values = try reader.text(index)
            values.forEachRow { _, value in cells.append(.bytes(value.array)) }
        case .hash128:
            let values = try reader.hash128(index)
            for row in 0..<values.count { cells.append(.hash(values[row])) }
        }
        result.append(cells)
    }
    return result
}

/// Writes `rows` (row-major, nil = unset) and returns the columns as they should read back.
@discardableResult
func writeSegment(
    _ path: String, columns: [ColumnSpec], rows: [[Cell?]], kind: UInt8 = 3, archiveID: Int64 = 42,
    timeColumn: Int = 0
) throws -> (info: SegmentInfo, expected: [[Cell]]) {
    let builder = SegmentBuilder(kindCode: kind, columns: columns, timeColumn: timeColumn)
    var expected = Array(repeating: [Cell](), count: columns.count)
    for row in rows {
        for (index, cell) in row.enumerated() {
            builder.set(cell, at: index)
            expected[index].append(cell ?? .null(columns[index].type))
        }
        builder.endRow()
    }
    let info = try builder.write(to: path, archiveID: archiveID)
    return (info, expected)
}

let mixedColumns = [
    ColumnSpec(name: "time", type: .int64),
    ColumnSpec(name: "latency", type: .float64),
    ColumnSpec(name: "model", type: .dictionary),
    ColumnSpec(name: "prompt", type: .text),
    ColumnSpec(name: "client", type: .hash128),
]

func randomBytes(_ generator: inout SplitMix, maxCount: Int) -> [UInt8] {
    let count = Int.random(in: 0...maxCount, using: &generator)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// A random schema (column 0 is always the int64 time column) and random rows, some cells unset.
func randomSegment(_ generator: inout SplitMix, rows: Int) -> ([ColumnSpec], [[Cell?]]) {
    var columns = [ColumnSpec(name: "time", type: .int64)]
    for index in 0..<Int.random(in: 0...7, using: &generator) {
        let type = ColumnType.allCases.randomElement(using: &generator) ?? .int64
        // Any type may be compressed: text by blocks, the others packed.
        let compressed = Bool.random(using: &generator)
        columns.append(ColumnSpec(name: "c\(index)-\(type)\(compressed ? "-z" : "")", type: type, compressed: compressed))
    }
    let vocabulary = (0..<Int.random(in: 1...50, using: &generator)).map { _ in randomBytes(&generator, maxCount: 12) }
    var result: [[Cell?]] = []
    for _ in 0..<rows {
        var row: [Cell?] = []
        for column in columns {
            if Int.random(in: 0..<5, using: &generator) == 0 {
                row.append(nil)
                continue
            }
            switch column.type {
            case .int64: row.append(.int(Int64.random(in: .min ... .max, using: &generator)))
            case .float64:
                let choice = Int.random(in: 0..<4, using: &generator)
                row.append(.double(choice == 0 ? .infinity : Double.random(in: -1e9...1e9, using: &generator)))
            case .dictionary: row.append(.bytes(vocabulary.randomElement(using: &generator) ?? []))
            case .text: row.append(.bytes(randomBytes(&generator, maxCount: 40)))
            case .hash128:
                row.append(.hash(Hash128(low: generator.next(), high: generator.next())))
            }
        }
        result.append(row)
    }
    return (columns, result)
}

func fileBytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

// Format offsets, pinned here independently of the implementation (see SEGMENT-FORMAT.md).
enum Format {
    static let headerChecksum = 8
    static let version = 16
    static let metadataEnd = 64
    static func entry(_ column: Int) -> Int { 128 + column * 64 }
    static let entryOffset = 8, entryLength = 16, entryCount = 24, entryChecksum = 32
}

extension Array where Element == UInt8 {
    func u64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[offset + $1]) << (8 * UInt64($1)) }
    }

    mutating func put(_ value: UInt64, at offset: Int) {
        for index in 0..<8 { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }

    mutating func put(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    /// Recomputes the checksum of `column` (when its range is in bounds) and then of the header, so
    /// that corruption gets past the checksums to the structural checks behind them.
    mutating func reseal(column: Int? = nil) {
        if let column {
            let entry = Format.entry(column)
            guard entry + 40 <= count else { return }
            let offset = Int(clamping: u64(at: entry + Format.entryOffset))
            let length = Int(clamping: u64(at: entry + Format.entryLength))
            if offset >= 0, length >= 0, offset <= count, length <= count - offset {
                put(XXH64.hash(Array(self[offset..<offset + length])), at: entry + Format.entryChecksum)
            }
        }
        guard count >= 128 else { return }
        let end = Int(clamping: u64(at: Format.metadataEnd))
        guard end >= 16, end <= count else { return }
        put(XXH64.hash(Array(self[16..<end])), at: Format.headerChecksum)
    }
}

// MARK: - Round trips

@Suite("Segment round trips")
struct SegmentRoundTripTests {
    @Test func everyColumnTypeWithNullsEdgeCasesAndLargeValues() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("mixed.seg")
        let large = [UInt8](repeating: 0xE2, count: 400_000) + Array("…end".utf8)
        let rows: [[Cell?]] = [
            [.int(1_700_000_000_000), .double(0.25), .bytes(Array("gpt-4o".utf8)), .bytes(Array("hello".utf8)), .hash(Hash128.of("10.0.0.1"))],
            [nil, nil, nil, nil, nil],
            [.int(-5), .double(-.infinity), .bytes([]), .bytes([]), .hash(Hash128.of(""))],
            [.int(1_699_999_999_000), .double(.nan), .bytes(Array("模型-ü-🚀".utf8)), .bytes(Array("prompt → “ignore previous” 🙈".utf8)), .hash(.null)],
            [.int(Int64.max), .double(1e308), .bytes([0xFF, 0xFE, 0x00, 0xC3]), .bytes([0xC3, 0x28, 0xA0, 0xA1, 0x00]), .hash(Hash128(low: 0, high: 1))],
            [.int(0), .double(-0.0), .bytes(Array("gpt-4o".utf8)), .bytes(large), .hash(Hash128.of("10.0.0.1"))],
        ]
        let (info, expected) = try writeSegment(path, columns: mixedColumns, rows: rows, kind: 9, archiveID: -7)
        let reader = try SegmentReader(path: path)
        #expect(reader.kindCode == 9)
        #expect(reader.archiveID == -7)
        #expect(reader.rowCount == rows.count)
        #expect(reader.columns == mixedColumns)
        #expect(reader.timeColumn == 0)
        #expect(reader.minTime == -5 && reader.maxTime == Int64.max)
        #expect(info == SegmentInfo(rows: 6, minTime: -5, maxTime: .max, bytes: reader.byteCount, checksum: reader.checksum))
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()

        let models = try reader.dictionary(2)
        #expect(models.entryCount == 4)  // "", "gpt-4o", "模型-ü-🚀", bytes
        #expect(models.code(at: 0) == models.code(at: 5))
        #expect(models.code(at: 1) == 0 && models.code(at: 2) == 0)
        #expect(models.string(at: 3) == "模型-ü-🚀")
        #expect(models.string(at: 4).contains("\u{FFFD}"))
        #expect(models.code(for: "gpt-4o") == 1)
        #expect(models.code(for: "absent") == nil)
        let prompts = try reader.text(3)
        #expect(prompts.string(at: 3) == "prompt → “ignore previous” 🙈")
        #expect(prompts[5].count == large.count)
        #expect(prompts.byteCount == 5 + "prompt → “ignore previous” 🙈".utf8.count + 5 + large.count)
        #expect(reader.columnIndex(named: "prompt") == 3)
        #expect(reader.columnIndex(named: "nope") == nil)
    }

    @Test(arguments: [0, 1])
    func tinySegments(rows: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("tiny.seg")
        let rowValues: [[Cell?]] = Array(repeating: [.int(3), nil, .bytes([1]), .bytes([2]), nil], count: rows)
        let (info, expected) = try writeSegment(path, columns: mixedColumns, rows: rowValues)
        let reader = try SegmentReader(path: path)
        #expect(reader.rowCount == rows)
        #expect(info.rows == rows)
        #expect(reader.minTime == (rows == 0 ? nil : 3))
        #expect(info.minTime == reader.minTime && info.maxTime == reader.maxTime)
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
    }

    @Test func allNullTimeHasNoTimeRange() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("notime.seg")
        let (info, _) = try writeSegment(path, columns: mixedColumns, rows: [[nil, .double(1), nil, nil, nil]])
        let reader = try SegmentReader(path: path)
        #expect(info.minTime == nil && reader.minTime == nil && reader.maxTime == nil)
    }

    /// A dictionary column codes each distinct value once and reads every row back: values that
    /// differ only in their last byte, only past the 24th, only by trailing zero bytes or only in
    /// length; values beyond 255 bytes; and enough of them (in two segments, the second from the
    /// same builder after a reset, reusing its table) for the table to grow several times.
    @Test func dictionaryValuesOfEveryLengthCodeOnce() throws {
        var generator = SplitMix(seed: 24)
        var vocabulary: [[UInt8]] = []
        for length in [1, 2, 7, 8, 15, 16, 23, 24, 25, 31, 32, 200, 255, 256, 300] {
            let base = (0..<length).map { _ in UInt8.random(in: 1...255, using: &generator) }
            vocabulary.append(base)
            var lastChanged = base
            lastChanged[length - 1] ^= 0x5A
            vocabulary.append(lastChanged)
            vocabulary.append(base + [0])
            vocabulary.append(base + [0, 0])
            if length > 24 {
                var pastInline = base
                pastInline[24] ^= 0x01
                vocabulary.append(pastInline)
            }
            vocabulary.append(Array(base.dropLast()))
        }
        for index in 0..<6_000 { vocabulary.append(Array("10.\(index % 256).\(index / 256).\(index % 7)".utf8)) }
        let distinct = Set(vocabulary.filter { !$0.isEmpty })
        let directory = TemporaryDirectory()
        let builder = SegmentBuilder(kindCode: 3, columns: [ColumnSpec(name: "value", type: .dictionary)], timeColumn: -1)
        for round in 0..<2 {
            var rows: [[UInt8]] = vocabulary.shuffled(using: &generator)
            rows += (0..<4_000).map { _ in vocabulary.randomElement(using: &generator) ?? [] }
            for row in rows {
                builder.set(.bytes(row), at: 0)
                builder.endRow()
            }
            let path = directory.file("dictionary-\(round).seg")
            _ = try builder.write(to: path, archiveID: 1)
            let reader = try SegmentReader(path: path)
            #expect(try readAll(reader) == [rows.map { .bytes($0) }])
            // One entry per distinct value, and the empty entry.
            #expect(try reader.dictionary(0).entryCount == distinct.count + 1)
            builder.reset()
        }
    }

    @Test func segmentWithoutTimeColumn() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("notimecolumn.seg")
        let columns = [ColumnSpec(name: "name", type: .dictionary)]
        let (info, expected) = try writeSegment(path, columns: columns, rows: [[.bytes([65])]], timeColumn: -1)
        let reader = try SegmentReader(path: path)
        #expect(reader.timeColumn == nil && info.minTime == nil)
        #expect(try readAll(reader) == expected)
    }

    @Test(arguments: 1...12)
    func seededRandomSchemaRoundTrip(seed: UInt64) throws {
        var generator = SplitMix(seed: seed)
        let directory = TemporaryDirectory()
        let path = directory.file("random.seg")
        let (columns, rows) = randomSegment(&generator, rows: Int.random(in: 0...3_000, using: &generator))
        let (info, expected) = try writeSegment(path, columns: columns, rows: rows)
        let reader = try SegmentReader(path: path)
        // A column marked compressed may be stored plain (its first block did not shrink enough);
        // one not marked is never compressed.
        #expect(reader.columns.map(\.name) == columns.map(\.name) && reader.columns.map(\.type) == columns.map(\.type))
        #expect(zip(reader.columns, columns).allSatisfy { !$0.compressed || $1.compressed })
        #expect(try readAll(reader) == expected)
        let times = expected[0].compactMap { cell -> Int64? in
            if case let .int(value) = cell, value != .min { return value }
            return nil
        }
        #expect(reader.minTime == times.min() && reader.maxTime == times.max())
        #expect(info.minTime == times.min() && info.maxTime == times.max())
        try reader.verifyChecksums()
    }

    @Test func manyRowsWithBulkPaths() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("many.seg")
        let rows = 200_000
        let builder = SegmentBuilder(kindCode: 1, columns: mixedColumns)
        let models = ["gpt-4o", "claude", "llama-3", "mistral", ""]
        let prompts = (0..<1_000).map { "prompt number \($0)" }
        let clients = (0..<1_000).map { Hash128.of("client-\($0)") }
        for row in 0..<rows {
            builder.setInt64(Int64(row) * 1_000, at: 0)
            if row % 7 != 0 { builder.setDouble(Double(row) / 8, at: 1) }
            builder.setString(models[row % models.count], at: 2)
            builder.setString(prompts[row % 1_000], at: 3)
            builder.setHash(clients[row % 1_000], at: 4)
            builder.endRow()
        }
        #expect(builder.rowCount == rows)
        #expect(builder.estimatedBytes > rows * (8 + 8 + 4 + 16 + 8))
        let info = try builder.write(to: path, archiveID: 1)
        #expect(info.minTime == 0 && info.maxTime == Int64(rows - 1) * 1_000)

        let reader = try SegmentReader(path: path)
        let times = try reader.int64(0)
        let sum = times.withSpan { span in
            var total: Int64 = 0
            for index in span.indices { total &+= span[index] }
            return total
        }
        #expect(sum == 1_000 * Int64(rows) * Int64(rows - 1) / 2)
        let latencies = try reader.float64(1)
        var nulls = 0
        latencies.forEachRow { _, value in if value.isNaN { nulls += 1 } }
        #expect(nulls == (rows + 6) / 7)
        let model = try reader.dictionary(2)
        let claude = try #require(model.code(for: "claude"))
        let claudeRows = model.withCodeSpan { span in
            var count = 0
            for index in span.indices where span[index] == claude { count += 1 }
            return count
        }
        #expect(claudeRows == rows / models.count)
        let promptColumn = try reader.text(3)
        var promptBytes = 0
        promptColumn.forEachRow { _, value in promptBytes += value.count }
        #expect(promptBytes == promptColumn.byteCount)
        #expect(promptColumn.string(at: 123_456) == "prompt number 456")
        let clientColumn = try reader.hash128(4)
        for row in stride(from: 0, to: rows, by: 4_999) {
            #expect(clientColumn[row] == clients[row % 1_000])
        }
    }

    /// Values of 1 to 40 bytes that differ in one byte only (the last, or a zero byte first), or
    /// in length only (zero bytes), are all told apart, and every repeat finds its entry, across
    /// the builder's table growing.
    @Test func dictionaryTellsApartValuesThatDifferInOneByte() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("inline.seg")
        let builder = SegmentBuilder(kindCode: 2, columns: [ColumnSpec(name: "key", type: .dictionary)], timeColumn: -1)
        var values: [[UInt8]] = []
        for length in 1...40 {
            for variant in 0..<300 {
                var value = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                value[length - 1] = UInt8(truncatingIfNeeded: variant)             // last byte only
                if variant >= 256 { value[0] = UInt8(variant - 256) }                // a zero byte first, or at the end
                values.append(value)
            }
        }
        values.append([UInt8](repeating: 0, count: 3))
        values.append([UInt8](repeating: 0, count: 24))
        values.append([UInt8](repeating: 0, count: 25))
        var distinct: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for value in values where seen.insert(value).inserted { distinct.append(value) }
        // Each value first in order, then every value again in a scrambled order.
        var rows = distinct
        var state: UInt64 = 7
        for _ in 0..<(distinct.count * 2) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            rows.append(distinct[Int(state >> 33) % distinct.count])
        }
        for value in rows {
            builder.set(.bytes(value), at: 0)
            builder.endRow()
        }
        _ = try builder.write(to: path, archiveID: 0)
        let keys = try SegmentReader(path: path).dictionary(0)
        #expect(keys.entryCount == distinct.count + 1)
        for (row, value) in rows.enumerated() {
            let code = keys.code(at: row)
            #expect(keys.entry(code).array == value, "row \(row)")
            if row < distinct.count { #expect(code == UInt32(row + 1)) }
        }
    }

    @Test func dictionaryWithManyDistinctAndRepeatedValuesHasStableCodes() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("dictionary.seg")
        let columns = [ColumnSpec(name: "time", type: .int64), ColumnSpec(name: "key", type: .dictionary)]
        let builder = SegmentBuilder(kindCode: 2, columns: columns)
        let distinct = 50_000
        // Each value appears first at row `value`, then again in a second pass in reverse.
        for value in 0..<distinct {
            builder.setString("value-\(value)", at: 1)
            builder.endRow()
        }
        for value in (0..<distinct).reversed() {
            builder.setString("value-\(value)", at: 1)
            builder.endRow()
        }
        _ = try builder.write(to: path, archiveID: 0)
        let reader = try SegmentReader(path: path)
        let keys = try reader.dictionary(1)
        #expect(keys.entryCount == distinct + 1)
        for value in stride(from: 0, to: distinct, by: 997) {
            #expect(keys.code(at: value) == UInt32(value + 1))
            #expect(keys.code(at: 2 * distinct - 1 - value) == UInt32(value + 1))
            #expect(keys.entry(UInt32(value + 1)).equals("value-\(value)"))
        }
        #expect(keys.entry(0).isEmpty)

        // The same input gives the same codes and the same bytes.
        let again = directory.file("again.seg")
        builder.reset()
        for value in 0..<distinct {
            builder.setString("value-\(value)", at: 1)
            builder.endRow()
        }
        for value in (0..<distinct).reversed() {
            builder.setString("value-\(value)", at: 1)
            builder.endRow()
        }
        _ = try builder.write(to: again, archiveID: 0)
        #expect(fileBytes(path) == fileBytes(again))
    }

    @Test func settingAColumnTwiceKeepsTheLastValueAndResetEmpties() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("twice.seg")
        let builder = SegmentBuilder(kindCode: 1, columns: mixedColumns)
        builder.setInt64(1, at: 0)
        builder.setInt64(2, at: 0)
        builder.setDouble(1, at: 1)
        builder.setDouble(2, at: 1)
        builder.setString("a", at: 2)
        builder.setString("b", at: 2)
        builder.setString("first text", at: 3)
        builder.setString("second", at: 3)
        builder.setHash(Hash128.of("a"), at: 4)
        builder.setHash(of: ByteView.empty, at: 4)
        builder.endRow()
        builder.setString("next", at: 3)
        builder.endRow()
        // A row in progress is not written.
        builder.setString("in progress", at: 3)
        builder.setString("new entry", at: 2)
        _ = try builder.write(to: path, archiveID: 0)
        let reader = try SegmentReader(path: path)
        #expect(reader.rowCount == 2)
        try reader.verifyChecksums()
        #expect(try reader.int64(0)[0] == 2)
        #expect(try reader.float64(1)[0] == 2)
        #expect(try reader.dictionary(2).string(at: 0) == "b")
        #expect(try reader.text(3).string(at: 0) == "second")
        #expect(try reader.text(3).string(at: 1) == "next")
        #expect(try reader.hash128(4)[0] == Hash128.of(""))

        builder.reset()
        #expect(builder.rowCount == 0)
        builder.setString("x", at: 2)
        builder.endRow()
        _ = try builder.write(to: path, archiveID: 0)
        let fresh = try SegmentReader(path: path)
        #expect(fresh.rowCount == 1)
        #expect(try fresh.dictionary(2).entryCount == 2)
        #expect(try fresh.text(3).string(at: 0) == "")
    }

    /// Past a few thousand entries a dictionary looks its values up in batches (the reads of many
    /// lookups in flight together). The codes must be those of one-by-one lookups: entries numbered
    /// in the order values were first set (values replaced in their row and values of discarded
    /// rows included), each row's code that of the value set last in it, whatever the batch
    /// boundaries and wherever the segment is written.
    @Test(arguments: [1, 2, 3])
    func batchedDictionaryLookupsGiveTheCodesOfOneByOneLookups(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        let columns = [ColumnSpec(name: "time", type: .int64), ColumnSpec(name: "address", type: .dictionary),
                       ColumnSpec(name: "key", type: .dictionary)]
        let builder = SegmentBuilder(kindCode: 2, columns: columns)
        var random = SplitMix(seed: seed)
        // Expected: entries in first-set order per column, and each committed row's last value.
        var entries: [[String]] = [[], []]
        var seen: [Set<String>] = [[], []]
        var rows: [[String]] = []
        func set(_ value: String, _ column: Int, into row: inout [String]) {
            builder.setString(value, at: column + 1)
            if !value.isEmpty, seen[column].insert(value).inserted { entries[column].append(value) }
            row[column] = value
        }
        for index in 0..<30_000 {
            var row = ["", ""]
            builder.setInt64(Int64(index), at: 0)
            for column in 0..<2 {
                // Mostly new values early (so the dictionaries pass the batching threshold), then
                // a mix of repeats, the previous row's value, empties and new values; sometimes
                // set twice in one row.
                for _ in 0..<(random.next() % 8 == 0 ? 2 : 1) {
                    let draw = random.next() % 10
                    let value: String
                    if index < 6_000 || draw < 3 {
                        value = "v\(column)-\(random.next() % 40_000)"
                    } else if draw < 6, let last = rows.last {
                        value = last[column]
                    } else if draw < 7 {
                        value = ""
                    } else {
                        value = entries[column].isEmpty ? "first" : entries[column][Int(random.next() % UInt64(entries[column].count))]
                    }
                    set(value, column, into: &row)
                }
                // An empty value set last makes the row's value null.
                if random.next() % 16 == 0 { set("", column, into: &row) }
            }
            if random.next() % 50 == 0 {
                builder.discardRow()
            } else {
                builder.endRow()
                rows.append(row)
            }
        }
        // Written at a row count that is not a batch boundary, with a row in progress.
        var progress = ["", ""]
        set("in progress \(seed)", 0, into: &progress)
        let path = directory.file("batched.seg")
        _ = try builder.write(to: path, archiveID: 0)
        let reader = try SegmentReader(path: path)
        #expect(reader.rowCount == rows.count)
        for column in 0..<2 {
            let dictionary = try reader.dictionary(column + 1)
            #expect(dictionary.entryCount == entries[column].count + 1)
            for (offset, value) in entries[column].enumerated() where offset < dictionary.entryCount - 1 {
                #expect(dictionary.entry(UInt32(offset + 1)).equals(value), "entry \(offset + 1) of column \(column)")
            }
            var wrong = 0
            for (index, row) in rows.enumerated() where dictionary.string(at: index) != row[column] { wrong += 1 }
            #expect(wrong == 0, "column \(column): \(wrong) rows with another value")
        }
    }

    @Test func wrongColumnTypeIsAnErrorNotACrash() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("types.seg")
        try writeSegment(path, columns: mixedColumns, rows: [[.int(1), nil, nil, nil, nil]])
        let reader = try SegmentReader(path: path)
        #expect(throws: StoreError.unsupported(path: path, detail: "column 'time' is int64, not text")) {
            try reader.text(0)
        }
    }

    @Test func concurrentReadersShareOneValidation() async throws {
        let directory = TemporaryDirectory()
        let path = directory.file("concurrent.seg")
        var generator = SplitMix(seed: 99)
        let (columns, rows) = randomSegment(&generator, rows: 2_000)
        let (_, expected) = try writeSegment(path, columns: columns, rows: rows)
        let reader = try SegmentReader(path: path)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { try readAll(reader) == expected } }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

/// Reads every value of every column without keeping them; returns the number of cells read.
func touchAll(_ reader: SegmentReader) throws(StoreError) -> Int {
    var cells = 0
    var sink = 0
    for (index, column) in reader.columns.enumerated() {
        switch column.type {
        case .int64: try reader.int64(index).forEachRow { _, value in sink &+= Int(truncatingIfNeeded: value) }
        case .float64: try reader.float64(index).forEachRow { _, value in sink &+= value.isNaN ? 1 : 0 }
        case .hash128: try reader.hash128(index).forEachRow { _, value in sink &+= Int(truncatingIfNeeded: value.low) }
        case .text: try reader.text(index).forEachRow { _, value in sink &+= Int(value[value.count - 1]) }
        case .dictionary:
            let values = try reader.dictionary(index)
            for row in 0..<values.count { sink &+= Int(values[row][0]) }
        }
        cells += reader.rowCount
    }
    _ = sink
    return cells
}

// MARK: - Crash safety

@Suite("Segment crash safety")
struct SegmentCrashSafetyTests {
    @Test func writeLeavesNoTemporaryFileAndReplacesAtomically() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("a.seg")
        try writeSegment(path, columns: mixedColumns, rows: [[.int(1), nil, nil, nil, nil]])
        try writeSegment(path, columns: mixedColumns, rows: [[.int(2), nil, nil, nil, nil], [.int(3), nil, nil, nil, nil]])
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["a.seg"])
        #expect(try SegmentReader(path: path).rowCount == 2)
    }

    @Test func deferredDurabilityWritesTheSameSegmentAndSyncsItLater() throws {
        let directory = TemporaryDirectory()
        let eager = directory.file("eager.seg")
        let deferred = directory.file("deferred.seg")
        let rows = (0..<50).map { (index: Int) -> [Cell?] in
            let time: Cell = .int(Int64(index))
            let latency: Cell = .double(Double(index) / 3)
            let model: Cell = .bytes(Array("m\(index % 3)".utf8))
            let prompt: Cell = .bytes(Array("p\(index)".utf8))
            return [time, latency, model, prompt, nil]
        }
        let (eagerInfo, _) = try writeSegment(eager, columns: mixedColumns, rows: rows)
        let builder = SegmentBuilder(kindCode: 3, columns: mixedColumns, timeColumn: 0)
        for row in rows {
            for (index, cell) in row.enumerated() { builder.set(cell, at: index) }
            builder.endRow()
        }
        let deferredInfo = try builder.write(to: deferred, archiveID: 42, durable: false)
        // Published under its name at once, byte for byte what an fsync'ed write gives.
        #expect(deferredInfo.checksum == eagerInfo.checksum)
        #expect(try Data(contentsOf: URL(fileURLWithPath: deferred)) == Data(contentsOf: URL(fileURLWithPath: eager)))
        try SegmentBuilder.makeDurable([deferred, eager])
        #expect(throws: StoreError.io(path: directory.file("gone.seg"), operation: "open", code: ENOENT)) {
            try SegmentBuilder.makeDurable([directory.file("gone.seg")])
        }
    }

    @Test func writeIntoAMissingDirectoryThrowsIOError() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("missing/a.seg")
        #expect(throws: StoreError.io(path: path + ".tmp", operation: "create", code: ENOENT)) {
            try writeSegment(path, columns: mixedColumns, rows: [])
        }
    }
}

// MARK: - Corruption

/// One way of damaging a valid segment, and what the reader must say about it.
struct Damage: CustomTestStringConvertible, Sendable {
    var name: String
    /// Changes the bytes of the valid segment (written from `corruptionRows`).
    var apply: @Sendable (inout [UInt8]) -> Void
    /// The offset the error must name, computed from the valid bytes.
    var expectedOffset: @Sendable ([UInt8]) -> Int
    /// Text the error detail must contain.
    var detail: String
    /// Whether the damage shows only when the columns are read (not at open).
    var onColumnAccess = false

    var testDescription: String { name }
}

/// Columns: 0 time int64, 1 latency float64, 2 model dictionary, 3 prompt text, 4 client hash128.
let corruptionRows: [[Cell?]] = (0..<40).map { row in
    [.int(Int64(row)), .double(Double(row)), .bytes(Array("model-\(row % 3)".utf8)),
     .bytes(Array("prompt \(row)".utf8)), .hash(Hash128.of("c\(row)"))]
}

func columnOffset(_ bytes: [UInt8], _ column: Int) -> Int {
    Int(bytes.u64(at: Format.entry(column) + Format.entryOffset))
}

let damages: [Damage] = [
    Damage(name: "bad magic", apply: { $0[0] = UInt8(ascii: "X") }, expectedOffset: { _ in 0 }, detail: "magic"),
    Damage(name: "wrong version", apply: { $0.put(UInt16(5), at: Format.version); $0.reseal() },
           expectedOffset: { _ in Format.version }, detail: "format version 5, expected 1 to 4"),
    Damage(name: "empty file", apply: { $0 = [] }, expectedOffset: { _ in 0 }, detail: "shorter than"),
    Damage(name: "truncated inside the header", apply: { $0.removeLast($0.count - 100) },
           expectedOffset: { _ in 100 }, detail: "shorter than the 128-byte segment header"),
    Damage(name: "truncated inside the directory", apply: { $0.removeLast($0.count - 200) },
           expectedOffset: { _ in Format.metadataEnd }, detail: "past the file end (200)"),
    Damage(name: "truncated inside the data", apply: { $0.removeLast(1_000) },
           expectedOffset: { $0.count - 1_000 }, detail: "(truncated)"),
    Damage(name: "truncated by one byte", apply: { $0.removeLast() },
           expectedOffset: { $0.count - 1 }, detail: "(truncated)"),
    Damage(name: "header checksum mismatch", apply: { $0[Format.entry(1) + 40] ^= 1 },
           expectedOffset: { _ in Format.headerChecksum }, detail: "header checksum"),
    Damage(name: "column offset past the end",
           apply: { bytes in bytes.put(UInt64(bytes.count + 64) & ~63, at: Format.entry(4) + Format.entryOffset); bytes.reseal() },
           expectedOffset: { _ in Format.entry(4) + Format.entryOffset }, detail: "column 'client' starts at byte"),
    Damage(name: "column length past the end",
           apply: { bytes in bytes.put(UInt64(bytes.count), at: Format.entry(0) + Format.entryLength); bytes.reseal() },
           expectedOffset: { _ in Format.entry(0) + Format.entryLength }, detail: "past the file end"),
    Damage(name: "misaligned column",
           apply: { bytes in bytes.put(UInt64(columnOffset(bytes, 1) + 8), at: Format.entry(1) + Format.entryOffset); bytes.reseal() },
           expectedOffset: { _ in Format.entry(1) + Format.entryOffset }, detail: "not 64-byte aligned"),
    Damage(name: "text offsets not monotonic",
           apply: { bytes in
               let offsets = columnOffset(bytes, 3)
               bytes.put(bytes.u64(at: offsets + 16) + 1, at: offsets + 8)  // row 0 ends after row 1 ends
               bytes.reseal(column: 3)
           },
           expectedOffset: { columnOffset($0, 3) + 16 }, detail: "before it starts", onColumnAccess: true),
    Damage(name: "dictionary entry offset past the end",
           apply: { bytes in
               let offsets = columnOffset(bytes, 2) + 64 * ((corruptionRows.count * 4 + 63) / 64)
               bytes.put(UInt64(1) << 40, at: offsets + 16)  // entry 1 ends far away
               bytes.reseal(column: 2)
           },
           expectedOffset: { columnOffset($0, 2) + 64 * ((corruptionRows.count * 4 + 63) / 64) + 16 },
           detail: "past the end", onColumnAccess: true),
    Damage(name: "dictionary code out of range",
           apply: { bytes in
               let codes = columnOffset(bytes, 2)
               bytes[codes + 4 * 7 + 2] = 0x7F
               bytes.reseal(column: 2)
           },
           expectedOffset: { columnOffset($0, 2) + 4 * 7 }, detail: "row 7 of column 'model' has dictionary code",
           onColumnAccess: true),
    Damage(name: "flipped byte in column data",
           apply: { bytes in bytes[columnOffset(bytes, 1) + 13] ^= 0x20 },
           expectedOffset: { columnOffset($0, 1) }, detail: "column 'latency'", onColumnAccess: true),
]

@Suite("Segment corruption")
struct SegmentCorruptionTests {
    @Test(arguments: damages)
    func damageIsReportedWithFileAndOffset(damage: Damage) throws {
        let directory = TemporaryDirectory()
        let valid = directory.file("valid.seg")
        try writeSegment(valid, columns: mixedColumns, rows: corruptionRows)
        let original = fileBytes(valid)
        var bytes = original
        damage.apply(&bytes)
        let path = directory.file("damaged.seg")
        writeBytes(bytes, to: path)

        let error: StoreError?
        if damage.onColumnAccess {
            let reader = try SegmentReader(path: path)
            error = #expect(throws: StoreError.self) { _ = try readAll(reader) }
            #expect(throws: StoreError.self) { try reader.verifyChecksums() }
            // The failure is cached: asking again gives the same answer.
            let again = #expect(throws: StoreError.self) { _ = try readAll(reader) }
            #expect(again == error)
        } else {
            error = #expect(throws: StoreError.self) { _ = try SegmentReader(path: path) }
        }
        guard case let .corrupt(errorPath, offset, detail)? = error else {
            Issue.record("expected a corruption error, got \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(offset == damage.expectedOffset(original))
        #expect(detail.contains(damage.detail), "\(detail)")
        let description = error.map(String.init(describing:)) ?? ""
        #expect(description.contains(path) && description.contains("at byte \(offset)"))
    }

    @Test func seededFuzzNeverCrashes() throws {
        let directory = TemporaryDirectory()
        let valid = directory.file("valid.seg")
        var generator = SplitMix(seed: 2024)
        let (columns, rows) = randomSegment(&generator, rows: 60)
        try writeSegment(valid, columns: mixedColumns + columns.dropFirst().map {
            ColumnSpec(name: "extra-" + $0.name, type: $0.type)
        }, rows: corruptionRows.prefix(60).enumerated().map { index, row in row + rows[index].dropFirst() })
        let original = fileBytes(valid)
        var opened = 0, readFully = 0, rejected = 0
        for iteration in 0..<500 {
            var bytes = original
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
            default:
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<bytes.count, using: &generator)
                    bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
                }
            }
            // Half the time, re-seal the checksums so the structural checks behind them are exercised.
            if Bool.random(using: &generator) {
                let count = Int(clamping: bytes.count >= 24 ? UInt64(bytes[20]) : 0)
                for column in 0..<Swift.min(count, 16) { bytes.reseal(column: column) }
                bytes.reseal()
            }
            let path = directory.file("fuzz-\(iteration).seg")
            writeBytes(bytes, to: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                let reader = try SegmentReader(path: path)
                opened += 1
                let touched = try touchAll(reader)
                try reader.verifyChecksums()
                readFully += 1
                #expect(touched == reader.rowCount * reader.columns.count)
            } catch {
                rejected += 1
                if case let .corrupt(errorPath, offset, _) = error {
                    #expect(errorPath == path)
                    #expect(offset >= 0)
                } else if case .unsupported = error {
                    // A flipped type byte can make a typed accessor disagree; that is fine.
                } else {
                    Issue.record("unexpected error \(error)")
                }
            }
        }
        #expect(opened + rejected >= 500)
        #expect(rejected > 250)
    }
}

@Suite struct CLibraryTests {
    @Test func findsTheGlibcFunctionsItIsUsedFor() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
        #expect(CLibrary.function("malloc_trim", as: Trim.self) != nil)
        #expect(CLibrary.function("sync_file_range", as: SyncFileRange.self) != nil)
        #expect(CLibrary.function("no_such_function_in_libc", as: Trim.self) == nil)
        #endif
    }
}


// MARK: - Compressed text columns

@Suite("Compressed text columns")
struct CompressedTextColumnTests {
    static let columns = [
        ColumnSpec(name: "time", type: .int64),
        ColumnSpec(name: "record", type: .text, compressed: true),
        ColumnSpec(name: "note", type: .text),
    ]

    static func rows() -> [[Cell?]] {
        (0..<500).map { row in
            let record = row % 7 == 0 ? nil : Cell.bytes(Array(#"{"eventName":"GetObject","requestParameters":{"bucketName":"b-\#(row % 13)","key":"k/\#(row)"}}"#.utf8))
            return [.int(Int64(row)), record, .bytes(Array("n\(row)".utf8))]
        } + [[.int(500), .bytes([UInt8](repeating: 0x41, count: 200_000)), nil]]
    }

    @Test func roundTripIsExactAndSmaller() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("z.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        let bytes = fileBytes(path)
        #expect(bytes[Format.version] == 2, "a segment with a compressed column is version 2")
        #expect(bytes[Format.entry(1) + 1] == 1, "encoding byte: zstd")
        #expect(bytes[Format.entry(2) + 1] == 0)
        let reader = try SegmentReader(path: path)
        #expect(reader.columns[1].compressed && !reader.columns[2].compressed)
        let record = try reader.text(1)
        for row in 0..<reader.rowCount {
            guard case let .bytes(value) = expected[1][row] else { Issue.record("row \(row)"); continue }
            #expect(record[row].array == value, "row \(row)")
        }
        let stored = Int(bytes.u64(at: Format.entry(1) + Format.entryLength))
        #expect(stored < record.byteCount / 10, "\(stored) bytes stored for \(record.byteCount)")
        try reader.verifyChecksums()
        // Without a compressed column the segment is still version 1, readable by older builds.
        let plain = directory.file("p.seg")
        _ = try writeSegment(plain, columns: mixedColumns, rows: corruptionRows)
        #expect(fileBytes(plain)[Format.version] == 1)
    }

    /// Random bytes do not shrink: a column marked compressed is stored plain (encoding 0; the
    /// segment version 1 when no column is compressed) and reads back exact.
    @Test func aColumnThatDoesNotShrinkIsStoredPlain() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("random.seg")
        var generator = SplitMix(seed: 41)
        let columns = [
            ColumnSpec(name: "time", type: .int64),
            ColumnSpec(name: "request_id", type: .text, compressed: true),
            ColumnSpec(name: "score", type: .float64, compressed: true),
        ]
        let rows: [[Cell?]] = (0..<4_000).map { row in
            let id = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return [.int(Int64(row)), .bytes(id), .double(Double(bitPattern: UInt64.random(in: 0...UInt64.max >> 2, using: &generator)))]
        }
        let (_, expected) = try writeSegment(path, columns: columns, rows: rows)
        let bytes = fileBytes(path)
        #expect(bytes[Format.version] == 1, "no column compressed")
        #expect(bytes[Format.entry(1) + 1] == 0 && bytes[Format.entry(2) + 1] == 0)
        let reader = try SegmentReader(path: path)
        #expect(!reader.columns[1].compressed && !reader.columns[2].compressed)
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
    }

    @Test func damageIsReportedNotInflatedIntoGarbage() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("z.seg")
        _ = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        let valid = fileBytes(path)
        let offset = Int(valid.u64(at: Format.entry(1) + Format.entryOffset))
        // A damaged frame, checksums resealed so the damage reaches the inflation: reading does not
        // crash, and verification names the column.
        var damaged = valid
        let stored = Int(valid.u64(at: Format.entry(1) + Format.entryLength))
        damaged[offset + stored - 40] ^= 0xFF
        damaged.reseal(column: 1)
        writeBytes(damaged, to: directory.file("d1.seg"))
        let first = try SegmentReader(path: directory.file("d1.seg"))
        if let column = try? first.text(1) { for row in 0..<first.rowCount { _ = column[row] } }
        #expect(throws: StoreError.self) { try first.verifyChecksums() }
        // A count that does not match the frame's content size.
        var miscounted = valid
        miscounted.put(valid.u64(at: Format.entry(1) + Format.entryCount) + 1, at: Format.entry(1) + Format.entryCount)
        miscounted.reseal()
        writeBytes(miscounted, to: directory.file("d2.seg"))
        var detail = ""
        do {
            _ = try SegmentReader(path: directory.file("d2.seg")).text(1)
            Issue.record("a miscounted column was read")
        } catch {
            detail = "\(error)"
        }
        #expect(detail.contains("offsets") || detail.contains("blocks") || detail.contains("ends at"), "\(detail)")
        // A version-1 segment cannot have a compressed column.
        var relabelled = valid
        relabelled.put(UInt16(1), at: Format.version)
        relabelled.reseal()
        writeBytes(relabelled, to: directory.file("d3.seg"))
        #expect(throws: StoreError.self) { _ = try SegmentReader(path: directory.file("d3.seg")) }
    }
}

// MARK: - Packed columns

@Suite("Packed columns")
struct PackedColumnTests {
    static let columns = [
        ColumnSpec(name: "time", type: .int64),
        ColumnSpec(name: "line", type: .int64, compressed: true),
        ColumnSpec(name: "score", type: .float64, compressed: true),
        ColumnSpec(name: "subject", type: .dictionary, compressed: true),
        ColumnSpec(name: "input", type: .hash128, compressed: true),
        ColumnSpec(name: "path", type: .dictionary),
    ]

    static func rows() -> [[Cell?]] {
        (0..<3_000).map { (row: Int) -> [Cell?] in
            let score: Cell? = row % 11 == 0 ? nil : .double(Double(row % 97) / 8)
            let subject: Cell? = row % 5 == 0 ? nil : .bytes(Array("cus_\(row % 700)".utf8))
            let input: Cell? = row % 4 == 0 ? nil : .hash(Hash128(low: UInt64(row % 50 + 1), high: 7))
            let path: Cell = .bytes(Array("/v1/models/m\(row % 3)/predict".utf8))
            return [.int(Int64(row / 3)), .int(Int64(row + 1)), score, subject, input, path]
        }
    }

    @Test func roundTripIsExactAndSmaller() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("p.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        let bytes = fileBytes(path)
        #expect(bytes[Format.version] == 3)
        // int64 and dictionary columns packed with their integers byte-shuffled (2), the others as they are (1).
        for (column, encoding) in [1: 2, 2: 1, 3: 2, 4: 1] as [Int: UInt8] {
            #expect(bytes[Format.entry(column) + 1] == encoding, "column \(column) is packed")
            #expect(bytes.u64(at: Format.entry(column) + 40) > bytes.u64(at: Format.entry(column) + Format.entryLength),
                    "column \(column): the plain layout is larger than what is stored")
        }
        #expect(bytes[Format.entry(5) + 1] == 0 && bytes.u64(at: Format.entry(5) + 40) == 0)
        let reader = try SegmentReader(path: path)
        #expect(reader.columns == Self.columns)
        #expect(try readAll(reader) == expected)
        try reader.verifyChecksums()
        #expect(try reader.int64(1)[2_999] == 3_000)
        #expect(try reader.dictionary(3).string(at: 1) == "cus_1")
    }

    /// A second reader of an unchanged file trusts the first one's validation and still reads
    /// packed columns whole; the same file rewritten with a damaged column (same length, resealed
    /// header, new modification time) is validated again and the damage reported.
    @Test func aSecondReaderOfTheSameFileTrustsTheFirstValidationUntilTheFileChanges() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("p.seg")
        let (_, expected) = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        #expect(try readAll(try SegmentReader(path: path)) == expected)
        #expect(try readAll(try SegmentReader(path: path)) == expected)
        var damaged = fileBytes(path)
        damaged[columnOffset(damaged, 5) + 9] ^= 0x20
        // Nanosecond modification times: make sure the clock moved.
        usleep(2_000)
        writeBytes(damaged, to: path)
        let reader = try SegmentReader(path: path)
        let error = #expect(throws: StoreError.self) { _ = try reader.dictionary(5) }
        #expect(String(describing: error).contains("column 'path'"))
    }

    @Test func damageIsReportedWhenTheColumnIsOpened() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("p.seg")
        _ = try writeSegment(path, columns: Self.columns, rows: Self.rows())
        let valid = fileBytes(path)
        for column in 1...4 {
            let offset = Int(valid.u64(at: Format.entry(column) + Format.entryOffset))
            let stored = Int(valid.u64(at: Format.entry(column) + Format.entryLength))
            // A damaged frame with resealed checksums: opening the column fails, nothing crashes,
            // and the other columns still read.
            var damaged = valid
            damaged[offset + stored - 5] ^= 0x5A
            damaged.reseal(column: column)
            let name = directory.file("d\(column).seg")
            writeBytes(damaged, to: name)
            let reader = try SegmentReader(path: name)
            #expect(throws: StoreError.self) { try reader.verifyChecksums() }
            #expect(try reader.dictionary(5).string(at: 2) == "/v1/models/m2/predict")
            // A plain length that does not fit the type.
            var miscounted = valid
            miscounted.put(valid.u64(at: Format.entry(column) + 40) + 8, at: Format.entry(column) + 40)
            miscounted.reseal()
            writeBytes(miscounted, to: directory.file("m\(column).seg"))
            #expect(throws: StoreError.self) {
                let reader = try SegmentReader(path: directory.file("m\(column).seg"))
                try reader.verifyChecksums()
            }
        }
    }
}

