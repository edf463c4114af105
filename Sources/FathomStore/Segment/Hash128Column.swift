/// A validated hash128 column of a segment, read in place from the mapping. Null is all-zero
/// (``Hash128/isNull``).
///
/// A `RandomAccessCollection` of the rows' hashes. For tight scans prefer ``forEachRow(_:)``.
/// The value keeps its ``SegmentReader`` (and mapping) alive.
public struct Hash128Column: RandomAccessCollection, @unchecked Sendable {
    let owner: SegmentReader
    @usableFromInline let base: UnsafeRawPointer
    public let count: Int

    init(owner: SegmentReader, base: UnsafeRawPointer, count: Int) {
        self.owner = owner
        self.base = base
        self.count = count
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    /// The hash of `row`. An out-of-range row is a programmer error.
    @inlinable
    public subscript(row: Int) -> Hash128 {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        return Hash128(
            low: base.load(fromByteOffset: row &* 16, as: UInt64.self),
            high: base.load(fromByteOffset: row &* 16 &+ 8, as: UInt64.self))
    }

    /// Calls `body` with each row index and hash, in order.
    ///
    /// - Complexity: O(rows), two loads per row.
    @inlinable
    public func forEachRow<E: Error>(_ body: (Int, Hash128) throws(E) -> Void) throws(E) {
        let words = base.assumingMemoryBound(to: UInt64.self)
        for row in 0..<count {
            try body(row, Hash128(low: words[row &* 2], high: words[row &* 2 &+ 1]))
        }
    }
}
