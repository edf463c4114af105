/// A validated text column of a segment, read in place from the mapping. Null and the empty
/// string are the same (an empty value).
///
/// Row offsets were checked to be monotonic and in bounds when the column was opened, so the
/// subscript needs no check that can fail on file bytes. The `ByteView`s it returns point into the
/// mapping and are valid while this column (or its reader) is alive. The value keeps its
/// ``SegmentReader`` alive.
public struct TextColumn: RandomAccessCollection, @unchecked Sendable {
    let owner: SegmentReader
    @usableFromInline let offsets: UnsafeRawPointer
    @usableFromInline let bytes: UnsafeRawPointer
    /// Rows.
    public let count: Int
    /// Total bytes of all rows.
    public let byteCount: Int
    /// For a compressed column: inflates the blocks a row spans before it is read.
    @usableFromInline let inflater: BlockInflater?
    /// The length of every row of a hex-packed column (row *r* is `[r·width, (r+1)·width)`,
    /// `offsets` unused); 0 for a column with row offsets.
    @usableFromInline let width: Int

    init(owner: SegmentReader, offsets: UnsafeRawPointer, bytes: UnsafeRawPointer, count: Int, byteCount: Int,
         inflater: BlockInflater? = nil, width: Int = 0) {
        self.owner = owner
        self.offsets = offsets
        self.bytes = bytes
        self.count = count
        self.byteCount = byteCount
        self.inflater = inflater
        self.width = width
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    /// The bytes of `row` (empty for null). An out-of-range row is a programmer error.
    @inlinable
    public subscript(row: Int) -> ByteView {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        let start = width != 0 ? row &* width : Int(truncatingIfNeeded: offsets.load(fromByteOffset: row &* 8, as: UInt64.self))
        let end = width != 0 ? start &+ width
            : Int(truncatingIfNeeded: offsets.load(fromByteOffset: (row &+ 1) &* 8, as: UInt64.self))
        inflater?.ensure(start, end)
        return ByteView(unsafeStart: bytes + start, count: end &- start)
    }

    /// The value of `row` as a string, invalid UTF-8 repaired to U+FFFD.
    public func string(at row: Int) -> String {
        self[row].string
    }

    /// Calls `body` with each row index and its bytes, in order.
    ///
    /// - Complexity: O(rows) plus whatever `body` reads.
    @inlinable
    public func forEachRow<E: Error>(_ body: (Int, ByteView) throws(E) -> Void) throws(E) {
        let ends = offsets.assumingMemoryBound(to: UInt64.self)
        var start = 0
        for row in 0..<count {
            let end = width != 0 ? start &+ width : Int(truncatingIfNeeded: ends[row &+ 1])
            inflater?.ensure(start, end)
            try body(row, ByteView(unsafeStart: bytes + start, count: end &- start))
            start = end
        }
    }
}
