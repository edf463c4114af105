/// How a column is stored in a segment.
public enum ColumnType: UInt8, Sendable, Hashable, CaseIterable {
    /// Int64 values; null is `Int64.min`.
    case int64 = 1
    /// Double values; null is NaN.
    case float64 = 2
    /// Low-cardinality strings: UInt32 codes into a per-segment dictionary; code 0 is null/empty.
    case dictionary = 3
    /// Strings that must be shown or searched: UInt64 offsets (rows + 1) and bytes.
    case text = 4
    /// 128-bit hashes of high-cardinality values, for equality and distinct counting; all-zero is null.
    case hash128 = 5
}

/// A column's name and type, and whether its bytes are stored zstd-compressed: a text column's
/// bytes in blocks inflated as rows are read (long values read rarely, such as the whole records of
/// audit rows); any other column's whole layout, inflated when the column is opened (columns that
/// compress well and are not on every rule's hot path).
public struct ColumnSpec: Sendable, Hashable {
    public var name: String
    public var type: ColumnType
    public var compressed: Bool

    public init(name: String, type: ColumnType, compressed: Bool = false) {
        self.name = name
        self.type = type
        self.compressed = compressed
    }
}
