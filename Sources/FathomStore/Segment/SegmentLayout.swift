/// Constants and arithmetic of the segment file format shared by ``SegmentBuilder`` and
/// ``SegmentReader``. `SEGMENT-FORMAT.md` beside this file is the specification.
enum SegmentLayout {
    /// "FATHOMSG" in ASCII.
    static let magic: [UInt8] = Array("FATHOMSG".utf8)
    /// Version 1: every column stored plain. Version 2 adds the column encoding byte (a text
    /// column's bytes may be one zstd frame); a segment without a compressed column is still
    /// written as version 1.
    static let version: UInt16 = 1
    static let compressedVersion: UInt16 = 2
    /// Version 3 adds encoding 2 (``encodingShuffled``); a segment without such a column is still
    /// written as version 2 or 1.
    static let shuffledVersion: UInt16 = 3
    /// Column encodings (directory entry byte 1, version 2 and later).
    static let encodingPlain: UInt8 = 0
    static let encodingZstd: UInt8 = 1
    /// A packed int64 or dictionary column whose integers (the R int64s; a dictionary's R UInt32
    /// codes and its E + 1 UInt64 entry offsets) are byte-shuffled inside each block before zstd:
    /// byte 0 of the block's values first, then byte 1… (version 3). The high bytes of small or
    /// steadily growing integers become long runs that zstd level 1 takes 4–14× faster, and
    /// smaller, than the values interleaved.
    static let encodingShuffled: UInt8 = 2
    /// A text column whose values all follow one pattern of lower-case hex digits between fixed
    /// bytes, stored as the digits' nibbles without row offsets (``HexText``; version 4).
    static let encodingHex: UInt8 = 3
    /// Version 4 adds encoding 3 (``encodingHex``); a segment without such a column is still
    /// written as version 3, 2 or 1.
    static let hexVersion: UInt16 = 4

    /// The shuffled ranges of a packed `type` column of `rows` rows and `entries` dictionary
    /// entries stored with ``encodingShuffled``; nil for a type that is never shuffled.
    static func shuffle(_ type: ColumnType, rows: Int, entries: Int = 0) -> BlockShuffle? {
        switch type {
        case .int64:
            return BlockShuffle(ranges: [.init(start: 0, end: rows * 8, width: 8)])
        case .dictionary:
            let offsets = aligned(rows * 4)
            return BlockShuffle(ranges: [.init(start: 0, end: rows * 4, width: 4),
                                         .init(start: offsets, end: offsets + (entries + 1) * 8, width: 8)])
        default:
            return nil
        }
    }
    /// The zstd level of compressed text columns.
    static let textCompressionLevel: Int32 = 1
    /// The zstd level of packed (non-text) columns: zstd's fastest kind, level -1 (`--fast=1`).
    /// On the packed columns of the 1 GB high-cardinality scenario (127 MB of plain layouts, most
    /// of them byte-shuffled integers) it compresses at 1,212 MB/s where level 1 did 929 MB/s, for
    /// 18.3 MB stored where level 1 stored 13.4 (`zstd -b`): about 1 % of the ingest for 2.5 % more
    /// store.
    static let packedCompressionLevel: Int32 = -1
    /// Bytes per independently compressed block of a compressed text column.
    static let textBlockSize = 64 << 10
    /// A column marked compressed is written plain when its first block does not shrink to this
    /// share of its size or less: request ids (random hex) shrank to 0.74–0.83 and scores to 0.88,
    /// for about a fifth of the ingest's compression time, and they read faster in place.
    static let worthCompressing = 0.67
    /// The largest inflated size a compressed text column may claim (a segment is flushed near
    /// 6 MB of column bytes; this bounds what a damaged count can make a reader allocate).
    static let maxInflatedText = 1 << 31
    /// Every column, and every array inside a column, starts at a multiple of this.
    static let alignment = 64
    static let headerSize = 128
    static let entrySize = 64
    /// The header checksum covers the bytes from here to the end of the metadata.
    static let checksummedFrom = 16
    static let noTimeColumn: UInt32 = .max
    static let flagHasTimeRange: UInt8 = 1

    enum Header {
        static let magic = 0
        static let checksum = 8
        static let version = 16
        static let kindCode = 18
        static let flags = 19
        static let columnCount = 20
        static let rowCount = 24
        static let archiveID = 32
        static let minTime = 40
        static let maxTime = 48
        static let timeColumn = 56
        static let metadataEnd = 64
        static let fileLength = 72
    }

    enum Entry {
        static let type = 0
        static let encoding = 1
        static let nameLength = 2
        static let nameOffset = 4
        static let offset = 8
        static let length = 16
        static let count = 24
        static let checksum = 32
        /// A packed (compressed non-text) column's plain layout size (version 2).
        static let plainLength = 40
    }

    /// `value` rounded up to the alignment. Callers make sure it cannot overflow.
    @inline(__always)
    static func aligned(_ value: Int) -> Int {
        (value + (alignment - 1)) & ~(alignment - 1)
    }

    /// `value` rounded up to the alignment, or nil on overflow.
    static func checkedAligned(_ value: Int) -> Int? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}

#if _endian(big)
#error("The segment format is little-endian and columns are read in place; big-endian hosts are not supported.")
#endif
