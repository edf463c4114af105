import FathomStore
import FathomSupport

/// One segment opened for scanning, with its columns addressed by canonical name.
///
/// Columns are read straight from the segment's memory mapping; each column's checksum is
/// verified the first time it is opened.
public final class SegmentTable: @unchecked Sendable {
    public let record: SegmentRecord
    public let reader: SegmentReader
    public var kind: SourceKind { record.kind }
    public var rowCount: Int { reader.rowCount }

    package init(record: SegmentRecord, path: String) throws(ScanError) {
        self.record = record
        do { reader = try SegmentReader(path: path) } catch { throw .store(error) }
        guard reader.kindCode == record.kind.code else {
            throw .store(.corrupt(path: path, offset: 0,
                                  detail: "segment holds kind code \(reader.kindCode), the catalog says '\(record.kind.rawValue)'"))
        }
        // Scans lay their tables out over the catalog's time range and prune segments by it: a
        // catalog that disagrees with the segment is refused, not trusted.
        guard reader.minTime == record.minTime, reader.maxTime == record.maxTime else {
            func text(_ low: Int64?, _ high: Int64?) -> String {
                guard let low, let high else { return "none" }
                return "\(low)...\(high)"
            }
            throw .store(.corrupt(path: path, offset: 0,
                                  detail: "segment holds times \(text(reader.minTime, reader.maxTime)), the catalog says \(text(record.minTime, record.maxTime))"))
        }
    }

    private func index(_ name: String) throws(ScanError) -> Int {
        guard let index = reader.columnIndex(named: name) else {
            throw .unknownColumn(name, kind: record.kind)
        }
        return index
    }

    /// Whether the segment has a column named `name`.
    public func has(_ name: String) -> Bool { reader.columnIndex(named: name) != nil }

    public func int64(_ name: String) throws(ScanError) -> Int64Column {
        let column = try index(name)
        do { return try reader.int64(column) } catch { throw .store(error) }
    }

    public func float64(_ name: String) throws(ScanError) -> Float64Column {
        let column = try index(name)
        do { return try reader.float64(column) } catch { throw .store(error) }
    }

    public func dictionary(_ name: String) throws(ScanError) -> DictionaryColumn {
        let column = try index(name)
        do { return try reader.dictionary(column) } catch { throw .store(error) }
    }

    public func text(_ name: String) throws(ScanError) -> TextColumn {
        let column = try index(name)
        do { return try reader.text(column) } catch { throw .store(error) }
    }

    public func hash128(_ name: String) throws(ScanError) -> Hash128Column {
        let column = try index(name)
        do { return try reader.hash128(column) } catch { throw .store(error) }
    }
}

/// Errors of scans over the store.
public enum ScanError: Error, Sendable, CustomStringConvertible {
    case unknownColumn(String, kind: SourceKind)
    case store(StoreError)
    case catalog(CatalogError)

    public var description: String {
        switch self {
        case let .unknownColumn(name, kind):
            "Source kind '\(kind.rawValue)' has no column '\(name)'; its columns are "
                + kind.schema.columns.map(\.name).joined(separator: ", ") + "."
        case let .store(error): error.description
        case let .catalog(error): error.description
        }
    }
}
