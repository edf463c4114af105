import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What ``SegmentBuilder/write(to:archiveID:)`` wrote.
public struct SegmentInfo: Sendable, Equatable {
    /// Rows in the segment.
    public var rows: Int
    /// The smallest non-null value of the time column, or nil when it has none.
    public var minTime: Int64?
    /// The largest non-null value of the time column, or nil when it has none.
    public var maxTime: Int64?
    /// Size of the file.
    public var bytes: Int
    /// The segment's header checksum (XXH64). It covers the column directory, which holds every
    /// column's checksum, so it identifies the whole content.
    public var checksum: UInt64

    public init(rows: Int, minTime: Int64?, maxTime: Int64?, bytes: Int, checksum: UInt64) {
        self.rows = rows
        self.minTime = minTime
        self.maxTime = maxTime
        self.bytes = bytes
        self.checksum = checksum
    }
}

/// Accumulates rows of one source kind in memory, column by column, and writes them as an immutable
/// segment file (see `SEGMENT-FORMAT.md`).
///
/// Rows are built one at a time: set any subset of the columns, then call ``endRow()``. Columns not
/// set in a row are null (`Int64.min`, NaN, dictionary code 0, empty text, all-zero hash). Setting a
/// column twice in one row keeps the last value. Setters are cheap: a bounds check, a type check
/// and an append to a contiguous buffer; dictionary columns look their value up in an
/// open-addressing table keyed by a hash of the bytes (``KeyHash``), without creating a `String`.
///
/// A builder is not thread-safe; use one per ingest worker. ``write(to:archiveID:)`` leaves the rows
/// in place; call ``reset()`` to reuse the builder (buffers keep their capacity).
///
/// Setting a column of another type, an index out of range, or more than `UInt32.max - 1` distinct
/// values in a dictionary column are programmer errors and trap.
public final class SegmentBuilder {
    public let kindCode: UInt8
    public let columns: [ColumnSpec]
    /// Index of the Int64 column whose range is recorded as the segment's time range, or -1.
    public let timeColumn: Int

    /// Index of each column in the storage array of its type.
    private let slots: [Int]
    /// `columns[i].type`, without touching the names on the hot path.
    private let types: [ColumnType]
    // The column buffers of each type, in storage the builder owns (allocated once, freed in
    // `deinit`) rather than arrays of arrays: a value set through an outer array checked the
    // outer array's uniqueness and wrote its buffer back at every setter call, a sixth of the
    // setters' time on the gateway's rows.
    private let int64Values: UnsafeMutableBufferPointer<ColumnVector<Int64>>
    private let doubleValues: UnsafeMutableBufferPointer<ColumnVector<Double>>
    /// Interleaved `low`, `high` words, as on disk.
    private let hashWords: UnsafeMutableBufferPointer<ColumnVector<UInt64>>
    private let dictionaries: UnsafeMutableBufferPointer<DictionaryBuffer>
    private let texts: UnsafeMutableBufferPointer<TextBuffer>
    /// The values of large dictionaries set since the last lookups, looked up together
    /// (``resolvePending()``).
    private var pending = PendingCodes()

    public private(set) var rowCount = 0

    /// A builder for segments of `kindCode` with `columns`.
    ///
    /// - Parameter timeColumn: the Int64 column whose minimum and maximum become the segment's time
    ///   range; pass -1 for a kind without one.
    public init(kindCode: UInt8, columns: [ColumnSpec], timeColumn: Int = 0) {
        precondition(!columns.isEmpty, "a segment needs at least one column")
        precondition(columns.count <= 65_535, "too many columns")
        precondition(Set(columns.map(\.name)).count == columns.count, "column names must be unique")
        precondition(columns.allSatisfy { $0.name.utf8.count <= 65_535 }, "column name too long")
        precondition(
            timeColumn == -1 || (columns.indices.contains(timeColumn) && columns[timeColumn].type == .int64),
            "the time column must be an Int64 column")
        self.kindCode = kindCode
        self.columns = columns
        self.timeColumn = timeColumn
        var slots: [Int] = []
        var counts = [ColumnType: Int]()
        for column in columns {
            slots.append(counts[column.type, default: 0])
            counts[column.type, default: 0] += 1
        }
        self.slots = slots
        types = columns.map(\.type)
        int64Values = Self.buffers(counts[.int64, default: 0]) { ColumnVector() }
        doubleValues = Self.buffers(counts[.float64, default: 0]) { ColumnVector() }
        hashWords = Self.buffers(counts[.hash128, default: 0]) { ColumnVector() }
        dictionaries = Self.buffers(counts[.dictionary, default: 0]) { DictionaryBuffer() }
        texts = Self.buffers(counts[.text, default: 0]) { TextBuffer() }
        pending.lastOfSlot = Array(repeating: -1, count: dictionaries.count)
    }

    deinit {
        for s in int64Values.indices { int64Values[s].free() }
        for s in doubleValues.indices { doubleValues[s].free() }
        for s in hashWords.indices { hashWords[s].free() }
        for s in dictionaries.indices { dictionaries[s].codes.free() }
        Self.free(int64Values)
        Self.free(doubleValues)
        Self.free(hashWords)
        Self.free(dictionaries)
        Self.free(texts)
    }

    /// `count` values made one by one (not copies of one: a column vector's copies share its storage).
    private static func buffers<T>(_ count: Int, _ make: () -> T) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
        for index in 0..<count { (buffer.baseAddress.unsafelyUnwrapped + index).initialize(to: make()) }
        return buffer
    }

    private static func free<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
        _ = buffer.deinitialize()
        buffer.deallocate()
    }

    /// Bytes the rows added since the last ``reset()`` occupy in the column buffers and
    /// dictionaries, so the ingest can flush a segment before its resident set grows too far.
    ///
    /// Counts, not capacities: ``reset()`` keeps the buffers' capacity for the next segment, and a
    /// capacity-based figure would stay at the flush threshold after the first flush, making every
    /// later segment tiny. The buffers' capacity is at most about twice the figure.
    ///
    /// - Complexity: O(columns).
    public var estimatedBytes: Int {
        // The figure is the one the values would give looked up one by one.
        resolvePending()
        var total = 0
        for values in int64Values { total += values.count * 8 }
        for values in doubleValues { total += values.count * 8 }
        for words in hashWords { total += words.count * 8 }
        for dictionary in dictionaries { total += dictionary.estimatedBytes }
        for text in texts { total += text.offsets.count * 8 + text.bytes.count }
        return total
    }

    @inline(__always)
    private func slot(_ column: Int, _ type: ColumnType) -> Int {
        precondition(column >= 0 && column < types.count, "column index out of range")
        precondition(types[column] == type, "column '\(columns[column].name)' is not \(type)")
        return slots[column]
    }

    @inline(__always)
    private func slot(string column: Int) -> (Int, isText: Bool) {
        precondition(column >= 0 && column < types.count, "column index out of range")
        let type = types[column]
        precondition(type == .dictionary || type == .text, "column '\(columns[column].name)' is not a string column")
        return (slots[column], type == .text)
    }

    /// Sets an Int64 column of the current row. `Int64.min` is null.
    public func setInt64(_ value: Int64, at column: Int) {
        let s = slot(column, .int64)
        if int64Values[s].count > rowCount {
            int64Values[s][rowCount] = value
        } else {
            int64Values[s].append(value)
        }
    }

    /// Sets a Float64 column of the current row. NaN is null.
    public func setDouble(_ value: Double, at column: Int) {
        let s = slot(column, .float64)
        if doubleValues[s].count > rowCount {
            doubleValues[s][rowCount] = value
        } else {
            doubleValues[s].append(value)
        }
    }

    /// Sets a dictionary or text column of the current row to a copy of `value`. An empty value is
    /// the same as null.
    public func setString(_ value: ByteView, at column: Int) {
        value.withUnsafeBytes { setString(raw: $0, at: column) }
    }

    /// Sets a dictionary or text column of the current row to the UTF-8 of `value`.
    public func setString(_ value: String, at column: Int) {
        var value = value
        value.withUTF8 { setString(raw: UnsafeRawBufferPointer($0), at: column) }
    }

    private func setString(raw value: UnsafeRawBufferPointer, at column: Int) {
        let (s, isText) = slot(string: column)
        if isText {
            texts[s].set(value, row: rowCount)
            return
        }
        // A value set again in the same row replaces one waiting for its lookup (which is still
        // made: its entry stays in the dictionary, as it would have).
        pending.supersede(slot: s, row: rowCount)
        let code: UInt32
        if let known = dictionaries[s].known(value) {
            code = known
        } else if dictionaries[s].entryCount < PendingCodes.fromEntries {
            code = dictionaries[s].code(for: value, hash: KeyHash.of(value))
        } else {
            // A large dictionary: its table and entries are out of the core's caches, and three
            // dependent reads (slot, offsets, bytes) wait on memory one after the other. Looked up
            // later, with the other values set meanwhile, those reads overlap.
            pending.add(value, slot: s, row: rowCount)
            code = 0
        }
        if dictionaries[s].codes.count > rowCount {
            dictionaries[s].codes[rowCount] = code
        } else {
            dictionaries[s].codes.append(code)
        }
    }

    /// Looks up the codes of the values waiting in ``pending``, in the order they were set (so
    /// the entries are numbered as one-by-one lookups would number them), and stores each in its
    /// row. The reads each lookup waits on are made first for all of them, a step at a time:
    /// the first slot of each probe path, then the offsets of the entry it names, then the entry's
    /// bytes — independent loads the core keeps in flight together.
    private func resolvePending() {
        guard !pending.values.isEmpty else { return }
        let values = pending.values
        let touched = pending.bytes.withUnsafeBytes { staged in
            var touched: UInt64 = 0
            for value in values {
                touched ^= dictionaries[value.slot].table.first(value.hash)
            }
            for value in values {
                touched ^= dictionaries[value.slot].touchOffsets(value.hash)
            }
            for value in values {
                touched ^= dictionaries[value.slot].touchEntry(value.hash)
            }
            for value in values {
                let bytes = UnsafeRawBufferPointer(rebasing: staged[value.start ..< value.start + value.count])
                let code = dictionaries[value.slot].known(bytes) ?? dictionaries[value.slot].code(for: bytes, hash: value.hash)
                if value.row >= 0 { dictionaries[value.slot].codes[value.row] = code }
            }
            return touched
        }
        pending.clear()
        pending.touched ^= touched
    }

    /// Sets a hash128 column of the current row to the hash of `value`.
    public func setHash(of value: ByteView, at column: Int) {
        setHash(Hash128.of(value), at: column)
    }

    /// Sets a hash128 column of the current row. ``Hash128/null`` is null.
    public func setHash(_ value: Hash128, at column: Int) {
        let s = slot(column, .hash128)
        if hashWords[s].count > rowCount * 2 {
            hashWords[s][rowCount * 2] = value.low
            hashWords[s][rowCount * 2 + 1] = value.high
        } else {
            hashWords[s].append(value.low)
            hashWords[s].append(value.high)
        }
    }

    /// Commits the current row; columns not set in it become null.
    ///
    /// - Complexity: O(columns).
    public func endRow() {
        if pending.values.count >= PendingCodes.batch { resolvePending() }
        let next = rowCount + 1
        for s in int64Values.indices where int64Values[s].count < next { int64Values[s].append(.min) }
        for s in doubleValues.indices where doubleValues[s].count < next { doubleValues[s].append(.nan) }
        for s in hashWords.indices where hashWords[s].count < next * 2 {
            hashWords[s].append(0)
            hashWords[s].append(0)
        }
        for s in dictionaries.indices where dictionaries[s].codes.count < next { dictionaries[s].codes.append(0) }
        for s in texts.indices where texts[s].offsets.count < next + 1 { texts[s].offsets.append(UInt64(texts[s].bytes.count)) }
        rowCount = next
    }

    /// Drops the values set for the row in progress, so a record rejected half-way leaves no trace.
    /// Dictionary entries it added stay (unreferenced entries are harmless).
    ///
    /// - Complexity: O(columns).
    public func discardRow() {
        pending.supersedeRow(rowCount)
        for s in int64Values.indices where int64Values[s].count > rowCount {
            int64Values[s].removeLast(int64Values[s].count - rowCount)
        }
        for s in doubleValues.indices where doubleValues[s].count > rowCount {
            doubleValues[s].removeLast(doubleValues[s].count - rowCount)
        }
        for s in hashWords.indices where hashWords[s].count > rowCount * 2 {
            hashWords[s].removeLast(hashWords[s].count - rowCount * 2)
        }
        for s in dictionaries.indices where dictionaries[s].codes.count > rowCount {
            dictionaries[s].codes.removeLast(dictionaries[s].codes.count - rowCount)
        }
        for s in texts.indices where texts[s].offsets.count > rowCount + 1 {
            texts[s].bytes.removeSubrange(Int(texts[s].offsets[rowCount])...)
            texts[s].offsets.removeLast(texts[s].offsets.count - rowCount - 1)
        }
    }

    /// Drops all rows and dictionary entries, keeping buffer capacity. A row in progress is dropped too.
    public func reset() {
        for s in int64Values.indices { int64Values[s].removeAll() }
        for s in doubleValues.indices { doubleValues[s].removeAll() }
        for s in hashWords.indices { hashWords[s].removeAll() }
        for s in dictionaries.indices { dictionaries[s].reset() }
        for s in texts.indices { texts[s].reset() }
        pending.clear()
        rowCount = 0
    }

    /// The minimum and maximum non-null time over the committed rows.
    private func timeRange() -> (Int64, Int64)? {
        guard timeColumn >= 0 else { return nil }
        var low = Int64.max
        var high = Int64.min
        var any = false
        int64Values[slots[timeColumn]].withUnsafeBufferPointer { values in
            for index in 0..<rowCount {
                let value = values[index]
                if value == .min { continue }
                any = true
                if value < low { low = value }
                if value > high { high = value }
            }
        }
        return any ? (low, high) : nil
    }

    // MARK: Writing

    /// Writes the committed rows as a segment at `path`. A row in progress (set but not ended) is
    /// not written, and stays in progress.
    ///
    /// The bytes go to `path + ".tmp"`, which is `fsync`ed, renamed to `path`, and then the directory
    /// is `fsync`ed: after a crash the segment either exists whole or not at all (a stale `.tmp` may
    /// remain and is overwritten by the next attempt). An existing file at `path` is replaced.
    ///
    /// With `durable` false the file and directory are not `fsync`ed here: the kernel is asked to
    /// start writing the file back, and the caller must pass the path to
    /// ``makeDurable(_:)`` before anything (a catalog commit) refers to the segment. The writer
    /// then goes on decoding while the segment reaches the disk, instead of waiting for it.
    ///
    /// - Complexity: O(bytes written); one pass over every buffer, hashing as it writes.
    public func write(to path: String, archiveID: Int64, durable: Bool = true) throws(StoreError) -> SegmentInfo {
        resolvePending()
        let rows = rowCount
        // Layout: metadata (header, directory, names), then each column at a multiple of 64.
        var nameBytes: [UInt8] = []
        var nameOffsets: [Int] = []
        let namesStart = SegmentLayout.headerSize + columns.count * SegmentLayout.entrySize
        for column in columns {
            nameOffsets.append(namesStart + nameBytes.count)
            nameBytes.append(contentsOf: column.name.utf8)
        }
        let metadataEnd = SegmentLayout.aligned(namesStart + nameBytes.count)

        struct Placement {
            var offset: Int
            var length: Int
            var count: Int
            var checksum: UInt64 = 0
        }
        var placements: [Placement] = []
        /// The stored bytes (block table and zstd frames) of each compressed text column, by column index.
        var frames: [Int: [UInt8]] = [:]
        /// The plain layout size of each packed column, by column index.
        var plainLengths: [Int: Int] = [:]
        /// The packed columns whose values are byte-shuffled in their blocks (encoding 2).
        var shuffled: Set<Int> = []
        /// The text columns stored hex-packed (encoding 3): their whole stored bytes in `frames`.
        var hexPacked: Set<Int> = []
        /// The plain (version 1) layout of column `index`, for packing.
        func plainLayout(_ index: Int) -> [UInt8] {
            let s = slots[index]
            var out: [UInt8] = []
            func append<T>(_ values: [T], count: Int) {
                values.withUnsafeBytes { raw in out.append(contentsOf: raw[0..<count * MemoryLayout<T>.stride]) }
            }
            func append<T>(_ values: ColumnVector<T>, count: Int) {
                values.withUnsafeBytes { raw in out.append(contentsOf: raw[0..<count * MemoryLayout<T>.stride]) }
            }
            switch columns[index].type {
            case .int64: append(int64Values[s], count: rows)
            case .float64: append(doubleValues[s], count: rows)
            case .hash128: append(hashWords[s], count: rows * 2)
            case .dictionary:
                let dictionary = dictionaries[s]
                append(dictionary.codes, count: rows)
                out.append(contentsOf: repeatElement(0, count: SegmentLayout.aligned(rows * 4) - rows * 4))
                append(dictionary.offsets, count: dictionary.offsets.count)
                out.append(contentsOf: dictionary.bytes)
            case .text:
                break
            }
            return out
        }
        var position = metadataEnd
        for (index, column) in columns.enumerated() {
            let s = slots[index]
            let length: Int
            var count = 0
            if column.compressed && column.type != .text {
                // Packed: the plain layout, compressed in blocks (plain when that does not pay).
                let plain = plainLayout(index)
                // Integers, dictionary codes and entry offsets byte-shuffled: zstd level 1 packed
                // them at about 300 MB/s interleaved, several times faster as byte planes.
                let shuffle = SegmentLayout.shuffle(column.type, rows: rows,
                                                    entries: column.type == .dictionary ? dictionaries[s].entryCount : 0)
                let (frame, error) = BlockInflater.compress(plain, count: plain.count, blockSize: SegmentLayout.textBlockSize,
                                                            level: SegmentLayout.packedCompressionLevel,
                                                            worthIt: SegmentLayout.worthCompressing, shuffle: shuffle)
                if let error { throw .unsupported(path: path, detail: "zstd could not compress a column: \(error)") }
                if !frame.isEmpty {
                    frames[index] = frame
                    plainLengths[index] = plain.count
                    if shuffle != nil { shuffled.insert(index) }
                    if column.type == .dictionary { count = dictionaries[s].entryCount }
                    placements.append(Placement(offset: position, length: frame.count, count: count))
                    position = SegmentLayout.aligned(position + frame.count)
                    continue
                }
            }
            switch column.type {
            case .int64, .float64: length = rows * 8
            case .hash128: length = rows * 16
            case .dictionary:
                let dictionary = dictionaries[s]
                count = dictionary.entryCount
                length = SegmentLayout.aligned(rows * 4) + (count + 1) * 8 + dictionary.bytes.count
            case .text:
                count = Int(texts[s].offsets[rows])  // excludes a row in progress
                if column.compressed,
                   let packed = HexText.pack(rows: rows, offsets: texts[s].offsets, bytes: texts[s].bytes,
                                             share: SegmentLayout.worthCompressing)
                {
                    // Every value one pattern of hex digits (request ids): their nibbles, no offsets.
                    frames[index] = packed
                    hexPacked.insert(index)
                    placements.append(Placement(offset: position, length: packed.count, count: count))
                    position = SegmentLayout.aligned(position + packed.count)
                    continue
                }
                var frame: [UInt8] = []
                if column.compressed {
                    let error: String?
                    (frame, error) = BlockInflater.compress(texts[s].bytes, count: count, blockSize: SegmentLayout.textBlockSize,
                                                            level: SegmentLayout.textCompressionLevel,
                                                            worthIt: SegmentLayout.worthCompressing)
                    if let error { throw .unsupported(path: path, detail: "zstd could not compress a text column: \(error)") }
                }
                if !frame.isEmpty {
                    frames[index] = frame
                    length = SegmentLayout.aligned((rows + 1) * 8) + frame.count
                } else {
                    length = SegmentLayout.aligned((rows + 1) * 8) + count
                }
            }
            placements.append(Placement(offset: position, length: length, count: count))
            position = SegmentLayout.aligned(position + length)
        }
        let fileLength = placements.last.map { $0.offset + $0.length } ?? metadataEnd

        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io(path: temporary, operation: "create", code: errno) }
        var writer = FileWriter(fd: fd, path: temporary)
        var closed = false
        defer {
            if !closed {
                close(fd)
                unlink(temporary)
            }
        }

        // Columns first (the metadata is written last, once the checksums are known).
        try writer.writeZeros(metadataEnd)
        for (index, column) in columns.enumerated() {
            let s = slots[index]
            try writer.writeZeros(placements[index].offset - writer.position)
            var hasher = XXH64()
            if column.type != .text || hexPacked.contains(index), let frame = frames[index] {
                try withRawBytes(of: frame) { (raw) throws(StoreError) in try writer.write(raw, into: &hasher) }
                placements[index].checksum = hasher.finalize()
                continue
            }
            switch column.type {
            case .int64:
                try withRawBytes(of: int64Values[s]) { (raw) throws(StoreError) in
                    try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<rows * 8]), into: &hasher)
                }
            case .float64:
                try withRawBytes(of: doubleValues[s]) { (raw) throws(StoreError) in
                    try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<rows * 8]), into: &hasher)
                }
            case .hash128:
                try withRawBytes(of: hashWords[s]) { (raw) throws(StoreError) in
                    try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<rows * 16]), into: &hasher)
                }
            case .dictionary:
                let dictionary = dictionaries[s]
                try withRawBytes(of: dictionary.codes) { (raw) throws(StoreError) in
                    try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<rows * 4]), into: &hasher)
                }
                try writer.writeZeros(SegmentLayout.aligned(rows * 4) - rows * 4, into: &hasher)
                try withRawBytes(of: dictionary.offsets) { (raw) throws(StoreError) in try writer.write(raw, into: &hasher) }
                try withRawBytes(of: dictionary.bytes) { (raw) throws(StoreError) in try writer.write(raw, into: &hasher) }
            case .text:
                let text = texts[s]
                try withRawBytes(of: text.offsets) { (raw) throws(StoreError) in
                    try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<(rows + 1) * 8]), into: &hasher)
                }
                try writer.writeZeros(SegmentLayout.aligned((rows + 1) * 8) - (rows + 1) * 8, into: &hasher)
                if let frame = frames[index] {
                    try withRawBytes(of: frame) { (raw) throws(StoreError) in try writer.write(raw, into: &hasher) }
                } else {
                    try withRawBytes(of: text.bytes) { (raw) throws(StoreError) in
                        try writer.write(UnsafeRawBufferPointer(rebasing: raw[0..<placements[index].count]), into: &hasher)
                    }
                }
            }
            placements[index].checksum = hasher.finalize()
        }
        try writer.flush()
        precondition(writer.position == fileLength, "segment layout mismatch")

        // Header, directory and names.
        var metadata = [UInt8](repeating: 0, count: metadataEnd)
        let range = timeRange()
        metadata.withUnsafeMutableBytes { raw in
            func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
                raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
            }
            typealias H = SegmentLayout.Header
            for (index, byte) in SegmentLayout.magic.enumerated() { raw[H.magic + index] = byte }
            let version = !hexPacked.isEmpty ? SegmentLayout.hexVersion
                : !shuffled.isEmpty ? SegmentLayout.shuffledVersion
                : frames.isEmpty ? SegmentLayout.version : SegmentLayout.compressedVersion
            put(version, at: H.version)
            put(kindCode, at: H.kindCode)
            put(range == nil ? UInt8(0) : SegmentLayout.flagHasTimeRange, at: H.flags)
            put(UInt32(columns.count), at: H.columnCount)
            put(UInt64(rows), at: H.rowCount)
            put(archiveID, at: H.archiveID)
            put(range?.0 ?? .min, at: H.minTime)
            put(range?.1 ?? .min, at: H.maxTime)
            put(timeColumn < 0 ? SegmentLayout.noTimeColumn : UInt32(timeColumn), at: H.timeColumn)
            put(UInt64(metadataEnd), at: H.metadataEnd)
            put(UInt64(fileLength), at: H.fileLength)
            typealias E = SegmentLayout.Entry
            for (index, column) in columns.enumerated() {
                let entry = SegmentLayout.headerSize + index * SegmentLayout.entrySize
                let placement = placements[index]
                put(column.type.rawValue, at: entry + E.type)
                if frames[index] != nil {
                    put(hexPacked.contains(index) ? SegmentLayout.encodingHex
                        : shuffled.contains(index) ? SegmentLayout.encodingShuffled : SegmentLayout.encodingZstd, at: entry + E.encoding)
                }
                put(UInt16(column.name.utf8.count), at: entry + E.nameLength)
                put(UInt32(nameOffsets[index]), at: entry + E.nameOffset)
                put(UInt64(placement.offset), at: entry + E.offset)
                put(UInt64(placement.length), at: entry + E.length)
                put(UInt64(placement.count), at: entry + E.count)
                put(placement.checksum, at: entry + E.checksum)
                if let plain = plainLengths[index] { put(UInt64(plain), at: entry + E.plainLength) }
            }
            for (index, byte) in nameBytes.enumerated() { raw[namesStart + index] = byte }
        }
        let checksum = metadata.withUnsafeBytes { raw in
            XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[SegmentLayout.checksummedFrom...]), seed: 0)
        }
        metadata.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: SegmentLayout.Header.checksum, as: UInt64.self)
        }
        try withRawBytes(of: metadata) { (raw) throws(StoreError) in try writer.writeAt(0, raw) }

        if durable {
            if fsync(fd) != 0 { throw .io(path: temporary, operation: "fsync", code: errno) }
        } else {
            WriteBack.start(fd)
        }
        closed = true
        if close(fd) != 0 {
            let code = errno
            unlink(temporary)
            throw .io(path: temporary, operation: "close", code: code)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw .io(path: path, operation: "rename", code: code)
        }
        if durable { try Self.syncDirectory(of: path) }
        return SegmentInfo(rows: rows, minTime: range?.0, maxTime: range?.1, bytes: fileLength, checksum: checksum)
    }

    /// Makes segments written with `durable: false` durable: `fsync`s each file (whose write-back
    /// started when it was written, so this mostly waits for what is still in flight), then each
    /// directory holding them, so their renames are durable too.
    public static func makeDurable(_ paths: [String]) throws(StoreError) {
        for path in paths {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
            defer { close(fd) }
            if fsync(fd) != 0 { throw .io(path: path, operation: "fsync", code: errno) }
        }
        var directories = Set<String>()
        for path in paths where directories.insert(directory(of: path)).inserted {
            try syncDirectory(of: path)
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    /// `fsync`s the directory holding `path`, so the rename that published it is durable.
    private static func syncDirectory(of path: String) throws(StoreError) {
        var directory = "."
        if let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            directory = slash == path.utf8.startIndex ? "/" : String(path[..<slash])
        }
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .io(path: directory, operation: "open directory", code: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .io(path: directory, operation: "fsync directory", code: errno) }
    }
}

// MARK: - Column buffers

/// The growing dictionary of one column: entries in first-seen order (entry 0 is the empty string),
/// laid out exactly as on disk, plus an open-addressing hash table from bytes to code.
private struct DictionaryBuffer {
    /// The rows' codes (freed by the builder that owns the dictionary).
    var codes = ColumnVector<UInt32>()
    /// Entry `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    var offsets: [UInt64] = [0, 0]
    var bytes: [UInt8] = []
    /// ``KeyHash`` of each entry's bytes, to rehash without rereading them.
    var entryHashes: [UInt64] = [0]
    /// Entry codes by hash (code 0 is never stored: the empty string is special-cased).
    var table = TaggedSlots(capacity: 64)
    /// The code returned last (0: none since the last reset).
    var lastCode: UInt32 = 0

    var entryCount: Int { entryHashes.count }

    /// The bytes of the entries and of the table a new builder would have grown for them. Not the
    /// table's capacity: a reset keeps it (and a builder is handed from archive to archive), so it
    /// depends on what the builder held before, and the figure decides where a segment ends —
    /// which must depend on the rows alone, whichever builder an archive's worker was given.
    var estimatedBytes: Int {
        var slots = 64
        while entryCount * 2 > slots { slots *= 2 }
        return codes.count * 4 + offsets.count * 8 + bytes.count + entryHashes.count * 8 + slots * 8
    }

    mutating func reset() {
        lastCode = 0
        codes.removeAll()
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        offsets.append(0)
        bytes.removeAll(keepingCapacity: true)
        entryHashes.removeAll(keepingCapacity: true)
        entryHashes.append(0)
        // Kept up to a million slots (8 MB): a column of tens of thousands of addresses or of a
        // value per row fills it again in the next segment, and growing it back rehashes every
        // entry at each doubling. Clearing it is one pass over the slots.
        if table.capacity > 1 << 20 {
            table = TaggedSlots(capacity: 64)
        } else {
            table.clear()
        }
    }

    /// The code of `value` when it takes no lookup: 0 for the empty value, else the code returned
    /// last when `value` is its entry. Columns like method, path or model repeat the previous
    /// row's value most of the time: one comparison instead of a hash and a probe.
    @inline(__always)
    func known(_ value: UnsafeRawBufferPointer) -> UInt32? {
        guard value.count > 0 else { return 0 }
        if lastCode != 0, entryEquals(Int(lastCode), value) { return lastCode }
        return nil
    }

    /// The offsets of the entry the probe path of `hash` most likely ends on, read (to bring them
    /// into the cache ahead of ``code(for:hash:)``); 0 when the path names none.
    @inline(__always)
    func touchOffsets(_ hash: UInt64) -> UInt64 {
        let code = Int(table.firstMatching(hash))
        return code == 0 ? 0 : offsets[code]
    }

    /// The first byte of the entry the probe path of `hash` most likely ends on, read (as
    /// ``touchOffsets(_:)``); 0 when the path names none or the entry is empty.
    @inline(__always)
    func touchEntry(_ hash: UInt64) -> UInt64 {
        let code = Int(table.firstMatching(hash))
        guard code != 0 else { return 0 }
        let start = Int(offsets[code])
        return start < bytes.count ? UInt64(bytes[start]) : 0
    }

    /// The code of `value` (not empty), whose XXH64 is `hash`, adding it as a new entry when it is
    /// not there yet.
    mutating func code(for value: UnsafeRawBufferPointer, hash: UInt64) -> UInt32 {
        let (found, index) = table.find(hash) { entryEquals(Int($0), value) }
        if let found {
            lastCode = found
            return found
        }
        precondition(entryCount < Int(UInt32.max), "too many distinct values in one dictionary column")
        let code = UInt32(entryCount)
        bytes.append(contentsOf: value)
        offsets.append(UInt64(bytes.count))
        entryHashes.append(hash)
        table.set(index, hash: hash, payload: code)
        if entryCount * 2 > table.capacity {
            let hashes = entryHashes
            table = table.grown((1..<hashes.count).lazy.map { (hashes[$0], UInt32($0)) })
        }
        lastCode = code
        return code
    }

    @inline(__always)
    private func entryEquals(_ code: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        storedBytes(bytes, Int(offsets[code]), Int(offsets[code + 1]), equal: value)
    }
}

/// Values of large dictionary columns set but not yet looked up: copied, with their hash, the
/// dictionary (slot) and the row whose code they give.
private struct PendingCodes {
    struct Value {
        var slot: Int
        /// -1: replaced in its row (or its row discarded) — looked up, the code not stored.
        var row: Int
        var start: Int
        var count: Int
        var hash: UInt64
    }

    /// A dictionary's values wait for their lookup from this many entries on (below it, its table
    /// and entries stay in the core's caches).
    static let fromEntries = 4096
    /// The values looked up together: enough reads in flight to cover the wait for memory, few
    /// enough that what they bring in stays in the first-level cache until it is used.
    static let batch = 64

    var values: [Value] = []
    var bytes: [UInt8] = []
    /// Per dictionary, the index in `values` of its last value, -1 when none is waiting.
    var lastOfSlot: [Int] = []
    /// What the reads ahead of the lookups gave, kept so they are not optimised away.
    var touched: UInt64 = 0

    mutating func add(_ value: UnsafeRawBufferPointer, slot: Int, row: Int) {
        lastOfSlot[slot] = values.count
        values.append(Value(slot: slot, row: row, start: bytes.count, count: value.count,
                            hash: KeyHash.of(value)))
        bytes.append(contentsOf: value)
    }

    /// `slot`'s waiting value for `row`, if any, no longer gives the row its code.
    mutating func supersede(slot: Int, row: Int) {
        let index = lastOfSlot[slot]
        if index >= 0, values[index].row == row { values[index].row = -1 }
    }

    /// No waiting value gives `row` its code (the row is discarded).
    mutating func supersedeRow(_ row: Int) {
        var index = values.count - 1
        while index >= 0, values[index].row == row || values[index].row == -1 {
            values[index].row = -1
            index -= 1
        }
    }

    mutating func clear() {
        values.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        for slot in lastOfSlot.indices { lastOfSlot[slot] = -1 }
    }
}

/// The growing text column: row `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
private struct TextBuffer {
    var offsets: [UInt64] = [0]
    var bytes: [UInt8] = []

    mutating func reset() {
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func set(_ value: UnsafeRawBufferPointer, row: Int) {
        if offsets.count > row + 1 {
            // Set twice in one row: drop the earlier value.
            bytes.removeSubrange(Int(offsets[row])...)
            offsets.removeLast()
        }
        bytes.append(contentsOf: value)
        offsets.append(UInt64(bytes.count))
    }
}

/// Buffered sequential writes to a file descriptor, hashing what a column checksum covers.
private struct FileWriter {
    let fd: Int32
    let path: String
    private(set) var position = 0
    private var buffer: [UInt8] = []
    private static let bufferLimit = 1 << 20

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.bufferLimit)
    }

    mutating func write(_ raw: UnsafeRawBufferPointer, into hasher: inout XXH64) throws(StoreError) {
        hasher.update(raw)
        try write(raw)
    }

    mutating func write(_ raw: UnsafeRawBufferPointer) throws(StoreError) {
        guard raw.count > 0 else { return }
        if raw.count >= Self.bufferLimit / 4 {
            try flush()
            try writeFully(raw)
        } else {
            buffer.append(contentsOf: raw)
            if buffer.count >= Self.bufferLimit { try flush() }
        }
        position += raw.count
    }

    private static let zeros = [UInt8](repeating: 0, count: 4096)

    /// Writes `count` zero bytes that no checksum covers (padding between columns).
    mutating func writeZeros(_ count: Int) throws(StoreError) {
        var ignored = XXH64()
        try writeZeros(count, into: &ignored)
    }

    /// Writes `count` zero bytes covered by `hasher` (padding inside a column).
    mutating func writeZeros(_ count: Int, into hasher: inout XXH64) throws(StoreError) {
        var remaining = count
        while remaining > 0 {
            let chunk = Swift.min(remaining, Self.zeros.count)
            try withRawBytes(of: Self.zeros) { (raw) throws(StoreError) in
                try write(UnsafeRawBufferPointer(rebasing: raw[0..<chunk]), into: &hasher)
            }
            remaining -= chunk
        }
    }

    mutating func flush() throws(StoreError) {
        guard !buffer.isEmpty else { return }
        try withRawBytes(of: buffer) { (raw) throws(StoreError) in try writeFully(raw) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeFully(_ raw: UnsafeRawBufferPointer) throws(StoreError) {
        guard var pointer = raw.baseAddress else { return }
        var remaining = raw.count
        while remaining > 0 {
            let written = systemWrite(fd, pointer, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", code: errno)
            }
            pointer += written
            remaining -= written
        }
    }

    /// Writes `raw` at `offset` without moving the sequential position.
    func writeAt(_ offset: Int, _ raw: UnsafeRawBufferPointer) throws(StoreError) {
        guard var pointer = raw.baseAddress else { return }
        var remaining = raw.count
        var at = offset
        while remaining > 0 {
            let written = pwrite(fd, pointer, remaining, off_t(at))
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "write", code: errno)
            }
            pointer += written
            remaining -= written
            at += written
        }
    }
}

/// `write(2)`, reachable from inside types that have their own `write` methods.
private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

/// `Array.withUnsafeBytes` for a body with typed throws (the standard one only rethrows `any Error`).
private func withRawBytes<T, R>(
    of array: [T], _ body: (UnsafeRawBufferPointer) throws(StoreError) -> R
) throws(StoreError) -> R {
    try array.withUnsafeBytes { raw in Result { () throws(StoreError) -> R in try body(raw) } }.get()
}

/// ``withRawBytes(of:_:)`` of a column vector's values.
private func withRawBytes<T, R>(
    of vector: ColumnVector<T>, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> R
) throws(StoreError) -> R {
    try vector.withUnsafeBytes { (raw) throws(StoreError) -> R in try body(raw) }
}

/// Starts the write-back of a file's dirty pages without waiting for it: Linux's
/// `sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)`, looked up at run time (the C module Swift
/// imports does not declare it); elsewhere nothing, and the later `fsync` does all the work.
enum WriteBack {
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32

    private static let syncFileRange = CLibrary.function("sync_file_range", as: SyncFileRange.self)

    static func start(_ fd: Int32) {
        _ = syncFileRange?(fd, 0, 0, 2)  // SYNC_FILE_RANGE_WRITE
    }
}
