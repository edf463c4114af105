import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Where decoders put the rows they decode: one segment builder per source kind, flushed to
/// segment files as they fill.
///
/// A decoder starts a row with ``begin(_:time:overrides:)``, which takes the row's kind, its time
/// and what the input's profile sets for this record (``RowOverrides``); it then sets the columns
/// it knows by their index in the kind's ``KindSchema`` (unset columns are null), and ends the
/// row with ``commit()``. Provenance (member name and line number) is set by the ingest, not by
/// decoders (whole-file decoders set ``line`` to the row number in their table).
///
/// **First write wins.** Within one row, a column keeps the first value set to it; later sets are
/// ignored. `begin` applies the profile's values before it returns, so they win over the
/// decoder's own (time included) without each decoder checking for them, and no decoder can
/// start a row without saying which overrides apply.
///
/// **One record, several rows.** A record may make more than one row (a CloudTrail S3 data
/// event is a `storage` row and an `audit` row); the member reader counts records apart from rows.
///
/// **Excluded records.** Every well-formed record is kept (records no AI/ML kind describes as
/// `audit` rows). Only a record of another kind than the one the user asked for (`--kind`, a
/// profile's `kind`) is passed over with ``skipRecord()``: it is counted per member as
/// *excluded*, shown in the summary and the catalog, and never counted as a reject.
public final class RowWriter {
    /// Called when a builder is full; writes it to a segment and resets it.
    package typealias Flush = (SourceKind, SegmentBuilder) throws(IngestError) -> Void

    /// A builder per kind code; the one of the row being built is selected. The setters go
    /// through it rather than through a property of this class holding the builder: that would
    /// retain and release the builder around every column set.
    private let builders = SegmentBuilderSet(count: 8)
    /// Whether a row is being built (begun, not yet committed or abandoned).
    private var inRow = false
    private var currentKind: SourceKind = .inference
    private var hasTime = false
    /// Bit `i` set: column `i` of the row being built already has a value.
    private var setMask: UInt64 = 0
    private let flush: Flush
    package let maxRows: Int
    package let maxBytes: Int

    package var member = ""
    package var line: Int64 = 0
    /// Rows committed, per kind code.
    package private(set) var rowCounts = [Int64](repeating: 0, count: 8)
    /// Rows committed for the current member, all kinds together.
    package private(set) var rowTotal: Int64 = 0
    /// Records of the current member passed over with ``skipRecord()``.
    package private(set) var filteredCount: Int64 = 0
    package private(set) var firstTime: Int64?
    package private(set) var lastTime: Int64?

    /// Where builders come from and go back to, so the next archive's rows reuse their buffers.
    private let pool: BuilderPool?

    /// A writer whose builders come from `pool` (new ones when it is nil) and are flushed with
    /// `flush`.
    package init(maxRows: Int, maxBytes: Int, pool: BuilderPool? = nil, flush: @escaping Flush) {
        self.maxRows = maxRows
        self.maxBytes = maxBytes
        self.pool = pool
        self.flush = flush
    }

    /// Starts a row of `kind` at `time` (nanoseconds since the epoch, UTC): applies `overrides`
    /// first, then the time (which a profile's `time` mapping overrides).
    package func begin(_ kind: SourceKind, time: Int64, overrides: RowOverrides) {
        let slot = Int(kind.code)
        if !builders.isInstalled(slot) {
            builders.install(pool?.take(kind) ?? BuilderPool.make(kind), at: slot)
        }
        builders.selectSlot(slot)
        inRow = true
        currentKind = kind
        hasTime = false
        setMask = 0
        switch overrides {
        case .none:
            break
        case let .json(profile, root):
            profile.apply(root, kind: kind, into: self)
        case let .text(profile, fields):
            TextOverride.apply(profile, fields: fields, kind: kind, into: self)
        }
        setTime(time)
    }

    /// The kind of the row being built.
    public var kind: SourceKind { currentKind }

    /// Whether column `column` of the row being built has no value yet; marks it as set.
    @inline(__always)
    private func claim(_ column: Int) -> Bool {
        guard column >= 0, column < 64 else { return true }
        let bit: UInt64 = 1 << UInt64(column)
        if setMask & bit != 0 { return false }
        setMask |= bit
        return true
    }

    /// Whether column `column` of the row being built already has a value.
    public func isSet(_ column: Int) -> Bool {
        column >= 0 && column < 64 && setMask & (1 << UInt64(column)) != 0
    }

    /// Sets the row's time (nanoseconds since the epoch, UTC); `begin` does, after the overrides.
    package func setTime(_ nanos: Int64) {
        guard claim(0) else { return }
        builders.setInt64(nanos, at: 0)
        hasTime = true
        // An undated row (null time) takes no part in the member's time range.
        guard nanos != Int64.min else { return }
        if firstTime.map({ nanos < $0 }) ?? true { firstTime = nanos }
        if lastTime.map({ nanos > $0 }) ?? true { lastTime = nanos }
    }

    public func setInt64(_ value: Int64, at column: Int) {
        if claim(column) { builders.setInt64(value, at: column) }
    }
    public func setDouble(_ value: Double, at column: Int) {
        if claim(column) { builders.setDouble(value, at: column) }
    }
    /// Sets a string column; an empty value leaves the column unset (null).
    public func setString(_ value: ByteView, at column: Int) {
        if !value.isEmpty, claim(column) { builders.setString(value, at: column) }
    }
    public func setString(_ value: String, at column: Int) {
        if !value.isEmpty, claim(column) { builders.setString(value, at: column) }
    }
    /// Sets the string column named `column` in the schema of the row's kind; nil, an empty text
    /// or a column the kind does not have leaves it unset.
    public func setString(_ text: String?, named column: String) {
        guard let text, !text.isEmpty, let index = currentKind.schema.index(of: column) else { return }
        setString(text, at: index)
    }
    /// Sets a hash128 column to a hash computed elsewhere (rows loaded from Spark results).
    public func setHash(_ value: Hash128, at column: Int) {
        if claim(column) { builders.setHash(value, at: column) }
    }
    public func setHash(of value: ByteView, at column: Int) {
        if claim(column) { builders.setHash(of: value, at: column) }
    }

    /// Passes over a well-formed record of another kind than the one the user asked for: counted
    /// as excluded for the member, not rejected. Abandons a row begun for it, if any.
    public func skipRecord() {
        if inRow { abandon() }
        filteredCount += 1
    }

    /// Whether the row being built has a time.
    public var rowHasTime: Bool { hasTime }

    /// Ends the row.
    public func commit() {
        guard inRow else { return }
        // The selected builder, borrowed (no reference counted for each row).
        let full = builders.withCurrent { builder -> Bool in
            // The provenance columns close every kind's schema.
            let columnCount = builder.columns.count
            builder.setString(member, at: columnCount - 2)
            builder.setInt64(line, at: columnCount - 1)
            builder.endRow()
            // The size is summed over the columns, so it is looked at every 256 rows, not every row.
            return builder.rowCount >= maxRows || (builder.rowCount & 255 == 0 && builder.estimatedBytes >= maxBytes)
        }
        guard let full else { return }
        rowCounts[Int(currentKind.code)] += 1
        rowTotal += 1
        inRow = false
        builders.deselect()
        if full { pendingFlush = currentKind }
    }

    private var pendingFlush: SourceKind?

    /// Writes the builder that the last row filled, if any, to a segment.
    package func flushIfFull() throws(IngestError) {
        guard let kind = pendingFlush, let builder = builders.builders[Int(kind.code)] else { return }
        pendingFlush = nil
        try flush(kind, builder)
    }

    /// Abandons the row being built (the record was rejected after `begin`). The builder's pending
    /// values are overwritten by the next row.
    public func abandon() {
        if inRow { builders.current?.discardRow() }
        inRow = false
        builders.deselect()
        setMask = 0
    }

    /// Flushes every non-empty builder.
    package func flushAll() throws(IngestError) {
        for kind in SourceKind.allCases {
            if let builder = builders.builders[Int(kind.code)], builder.rowCount > 0 {
                try flush(kind, builder)
            }
        }
    }

    /// Gives the builders back to the pool, emptied, once every row is flushed (``flushAll()``);
    /// the writer starts new ones if it is used again.
    package func recycle() {
        guard let pool else { return }
        inRow = false
        pool.give(builders.removeAll())
    }

    package func resetMemberStatistics() {
        rowCounts = [Int64](repeating: 0, count: 8)
        rowTotal = 0
        filteredCount = 0
        firstTime = nil
        lastTime = nil
    }
}

/// What an input's profile sets in a row before its decoder does, given to
/// ``RowWriter/begin(_:time:overrides:)``: applying them is part of starting a row.
package enum RowOverrides {
    /// None: the input has no profile, or the format is itself driven by one (delimited, generic
    /// JSON) or reads a fixed schema (MLflow).
    case none
    /// A profile's JSON paths, looked up in the record `root`.
    case json(JSONProfileOverrides, root: JSONValue)
    /// A profile's positional fields, taken from the record's split `fields`.
    case text([TextOverride], fields: [ByteView])
}

/// Segment builders kept between archives. A builder's column buffers and dictionary tables grow
/// to a segment's size while an archive is read; handed to the next archive's row writer they
/// keep that capacity, instead of every archive growing new ones from empty (doubling, copying
/// and faulting in fresh pages at each step).
///
/// At most ``limit`` builders wait here, the most recently given back kept: archives are read
/// folder by folder, so the next archive is most often of the kind just finished, and a builder of
/// a kind no longer read is let go rather than held to the end of the ingest.
package final class BuilderPool: @unchecked Sendable {
    private let lock = NSLock()
    /// Idle builders, the most recently given back last.
    private var idle: [SegmentBuilder] = []
    package let limit: Int

    package init(limit: Int = 1) { self.limit = limit }

    /// A new, empty builder for rows of `kind`.
    package static func make(_ kind: SourceKind) -> SegmentBuilder {
        SegmentBuilder(kindCode: kind.code, columns: kind.schema.columnSpecs, timeColumn: 0)
    }

    /// An empty builder for rows of `kind`: one given back earlier, or a new one.
    package func take(_ kind: SourceKind) -> SegmentBuilder {
        lock.lock()
        var reused: SegmentBuilder?
        if let index = idle.lastIndex(where: { $0.kindCode == kind.code }) {
            reused = idle.remove(at: index)
        }
        lock.unlock()
        return reused ?? Self.make(kind)
    }

    /// Takes `builders` back, emptied (a row in progress or rows never flushed are dropped).
    package func give(_ builders: [SegmentBuilder]) {
        for builder in builders { builder.reset() }
        lock.lock()
        idle.append(contentsOf: builders)
        let surplus = idle.count - limit
        // Released outside the lock: freeing a builder's buffers is not instant.
        let dropped = surplus > 0 ? Array(idle.prefix(surplus)) : []
        if surplus > 0 { idle.removeFirst(surplus) }
        lock.unlock()
        _ = dropped
    }
}
