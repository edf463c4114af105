/// A validated dictionary column of a segment, read in place from the mapping: a UInt32 code per
/// row and the segment's dictionary of distinct values. Code 0 is null (and the empty string).
///
/// Codes are the entries' first-appearance order in the segment, so they are stable for one
/// segment but differ between segments: compare codes within a segment, bytes across segments.
/// A predicate on a value is best evaluated once per entry (``code(for:)-(ByteView)``) and then
/// over the codes with ``withCodeSpan(_:)``.
///
/// The `ByteView`s it returns point into the mapping and are valid while this column (or its
/// reader) is alive. The value keeps its ``SegmentReader`` alive.
public struct DictionaryColumn: RandomAccessCollection, @unchecked Sendable {
    @usableFromInline let owner: SegmentReader
    @usableFromInline let codes: UnsafeRawPointer
    @usableFromInline let offsets: UnsafeRawPointer
    @usableFromInline let bytes: UnsafeRawPointer
    /// Rows.
    public let count: Int
    /// Distinct values, including entry 0 (the empty string).
    public let entryCount: Int

    init(
        owner: SegmentReader, codes: UnsafeRawPointer, offsets: UnsafeRawPointer, bytes: UnsafeRawPointer,
        count: Int, entryCount: Int
    ) {
        self.owner = owner
        self.codes = codes
        self.offsets = offsets
        self.bytes = bytes
        self.count = count
        self.entryCount = entryCount
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }

    /// The dictionary code of `row`; always less than ``entryCount``.
    @inlinable
    public func code(at row: Int) -> UInt32 {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        return codes.load(fromByteOffset: row &* 4, as: UInt32.self)
    }

    /// The value of `row` (empty for null).
    @inlinable
    public subscript(row: Int) -> ByteView {
        entry(code(at: row))
    }

    /// The value of `row` as a string, invalid UTF-8 repaired to U+FFFD.
    public func string(at row: Int) -> String {
        self[row].string
    }

    /// The bytes of dictionary entry `code`. A code at or past ``entryCount`` is a programmer error.
    @inlinable
    public func entry(_ code: UInt32) -> ByteView {
        precondition(Int(code) < entryCount, "dictionary code \(code) out of range 0..<\(entryCount)")
        let start = Int(truncatingIfNeeded: offsets.load(fromByteOffset: Int(code) &* 8, as: UInt64.self))
        let end = Int(truncatingIfNeeded: offsets.load(fromByteOffset: (Int(code) &+ 1) &* 8, as: UInt64.self))
        return ByteView(unsafeStart: bytes + start, count: end &- start)
    }

    /// The code of the entry equal to `value`, or nil when no row has it. The empty value is code 0.
    ///
    /// - Complexity: O(entries).
    public func code(for value: ByteView) -> UInt32? {
        if value.isEmpty { return 0 }
        for code in 1..<UInt32(entryCount) where entry(code) == value {
            return code
        }
        return nil
    }

    /// The code of the entry equal to the UTF-8 of `value`, or nil when no row has it.
    ///
    /// - Complexity: O(entries).
    public func code(for value: String) -> UInt32? {
        var value = value
        return value.withUTF8 { utf8 in
            code(for: ByteView(unsafeStart: utf8.baseAddress, count: utf8.count))
        }
    }

    /// The rows' codes as a fixed-width column.
    @inlinable
    var codeColumn: FixedWidthColumn<UInt32> { FixedWidthColumn(owner: owner, base: codes, count: count) }

    /// Lends the codes of all rows as a span.
    ///
    /// - Complexity: O(1); reading the span is a plain memory scan.
    @inlinable
    public func withCodeSpan<R, E: Error>(_ body: (Span<UInt32>) throws(E) -> R) throws(E) -> R {
        try codeColumn.withSpan(body)
    }

    /// Calls `body` with each row index and code, in order.
    ///
    /// - Complexity: O(rows), one load per row.
    @inlinable
    public func forEachCode<E: Error>(_ body: (Int, UInt32) throws(E) -> Void) throws(E) {
        try codeColumn.forEachRow(body)
    }
}
