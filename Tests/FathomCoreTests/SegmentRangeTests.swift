@testable import FathomCore
import FathomStore
import Foundation
import GRDB
import Testing
import FathomSupport
import FathomCatalog
import FathomDetect

/// Scans lay their per-segment tables out over a segment's time range: a catalog or a segment
/// whose range does not hold the segment's rows is refused with a clear error, never trusted into
/// a wrong count or an out-of-bounds trap (the extraction rules used to stop the process on a
/// catalog whose range had been moved by an hour).
@Suite struct SegmentRangeTests {
    /// A store of gateway rows over two hours, and its one inference segment's path and catalog
    /// range.
    static func store() throws -> (store: DetectStore, segment: String, low: Int64, high: Int64) {
        let store = try DetectStore()
        try store.add(.inference, inferenceRows(40, ip: "203.0.113.9", start: 0) + inferenceRows(40, ip: "203.0.113.9", start: 5_400))
        let records = try Store(directory: store.store, forWriting: false).catalog.segments(kind: .inference)
        let record = try #require(records.first)
        return (store, record.path, try #require(record.minTime), try #require(record.maxTime))
    }

    static let rules = [RuleID.extractionVolume, RuleID.slidingWindow, RuleID.principalTotal]

    @Test func aCatalogThatDisagreesWithTheSegmentIsRefused() throws {
        let (store, segment, low, high) = try Self.store()
        _ = try store.hunt(Self.rules)  // untouched, the store scans
        let catalog = try Catalog(path: store.store + "/catalog.sqlite")
        try catalog.write { db in
            try db.execute(sql: "UPDATE segments SET min_time = ? WHERE path = ?", arguments: [low + 3_600_000_000_000, segment])
        }
        for rule in Self.rules {
            let error = #expect(throws: (any Error).self) { try store.hunt([rule], settings: ExtractionFamilyTests.lowThresholds) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("the catalog says \(low + 3_600_000_000_000)...\(high)"), "\(rule): \(text)")
            #expect(text.contains("segment holds times \(low)...\(high)"), "\(rule): \(text)")
        }
    }

    @Test func aSegmentWhoseRowsLieOutsideItsRangeIsRefused() throws {
        let (store, segment, low, high) = try Self.store()
        // The header's range moved by an hour, with the header checksum and the catalog made to
        // agree: only the rows tell.
        let path = store.store + "/" + segment
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let moved = low + 3_600_000_000_000
        withUnsafeBytes(of: moved.littleEndian) { bytes.replaceSubrange(40..<48, with: $0) }
        let metadataEnd = bytes[64..<72].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let checksum = XXH64.hash(Array(bytes[16..<metadataEnd]))
        withUnsafeBytes(of: checksum.littleEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let catalog = try Catalog(path: store.store + "/catalog.sqlite")
        try catalog.write { db in
            try db.execute(sql: "UPDATE segments SET min_time = ?, checksum = ? WHERE path = ?",
                           arguments: [moved, String(checksum, radix: 16), segment])
        }
        for rule in [RuleID.extractionVolume, RuleID.slidingWindow] {
            let error = #expect(throws: (any Error).self) { try store.hunt([rule], settings: ExtractionFamilyTests.lowThresholds) }
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains("lies outside the segment's range \(moved)...\(high)"), "\(rule): \(text)")
        }
    }
}

/// A hit's fields read through the segment's columns opened once (``HitRows``), packed from their
/// bytes, against the fields made value by value from columns looked up by name for each row (as
/// every hit was made before): every row of gateway, LLM and storage segments with empty values,
/// numbers, hashes, multilingual and hostile text.
@Suite struct HitRowsTests {
    @Test func fieldsAndEvidenceAreThoseOfTheRowReadColumnByColumn() throws {
        let store = try DetectStore()
        var rows: [[String: Any]] = inferenceRows(30, start: 0)
        rows.append(["timestamp": at(5), "client_ip": "", "path": "/v1/predict", "latency_ms": 1.5, "status": 200])
        try store.add(.inference, rows)
        var rng = SeededGenerator(seed: 3)
        var llm: [[String: Any]] = []
        for index in 0..<40 {
            var row: [String: Any] = ["timestamp": at(Int64(index)), "client_ip": "203.0.113.\(index)"]
            row["user"] = index % 3 == 0 ? "" : "u_\(index)"
            row["prompt"] = HostileText.generate(&rng, maxFragments: 4)
            row["response"] = index % 5 == 0 ? "" : "Grüße \u{202E}\(index)"
            row["session_id"] = "s\(index % 4)"
            llm.append(row)
        }
        try store.add(.llm, llm)
        var storage: [[String: Any]] = []
        for index in 0..<10 {
            var row: [String: Any] = ["timestamp": at(Int64(index)), "operation": "REST.GET.OBJECT", "bucket": "models"]
            row["key"] = "m/\(index).bin"
            row["remote_ip"] = "198.51.100.\(index)"
            row["status"] = 200
            row["bytes"] = index * 1000
            storage.append(row)
        }
        try store.add(.storage, storage)
        let opened = try Store(directory: store.store, forWriting: false)
        let archives = Dictionary(try opened.catalog.archives().map { ($0.id, $0.path) }, uniquingKeysWith: { first, _ in first })
        let context = HuntContext(scan: StoreScan(store: opened, jobs: 1), from: nil, to: nil, settings: RuleSettings(),
                                  archives: archives)
        var compared = 0
        for kind in [SourceKind.inference, .llm, .storage] {
            for record in try opened.catalog.segments(kind: kind) {
                let table = try SegmentTable(record: record, path: opened.absolute(record.path))
                let hitRows = HitRows(table, context: context)
                for row in 0..<table.rowCount {
                    #expect(hitRows.fields(row) == Self.reference(table, row), "\(kind) row \(row)")
                    #expect(hitRows.evidence(row, withTime: true) == context.evidence(table, row: row, withTime: true))
                    #expect(hitRows.evidence(row) == context.evidence(table, row: row))
                    compared += 1
                }
            }
        }
        #expect(compared >= 70, "rows compared: \(compared)")
    }

    /// The fields of a row as they were made before ``HitRows``: each column looked up by name.
    static func reference(_ table: SegmentTable, _ row: Int) -> HitFields {
        var names: [String] = []
        var values: [HitValue] = []
        for column in table.kind.schema.hitColumns where table.has(column.name) {
            var value = HitValue.null
            switch column.type {
            case .int64:
                if let number = try? table.int64(column.name)[row], number != Int64.min {
                    value = column.name == "time" ? .string(TimeParser.format(number)) : .int(number)
                }
            case .float64:
                if let number = try? table.float64(column.name)[row], !number.isNaN { value = .double(number) }
            case .dictionary:
                if let text = try? table.dictionary(column.name).string(at: row), !text.isEmpty { value = .string(text) }
            case .text:
                if let text = try? table.text(column.name).string(at: row), !text.isEmpty { value = .string(text) }
            case .hash128:
                if let hash = try? table.hash128(column.name)[row], !hash.isNull { value = .string(hash.description) }
            }
            names.append(column.name)
            values.append(value)
        }
        return HitFields(names: names, values: values)
    }
}

/// ``NumberSet`` answers as a `Set` does, for numbers held as bits, past them, and past its limit.
@Suite struct NumberSetTests {
    @Test func answersAsASet() {
        var generator = SplitMix(seed: 11)
        for round in 0..<200 {
            let limit = NumberSet.limit
            var numbers: [UInt32] = (0..<Int(generator.next() % 40)).map { _ in UInt32(generator.next() % 5_000) }
            if round < 2 { numbers += [limit - 1, limit, limit + 1, UInt32.max, UInt32.max - 1] }
            let set = NumberSet(numbers)
            let reference = Set(numbers)
            let probes: [UInt32] = (0..<200).map { _ in UInt32(generator.next() % 6_000) }
                + [0, 63, 64, limit - 1, limit, limit + 1, limit + 64, UInt32.max, UInt32.max - 1]
            for probe in probes {
                #expect(set.contains(probe) == reference.contains(probe), "\(probe) in \(numbers.sorted())")
            }
        }
    }
}
