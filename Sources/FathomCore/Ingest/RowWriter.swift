import FathomStore

/// Where decoders put the rows they decode: one segment builder per source kind, flushed to
/// segment files as they fill.
///
/// A decoder starts a row with ``begin(_:)``, sets the columns it knows by their index in the
/// kind's ``KindSchema`` (unset columns are null), and ends it with ``commit()``. Provenance
/// (member name and line number) is set by the ingest, not by decoders.
public final class RowWriter {
    /// Called when a builder is full; writes it to a segment and resets it.
    typealias Flush = (SourceKind, SegmentBuilder) throws(IngestError) -> Void

    private var builders: [SegmentBuilder?] = Array(repeating: nil, count: 8)
    private var current: SegmentBuilder?
    private var currentKind: SourceKind = .inference
    private var hasTime = false
    private let flush: Flush
    let maxRows: Int
    let maxBytes: Int

    var member = ""
    var line: Int64 = 0
    /// Rows committed, per kind code.
    private(set) var rowCounts = [Int64](repeating: 0, count: 8)
    private(set) var firstTime: Int64?
    private(set) var lastTime: Int64?

    init(maxRows: Int, maxBytes: Int, flush: @escaping Flush) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.flush = flush
    }

    /// Starts a row of `kind`.
    public func begin(_ kind: SourceKind) {
        let slot = Int(kind.code)
        if builders[slot] == nil {
            builders[slot] = SegmentBuilder(kindCode: kind.code, columns: kind.schema.columnSpecs, timeColumn: 0)
        }
        current = builders[slot]
        currentKind = kind
        hasTime = false
    }

    /// Sets the row's time (nanoseconds since the epoch, UTC).
    public func setTime(_ nanos: Int64) {
        current?.setInt64(nanos, at: 0)
        hasTime = true
        if firstTime.map({ nanos < $0 }) ?? true { firstTime = nanos }
        if lastTime.map({ nanos > $0 }) ?? true { lastTime = nanos }
    }

    public func setInt64(_ value: Int64, at column: Int) { current?.setInt64(value, at: column) }
    public func setDouble(_ value: Double, at column: Int) { current?.setDouble(value, at: column) }
    public func setString(_ value: ByteView, at column: Int) {
        if !value.isEmpty { current?.setString(value, at: column) }
    }
    public func setString(_ value: String, at column: Int) {
        if !value.isEmpty { current?.setString(value, at: column) }
    }
    public func setHash(of value: ByteView, at column: Int) { current?.setHash(of: value, at: column) }

    /// Whether the row being built has a time.
    public var rowHasTime: Bool { hasTime }

    /// Ends the row.
    public func commit() {
        guard let builder = current else { return }
        let schema = currentKind.schema
        builder.setString(member, at: schema.columns.count - 2)
        builder.setInt64(line, at: schema.columns.count - 1)
        builder.endRow()
        rowCounts[Int(currentKind.code)] += 1
        current = nil
        if builder.rowCount >= maxRows || builder.estimatedBytes >= maxBytes { pendingFlush = currentKind }
    }

    private var pendingFlush: SourceKind?

    /// Writes the builder that the last row filled, if any, to a segment.
    func flushIfFull() throws(IngestError) {
        guard let kind = pendingFlush, let builder = builders[Int(kind.code)] else { return }
        pendingFlush = nil
        try flush(kind, builder)
    }

    /// Abandons the row being built (the record was rejected after `begin`). The builder's pending
    /// values are overwritten by the next row.
    public func abandon() {
        current?.discardRow()
        current = nil
    }

    /// Flushes every non-empty builder.
    func flushAll() throws(IngestError) {
        for kind in SourceKind.allCases {
            if let builder = builders[Int(kind.code)], builder.rowCount > 0 {
                try flush(kind, builder)
            }
        }
    }

    func resetMemberStatistics() {
        rowCounts = [Int64](repeating: 0, count: 8)
        firstTime = nil
        lastTime = nil
    }
}
