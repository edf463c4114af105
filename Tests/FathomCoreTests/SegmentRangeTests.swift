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
