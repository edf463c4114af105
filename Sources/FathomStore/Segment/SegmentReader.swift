import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a segment file in place, from a read-only memory mapping.
///
/// Opening validates everything that locating a column depends on: the magic, the format version,
/// the header checksum (which covers the directory), the file length, and every directory entry
/// (type, name, offset, length, count, alignment, order, bounds). Column *contents* are validated
/// lazily, the first time a column is opened with a typed accessor such as ``int64(_:)``: its XXH64
/// checksum is compared with the directory's, and dictionary and text offsets (and dictionary codes)
/// are checked to be monotonic and in bounds, so row subscripts afterwards need no check that can
/// fail on file bytes. The outcome is cached per column; ``verifyChecksums()`` re-checks them all.
///
/// All integers are little-endian. Layout (offsets in bytes; `A` = 64-byte alignment):
///
/// ```
///  0        8          16      18   19    20      24     32       40      48      56       60   64          72         80      128
///  ┌────────┬──────────┬───────┬────┬─────┬───────┬──────┬────────┬───────┬───────┬────────┬────┬───────────┬──────────┬───────┐
///  │"FATHOM │ header   │version│kind│flags│columns│ rows │archive │ min   │ max   │ time   │ 0  │ metadata  │ file     │ zero  │
///  │  SG"   │ checksum │ u16   │ u8 │ u8  │ u32   │ u64  │ id i64 │ time  │ time  │ column │    │ end u64   │ length   │       │
///  └────────┴──────────┴───────┴────┴─────┴───────┴──────┴────────┴───────┴───────┴────────┴────┴───────────┴──────────┴───────┘
///  128: directory, one 64-byte entry per column
///      ┌──────┬───┬────────┬────────┬────────┬────────┬─────────┬──────────┬──────┐
///      │ type │enc│name len│name off│ offset │ length │ count   │ checksum │ zero │
///      │  u8  │   │  u16   │  u32   │  u64   │  u64   │  u64    │  u64     │ 24 B │
///      └──────┴───┴────────┴────────┴────────┴────────┴─────────┴──────────┴──────┘
///  then the column names (UTF-8), zero padding to A = metadata end
///  header checksum = XXH64 of bytes [16, metadata end)
///
///  metadata end: column 0 │pad to A│ column 1 │pad to A│ … │ last column = file end
///
///  int64, float64: rows × 8           hash128: rows × 16 (low, high)
///  dictionary:  codes u32 × rows │pad to A│ entry offsets u64 × (entries + 1) │ entry bytes
///  text:        offsets u64 × (rows + 1) │pad to A│ bytes
///  (dictionary and text offsets count from the start of their bytes; column checksum = XXH64 of
///   [offset, offset + length), inner padding included)
/// ```
///
/// The reader is safe to share between threads: its state after `init` is immutable except the
/// per-column validation cache, which is guarded by a lock. The column values it returns keep it
/// (and its mapping) alive.
public final class SegmentReader: @unchecked Sendable {
    public let path: String
    public let kindCode: UInt8
    public let rowCount: Int
    /// The smallest non-null time in the time column, or nil when there is none.
    public let minTime: Int64?
    /// The largest non-null time in the time column, or nil when there is none.
    public let maxTime: Int64?
    public let archiveID: Int64
    public let columns: [ColumnSpec]
    /// The column whose range is ``minTime``…``maxTime``, or nil when the kind has none.
    public let timeColumn: Int?
    /// The header checksum, equal to ``SegmentInfo/checksum`` of the write that made the file.
    public let checksum: UInt64
    /// Size of the file.
    public var byteCount: Int { mapping.count }

    let mapping: FileMapping
    private let base: UnsafeRawPointer
    private let entries: [Entry]
    private let lock = Lock()
    private var states: [ColumnState]

    /// Where a column lives, as read (and bounds-checked) from the directory.
    private struct Entry {
        var offset: Int
        var length: Int
        /// Dictionary: entries including entry 0. Text: bytes (uncompressed). Others: 0.
        var count: Int
        var checksum: UInt64
        /// A column whose bytes are zstd blocks (version 2): a text column's bytes after its offsets,
        /// or (``isPacked``) the whole plain layout of another type.
        var compressed = false
        /// Bytes of a packed column's plain layout (directory bytes 40..<48); 0 otherwise.
        var plainLength = 0
        var type: ColumnType = .int64
        /// The values byte-shuffled in a packed column's blocks (encoding 2, version 3).
        var shuffle: BlockShuffle?
        /// A hex-packed text column's value length and digits (encoding 3, version 4).
        var hexShape: (length: Int, digits: Int)?

        /// A non-text column stored as zstd blocks of its plain layout, inflated whole when opened.
        var isPacked: Bool { compressed && type != .text }
    }

    /// The inflaters of compressed text columns, by column, once opened.
    private var inflaters: [BlockInflater?]

    private enum ColumnState {
        case unchecked
        case valid
        case invalid(StoreError)
    }

    /// Maps and validates the segment at `path`.
    ///
    /// - Throws: ``StoreError/io(path:operation:code:)`` when the file cannot be opened or mapped,
    ///   ``StoreError/corrupt(path:offset:detail:)`` naming the byte where the header or directory is
    ///   wrong.
    /// - Complexity: O(header + directory); column data is not touched.
    public init(path: String) throws(StoreError) {
        let mapping = try FileMapping(path: path)
        self.path = path
        self.mapping = mapping
        let bytes = mapping.bytes
        let size = bytes.count
        func corrupt(_ offset: Int, _ detail: String) -> StoreError {
            .corrupt(path: path, offset: offset, detail: detail)
        }
        typealias H = SegmentLayout.Header
        typealias E = SegmentLayout.Entry

        guard size >= SegmentLayout.headerSize, let start = bytes.base else {
            throw corrupt(size, "the file is \(size) bytes, shorter than the \(SegmentLayout.headerSize)-byte segment header")
        }
        base = start
        func u8(_ at: Int) -> UInt8 { bytes[at] }
        func u16(_ at: Int) -> UInt16 { bytes.loadLittleEndian(UInt16.self, at: at) ?? 0 }
        func u32(_ at: Int) -> UInt32 { bytes.loadLittleEndian(UInt32.self, at: at) ?? 0 }
        func u64(_ at: Int) -> UInt64 { bytes.loadLittleEndian(UInt64.self, at: at) ?? 0 }
        func i64(_ at: Int) -> Int64 { bytes.loadLittleEndian(Int64.self, at: at) ?? 0 }

        guard bytes.starts(with: SegmentLayout.magic) else {
            let found = bytes[0..<8].array.map { hex($0) }.joined(separator: " ")
            throw corrupt(H.magic, "the magic is \(found), expected 'FATHOMSG'; this is not a Fathom segment")
        }
        let version = u16(H.version)
        guard (SegmentLayout.version...SegmentLayout.hexVersion).contains(version) else {
            throw corrupt(H.version, "format version \(version), expected \(SegmentLayout.version) to \(SegmentLayout.hexVersion)")
        }
        let metadataEnd = u64(H.metadataEnd)
        guard metadataEnd >= UInt64(SegmentLayout.headerSize + SegmentLayout.entrySize),
              metadataEnd % UInt64(SegmentLayout.alignment) == 0
        else {
            throw corrupt(H.metadataEnd, "the metadata end \(metadataEnd) is not a multiple of 64 of at least 192")
        }
        guard metadataEnd <= UInt64(size) else {
            throw corrupt(H.metadataEnd, "the header and directory end at byte \(metadataEnd), past the file end (\(size))")
        }
        let metadataSize = Int(metadataEnd)
        let stored = u64(H.checksum)
        let computed = XXH64.hash(bytes[SegmentLayout.checksummedFrom..<metadataSize])
        guard stored == computed else {
            throw corrupt(H.checksum, "the header checksum is \(hex(stored)), but bytes 16..<\(metadataSize) hash to \(hex(computed))")
        }
        let fileLength = u64(H.fileLength)
        guard fileLength == UInt64(size) else {
            throw corrupt(
                Swift.min(size, Int(clamping: fileLength)),
                "the file is \(size) bytes, the header says \(fileLength)\(fileLength > UInt64(size) ? " (truncated)" : "")")
        }
        checksum = stored
        kindCode = u8(H.kindCode)
        archiveID = i64(H.archiveID)

        let columnCount = Int(u32(H.columnCount))
        guard columnCount >= 1,
              columnCount <= (metadataSize - SegmentLayout.headerSize) / SegmentLayout.entrySize
        else {
            throw corrupt(H.columnCount, "\(columnCount) columns do not fit a directory ending at byte \(metadataSize)")
        }
        let rows = u64(H.rowCount)
        // Every column stores at least 4 bytes per row.
        guard rows <= UInt64(size / 4) else {
            throw corrupt(H.rowCount, "\(rows) rows cannot fit in a file of \(size) bytes")
        }
        rowCount = Int(rows)

        // Directory.
        let namesStart = SegmentLayout.headerSize + columnCount * SegmentLayout.entrySize
        var columns: [ColumnSpec] = []
        var entries: [Entry] = []
        var previousEnd = metadataSize
        for index in 0..<columnCount {
            let at = SegmentLayout.headerSize + index * SegmentLayout.entrySize
            guard let type = ColumnType(rawValue: u8(at + E.type)) else {
                throw corrupt(at + E.type, "column \(index) has unknown type \(u8(at + E.type))")
            }
            let nameLength = Int(u16(at + E.nameLength))
            let nameOffset = Int(u32(at + E.nameOffset))
            guard nameOffset >= namesStart, nameOffset + nameLength <= metadataSize else {
                throw corrupt(at + E.nameOffset, "the name of column \(index) (bytes \(nameOffset)..<\(nameOffset + nameLength)) is outside the name area \(namesStart)..<\(metadataSize)")
            }
            guard let name = bytes[nameOffset..<nameOffset + nameLength].validatedString else {
                throw corrupt(nameOffset, "the name of column \(index) is not valid UTF-8")
            }
            guard !columns.contains(where: { $0.name == name }) else {
                throw corrupt(nameOffset, "column name '\(name)' appears twice")
            }
            let offset = u64(at + E.offset)
            let length = u64(at + E.length)
            let count = u64(at + E.count)
            let encoding = u8(at + E.encoding)
            let shuffled = encoding == SegmentLayout.encodingShuffled
            let hexText = encoding == SegmentLayout.encodingHex
            let compressed = encoding == SegmentLayout.encodingZstd || shuffled || hexText
            guard encoding == SegmentLayout.encodingPlain
                || (encoding == SegmentLayout.encodingZstd && version >= SegmentLayout.compressedVersion)
                || (shuffled && version >= SegmentLayout.shuffledVersion && SegmentLayout.shuffle(type, rows: 0) != nil)
                || (hexText && version >= SegmentLayout.hexVersion && type == .text) else {
                throw corrupt(at + E.encoding, "column '\(name)' has encoding \(encoding), which a version-\(version) \(type) column cannot have")
            }
            guard offset % UInt64(SegmentLayout.alignment) == 0 else {
                throw corrupt(at + E.offset, "column '\(name)' starts at byte \(offset), which is not 64-byte aligned")
            }
            guard offset >= UInt64(previousEnd), offset <= UInt64(size) else {
                throw corrupt(at + E.offset, "column '\(name)' starts at byte \(offset), outside \(previousEnd)...\(size) (after the previous column, within the file)")
            }
            guard length <= UInt64(size) - offset else {
                throw corrupt(at + E.length, "column '\(name)' ends at byte \(offset &+ length), past the file end (\(size))")
            }
            // offset + length <= size, so the products below (rows <= size / 4) cannot overflow.
            let expected: Int
            var plainLength = 0
            var hexShape: (length: Int, digits: Int)?
            if hexText {
                // Digits packed from the pattern the column's header states, which must account
                // for its length and its count of text bytes.
                guard length >= 16, let shape = HexText.shape(payload: bytes[Int(offset)..<Int(offset + length)], rows: rowCount, count: count) else {
                    throw corrupt(Int(offset), "hex-packed text column '\(name)' (\(length) bytes, count \(count)) does not hold \(rowCount) rows of its stated pattern")
                }
                hexShape = shape
            }
            if compressed && type != .text {
                // A packed column: zstd blocks of the plain layout, whose size the entry records.
                let plain = u64(at + E.plainLength)
                let minimum: Int
                switch type {
                case .int64, .float64: minimum = rowCount * 8
                case .hash128: minimum = rowCount * 16
                default: minimum = SegmentLayout.aligned(rowCount * 4) + (Int(min(count, UInt64(size))) + 1) * 8
                }
                guard plain <= UInt64(SegmentLayout.maxInflatedText), Int(plain) >= minimum,
                      type == .dictionary || Int(plain) == minimum,
                      type == .dictionary ? (count >= 1 && count <= plain / 8) : count == 0 else {
                    throw corrupt(at + E.plainLength, "packed \(type) column '\(name)' claims \(plain) plain bytes and count \(count) for \(rowCount) rows")
                }
                plainLength = Int(plain)
            }
            switch type {
            case _ where compressed && type != .text, _ where hexText:
                expected = Int(length)
            case .int64, .float64, .hash128:
                guard count == 0 else {
                    throw corrupt(at + E.count, "\(type) column '\(name)' has count \(count), expected 0")
                }
                expected = rowCount * (type == .hash128 ? 16 : 8)
            case .dictionary:
                // Codes, padding, then entry offsets; the rest of the column is entry bytes.
                guard count >= 1, count <= length / 8 else {
                    throw corrupt(at + E.count, "dictionary column '\(name)' claims \(count) entries in a \(length)-byte column")
                }
                let minimum = SegmentLayout.aligned(rowCount * 4) + (Int(count) + 1) * 8
                guard Int(length) >= minimum else {
                    throw corrupt(at + E.length, "dictionary column '\(name)' is \(length) bytes, less than the \(minimum) its \(rowCount) codes and \(count) entry offsets need")
                }
                expected = Int(length)
            case .text where compressed:
                // Offsets, padding, then one zstd frame of `count` bytes (checked when opened).
                let offsets = SegmentLayout.aligned((rowCount + 1) * 8)
                guard Int(length) > offsets, count <= UInt64(SegmentLayout.maxInflatedText) else {
                    throw corrupt(at + E.length, "compressed text column '\(name)' is \(length) bytes for \(count) bytes of \(rowCount) rows")
                }
                expected = Int(length)
            case .text:
                guard count <= length else {
                    throw corrupt(at + E.count, "text column '\(name)' claims \(count) bytes in a \(length)-byte column")
                }
                expected = SegmentLayout.aligned((rowCount + 1) * 8) + Int(count)
            }
            guard Int(length) == expected else {
                throw corrupt(at + E.length, "column '\(name)' is \(length) bytes, expected \(expected) for \(rowCount) rows of \(type)")
            }
            columns.append(ColumnSpec(name: name, type: type, compressed: compressed))
            entries.append(Entry(offset: Int(offset), length: Int(length), count: Int(count), checksum: u64(at + E.checksum),
                                 compressed: compressed, plainLength: plainLength, type: type,
                                 shuffle: shuffled ? SegmentLayout.shuffle(type, rows: rowCount, entries: Int(count)) : nil,
                                 hexShape: hexShape))
            previousEnd = Int(offset) + Int(length)
        }
        self.columns = columns
        self.entries = entries
        states = Array(repeating: .unchecked, count: columnCount)
        inflaters = Array(repeating: nil, count: columnCount)

        let timeIndex = u32(H.timeColumn)
        if timeIndex == SegmentLayout.noTimeColumn {
            timeColumn = nil
        } else {
            guard Int(timeIndex) < columnCount, columns[Int(timeIndex)].type == .int64 else {
                throw corrupt(H.timeColumn, "the time column \(timeIndex) is not an int64 column")
            }
            timeColumn = Int(timeIndex)
        }
        let flags = u8(H.flags)
        if flags & SegmentLayout.flagHasTimeRange != 0 {
            let low = i64(H.minTime), high = i64(H.maxTime)
            guard timeColumn != nil, low <= high, low != .min else {
                throw corrupt(H.minTime, "the time range \(low)...\(high) is invalid")
            }
            minTime = low
            maxTime = high
        } else {
            minTime = nil
            maxTime = nil
        }
    }

    /// The index of the column named `name`.
    public func columnIndex(named name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }

    /// Recomputes every column's checksum and re-validates its offsets and codes (and that a
    /// compressed column inflates to its size).
    ///
    /// - Throws: the first ``StoreError/corrupt(path:offset:detail:)`` found.
    /// - Complexity: O(file size).
    public func verifyChecksums() throws(StoreError) {
        for index in columns.indices {
            let outcome = validate(index)
            lock.withLock { states[index] = outcome.map(ColumnState.invalid) ?? .valid }
            if let outcome { throw outcome }
            if entries[index].compressed && !entries[index].isPacked {
                let inflater = try inflater(index, entries[index])
                inflater.ensureAll()
                if let failure = inflater.failure {
                    throw .corrupt(path: path, offset: textBytesStart(entries[index]),
                                   detail: "compressed text column '\(columns[index].name)': \(failure)")
                }
            }
        }
    }

    // MARK: Typed column access

    /// The Int64 column at `column`, validated on first access.
    ///
    /// - Throws: ``StoreError/unsupported(path:detail:)`` when the column has another type;
    ///   ``StoreError/corrupt(path:offset:detail:)`` when its checksum does not match.
    /// - Complexity: O(column bytes) on first access, O(1) afterwards.
    public func int64(_ column: Int) throws(StoreError) -> Int64Column {
        let entry = try open(column, as: .int64)
        return Int64Column(owner: self, base: start(column, entry), count: rowCount)
    }

    /// The Float64 column at `column`, validated on first access.
    ///
    /// - Complexity: O(column bytes) on first access, O(1) afterwards.
    public func float64(_ column: Int) throws(StoreError) -> Float64Column {
        let entry = try open(column, as: .float64)
        return Float64Column(owner: self, base: start(column, entry), count: rowCount)
    }

    /// The hash128 column at `column`, validated on first access.
    ///
    /// - Complexity: O(column bytes) on first access, O(1) afterwards.
    public func hash128(_ column: Int) throws(StoreError) -> Hash128Column {
        let entry = try open(column, as: .hash128)
        return Hash128Column(owner: self, base: start(column, entry), count: rowCount)
    }

    /// The dictionary column at `column`; its checksum, entry offsets and codes are validated on
    /// first access.
    ///
    /// - Complexity: O(column bytes) on first access, O(1) afterwards.
    public func dictionary(_ column: Int) throws(StoreError) -> DictionaryColumn {
        let entry = try open(column, as: .dictionary)
        let layout = dictionaryLayout(entry)
        let start = start(column, entry)
        return DictionaryColumn(
            owner: self, codes: start, offsets: start + layout.offsets, bytes: start + layout.bytes,
            count: rowCount, entryCount: entry.count)
    }

    /// The text column at `column`; its checksum and offsets are validated on first access.
    ///
    /// - Complexity: O(column bytes) on first access, O(1) afterwards.
    public func text(_ column: Int) throws(StoreError) -> TextColumn {
        let entry = try open(column, as: .text)
        if let shape = entry.hexShape {
            let inflater = try inflater(column, entry)
            return TextColumn(owner: self, offsets: base + entry.offset, bytes: UnsafeRawPointer(inflater.bytes), count: rowCount,
                              byteCount: entry.count, inflater: inflater, width: shape.length)
        }
        if entry.compressed {
            let inflater = try inflater(column, entry)
            return TextColumn(owner: self, offsets: base + entry.offset, bytes: UnsafeRawPointer(inflater.bytes), count: rowCount,
                              byteCount: entry.count, inflater: inflater)
        }
        return TextColumn(owner: self, offsets: base + entry.offset, bytes: base + textBytesStart(entry), count: rowCount,
                          byteCount: entry.count)
    }

    /// Where an opened column's plain layout starts: in the mapping, or for a packed column in the
    /// memory its inflater owns (inflated and checked by ``open(_:as:)``).
    private func start(_ column: Int, _ entry: Entry) -> UnsafeRawPointer {
        guard entry.isPacked, let inflater = lock.withLock({ inflaters[column] }) else { return base + entry.offset }
        return UnsafeRawPointer(inflater.bytes)
    }

    /// The inflater of a compressed column, its block table checked, made on first use: a text
    /// column's bytes after its offsets, or a packed column's whole plain layout.
    private func inflater(_ column: Int, _ entry: Entry) throws(StoreError) -> BlockInflater {
        if let done = lock.withLock({ inflaters[column] }) { return done }
        let start = entry.isPacked || entry.hexShape != nil ? entry.offset : textBytesStart(entry)
        let made: BlockInflater
        do {
            if let shape = entry.hexShape {
                let pattern = try HexText.Pattern(payload: base + start, length: shape.length, digits: shape.digits)
                made = try BlockInflater(hex: pattern, payload: base + start, rows: rowCount, blockSize: SegmentLayout.textBlockSize)
            } else {
                made = try BlockInflater(payload: base + start, length: entry.offset + entry.length - start,
                                         byteCount: entry.isPacked ? entry.plainLength : entry.count, shuffle: entry.shuffle)
            }
        } catch {
            throw .corrupt(path: path, offset: start + error.offset,
                           detail: "compressed column '\(columns[column].name)': \(error.detail)")
        }
        return lock.withLock {
            if let other = inflaters[column] { return other }
            inflaters[column] = made
            return made
        }
    }

    // MARK: Validation

    private func open(_ column: Int, as type: ColumnType) throws(StoreError) -> Entry {
        precondition(column >= 0 && column < columns.count, "column index \(column) out of range")
        guard columns[column].type == type else {
            throw .unsupported(path: path, detail: "column '\(columns[column].name)' is \(columns[column].type), not \(type)")
        }
        let state = lock.withLock { states[column] }
        switch state {
        case .valid:
            break
        case .invalid(let error):
            throw error
        case .unchecked:
            let key = ValidatedColumns.Key(path: path, checksum: checksum, byteCount: byteCount,
                                           modificationTime: mapping.modificationTime, column: column)
            if ValidatedColumns.shared.contains(key), try reuseValidation(column) {
                lock.withLock { states[column] = .valid }
                break
            }
            // Validated outside the lock; two threads may both validate, with the same outcome.
            let outcome = validate(column)
            lock.withLock { states[column] = outcome.map(ColumnState.invalid) ?? .valid }
            if let outcome { throw outcome }
            ValidatedColumns.shared.insert(key)
        }
        return entries[column]
    }

    /// Takes a column another reader of the same file (same path, header checksum, length and time)
    /// validated earlier in this process as valid, without hashing and checking it again (a hunt
    /// opens each segment once per rule): a packed column is still inflated whole, since its plain
    /// layout is what the accessors read. False when that inflation fails (then ``validate(_:)``
    /// reports it).
    private func reuseValidation(_ column: Int) throws(StoreError) -> Bool {
        let entry = entries[column]
        guard entry.isPacked else { return true }
        let inflater = try inflater(column, entry)
        inflater.ensureAll()
        return inflater.failure == nil
    }

    /// A dictionary column's entry offsets and entry bytes, relative to the column's start.
    private func dictionaryLayout(_ entry: Entry) -> (offsets: Int, bytes: Int, byteCount: Int) {
        let offsets = SegmentLayout.aligned(rowCount * 4)
        let bytes = offsets + (entry.count + 1) * 8
        return (offsets, bytes, (entry.isPacked ? entry.plainLength : entry.length) - bytes)
    }

    private func textBytesStart(_ entry: Entry) -> Int {
        entry.offset + SegmentLayout.aligned((rowCount + 1) * 8)
    }


    /// Checks one column's checksum and structure; nil when it is sound.
    private func validate(_ column: Int) -> StoreError? {
        let entry = entries[column]
        let name = columns[column].name
        func corrupt(_ offset: Int, _ detail: String) -> StoreError {
            .corrupt(path: path, offset: offset, detail: detail)
        }
        let computed = XXH64.hash(ByteView(unsafeStart: base + entry.offset, count: entry.length))
        guard computed == entry.checksum else {
            return corrupt(
                entry.offset,
                "column '\(name)' (bytes \(entry.offset)..<\(entry.offset + entry.length)) hashes to \(hex(computed)), the directory says \(hex(entry.checksum))")
        }
        // A hex-packed text column: its pattern checked, its rows read at fixed places.
        if let shape = entry.hexShape {
            do {
                _ = try HexText.Pattern(payload: base + entry.offset, length: shape.length, digits: shape.digits)
                return nil
            } catch {
                return corrupt(entry.offset + error.offset, "hex-packed text column '\(name)': \(error.detail)")
            }
        }
        // The plain layout is checked where it is: in the mapping, or inflated (a packed column,
        // whose problems are reported at the column's first byte).
        var image = base + entry.offset
        var origin: (Int) -> Int = { entry.offset + $0 }
        if entry.isPacked {
            let inflater: BlockInflater
            do { inflater = try self.inflater(column, entry) } catch { return error }
            inflater.ensureAll()
            if let failure = inflater.failure {
                return corrupt(entry.offset, "packed column '\(name)': \(failure)")
            }
            image = UnsafeRawPointer(inflater.bytes)
            origin = { _ in entry.offset }
        }
        switch columns[column].type {
        case .int64, .float64, .hash128:
            return nil
        case .text:
            return validateOffsets(
                image, at: 0, origin: origin, count: rowCount + 1, byteCount: entry.count, what: "text column '\(name)'", item: "row")
        case .dictionary:
            let layout = dictionaryLayout(entry)
            if let error = validateOffsets(
                image, at: layout.offsets, origin: origin, count: entry.count + 1, byteCount: layout.byteCount,
                what: "the dictionary of column '\(name)'", item: "entry")
            {
                return error
            }
            let emptyEnd = UInt64(littleEndian: image.load(fromByteOffset: layout.offsets + 8, as: UInt64.self))
            guard emptyEnd == 0 else {
                return corrupt(origin(layout.offsets + 8), "entry 0 of the dictionary of column '\(name)' must be empty, but ends at \(emptyEnd)")
            }
            let limit = UInt32(clamping: entry.count)
            var bad: Int?
            let codes = UnsafeBufferPointer(start: image.assumingMemoryBound(to: UInt32.self), count: rowCount)
            for row in 0..<rowCount where UInt32(littleEndian: codes[row]) >= limit {
                bad = row
                break
            }
            if let row = bad {
                return corrupt(
                    origin(row * 4),
                    "row \(row) of column '\(name)' has dictionary code \(UInt32(littleEndian: codes[row])), but the dictionary has \(entry.count) entries")
            }
            return nil
        }
    }

    /// Checks that `count` UInt64 offsets at `at` (relative to `image`) start at 0, never decrease,
    /// and end at `byteCount`; errors name the file offset `origin` gives.
    private func validateOffsets(_ image: UnsafeRawPointer, at: Int, origin: (Int) -> Int, count: Int, byteCount: Int,
                                 what: String, item: String) -> StoreError? {
        func corrupt(_ offset: Int, _ detail: String) -> StoreError {
            .corrupt(path: path, offset: origin(offset), detail: detail)
        }
        func load(_ type: UInt64.Type, at offset: Int) -> UInt64 {
            UInt64(littleEndian: image.load(fromByteOffset: offset, as: UInt64.self))
        }
        let first = load(UInt64.self, at: at)
        guard first == 0 else { return corrupt(at, "\(what) offsets start at \(first), not 0") }
        let limit = UInt64(byteCount)
        var previous: UInt64 = 0
        for index in 1..<count {
            let value = load(UInt64.self, at: at + index * 8)
            if value > limit {
                return corrupt(at + index * 8, "\(what): \(item) \(index - 1) ends at byte \(value) of its \(byteCount) bytes, past the end")
            }
            if value < previous {
                return corrupt(at + index * 8, "\(what): \(item) \(index - 1) ends at byte \(value), before it starts (\(previous))")
            }
            previous = value
        }
        guard previous == limit else {
            return corrupt(at + (count - 1) * 8, "\(what): the last \(item) ends at byte \(previous), but there are \(byteCount) bytes")
        }
        return nil
    }
}

/// The columns of segment files validated in this process: a later reader of the same file
/// (path, header checksum — which covers every column's checksum —, length and modification time
/// unchanged) trusts them. ``SegmentReader/verifyChecksums()`` always checks again.
final class ValidatedColumns: @unchecked Sendable {
    struct Key: Hashable {
        var path: String
        var checksum: UInt64
        var byteCount: Int
        var modificationTime: Int64
        var column: Int
    }

    static let shared = ValidatedColumns()
    private let lock = Lock()
    private var keys: Set<Key> = []

    func contains(_ key: Key) -> Bool { lock.withLock { keys.contains(key) } }

    func insert(_ key: Key) {
        lock.withLock {
            // A bound for a long-lived process (a server, a test run): forgetting costs only a
            // second validation.
            if keys.count >= 1 << 20 { keys.removeAll() }
            keys.insert(key)
        }
    }
}

/// A `pthread_mutex_t` that lives at a stable address.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
