/// A validated int64 column; null is `Int64.min`.
public typealias Int64Column = FixedWidthColumn<Int64>
/// A validated float64 column; null is NaN.
public typealias Float64Column = FixedWidthColumn<Double>
/// A validated hash128 column; null is all-zero (``Hash128/isNull``). A row is 16 bytes, the
/// little-endian `low` word then `high`, which is ``Hash128``'s layout.
public typealias Hash128Column = FixedWidthColumn<Hash128>

/// A validated fixed-width column of a segment (``Int64Column``: null is `Int64.min`;
/// ``Float64Column``: null is NaN; ``Hash128Column``: null is all-zero), read in place from the
/// mapping; a dictionary column's codes are one too.
///
/// A `RandomAccessCollection` of the rows' values, so `count`, `map`, `reduce` and friends
/// work as on an array. For tight scans prefer withSpan(_:) or forEachRow(_:), which run
/// without per-row bounds checks. The value keeps its SegmentReader (and mapping) alive.
public struct FixedWidthColumn<Element: BitwiseCopyable>: RandomAccessCollection, @unchecked Sendable {
    @usableFromInline let owner: SegmentReader
    @usableFromInline let base: UnsafeRawPointer
    public let count: Int

    @usableFromInline
    init(owner: SegmentReader, base: UnsafeRawPointer, count: Int) {
        self.owner = owner
        self.base = base
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    /// The value of `row`. An out-of-range row is a programmer error.
    @inlinable
    public subscript(row: Int) -> Element {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        return base.load(fromByteOffset: row &* MemoryLayout<Element>.stride, as: Element.self)
    }

    /// Lends the whole column as a span.
    ///
    /// - Complexity: O(1); reading the span is a plain memory scan.
    @inlinable
    public func withSpan<R, E: Error>(_ body: (Span<Element>) throws(E) -> R) throws(E) -> R {
        let buffer = UnsafeBufferPointer(start: base.assumingMemoryBound(to: Element.self), count: count)
        return try body(buffer.span)
    }

    /// Calls `body` with each row index and value, in order.
    ///
    /// - Complexity: O(rows), one load per row.
    @inlinable
    public func forEachRow<E: Error>(_ body: (Int, Element) throws(E) -> Void) throws(E) {
        let values = base.assumingMemoryBound(to: Element.self)
        for row in 0..<count {
            try body(row, values[row])
        }
    }
}
