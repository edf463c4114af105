import FathomStore
import Foundation
import FathomSupport

/// What `fathom store info` shows: per source kind, archives, segments, rows and time range.
public struct StoreInfo: Sendable, Codable, Equatable {
    public struct Kind: Sendable, Codable, Equatable {
        public var kind: String
        public var archives: Int64
        public var segments: Int64
        public var rows: Int64
        public var first: String?
        public var last: String?
    }

    public var store: String
    public var archives: Int
    public var rejected: Int64
    public var kinds: [Kind]

    /// Reads the summary of the store at `directory`.
    public static func read(directory: String) throws(CatalogError) -> StoreInfo {
        let store = try Store(directory: directory, forWriting: false)
        let archives = try store.catalog.archives()
        let totals = try store.catalog.kindTotals()
        return StoreInfo(store: directory, archives: archives.count,
                         rejected: archives.reduce(0) { $0 + $1.rejected },
                         kinds: totals.map { total in
                             Kind(kind: total.kind.rawValue, archives: total.archives, segments: total.segments,
                                  rows: total.rows, first: total.firstTime.map(TimeParser.format),
                                  last: total.lastTime.map(TimeParser.format))
                         })
    }

    public var table: String {
        var rows: [[String]] = [["kind", "archives", "segments", "rows", "first", "last"]]
        for kind in kinds {
            rows.append([kind.kind, "\(kind.archives)", "\(kind.segments)", "\(kind.rows)", kind.first ?? "-", kind.last ?? "-"])
        }
        return "Store \(store): \(archives) archives, \(rejected) rejected records\n\n"
            + TextFormat.table(rows, rightAligned: [1, 2, 3])
    }
}
