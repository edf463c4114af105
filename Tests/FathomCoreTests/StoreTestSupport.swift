@testable import FathomCore
import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Reading back what an ingest stored, shared by the ingest and format tests.
protocol StoreReading {}

extension StoreReading {
    /// All rows of `kind` in the store, column name → value as text, in segment order. Null
    /// values are absent; hashes are `high,low`.
    func rows(_ kind: SourceKind, store: String) throws -> [[String: String]] {
        let opened = try Store(directory: store, forWriting: false)
        var result: [[String: String]] = []
        for segment in try opened.catalog.segments(kind: kind) {
            let reader = try SegmentReader(path: opened.absolute(segment.path))
            for row in 0..<reader.rowCount {
                var values: [String: String] = [:]
                for (index, column) in reader.columns.enumerated() {
                    switch column.type {
                    case .int64:
                        let value = try reader.int64(index)[row]
                        if value != Int64.min { values[column.name] = String(value) }
                    case .float64:
                        let value = try reader.float64(index)[row]
                        if !value.isNaN { values[column.name] = String(value) }
                    case .dictionary:
                        let value = try reader.dictionary(index).string(at: row)
                        if !value.isEmpty { values[column.name] = value }
                    case .text:
                        let value = try reader.text(index).string(at: row)
                        if !value.isEmpty { values[column.name] = value }
                    case .hash128:
                        let value = try reader.hash128(index)[row]
                        if !value.isNull { values[column.name] = "\(value.high),\(value.low)" }
                    }
                }
                result.append(values)
            }
        }
        return result
    }

    /// Runs an ingest of `paths` into `store`.
    func ingest(_ paths: [String], store: String, kind: SourceKind? = nil, profile: Profile? = nil,
                format: String? = nil) throws -> IngestSummary {
        try IngestEngine.run(IngestRequest(paths: paths, storeDirectory: store, kind: kind, profile: profile,
                                           formatName: format, jobs: 2))
    }
}
