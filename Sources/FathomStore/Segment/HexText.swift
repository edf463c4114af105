#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Text columns whose every value follows one pattern of lower-case hex digits between fixed bytes
/// — request ids: UUIDs, 32-digit hex ids — stored as the digits' nibbles (encoding 3, format
/// version 4; SEGMENT-FORMAT.md, "Hex-packed text").
///
/// A UUID's 36 bytes take 16, and no row offsets are stored (every value has the same length).
/// zstd level 1 took them to about 22 bytes plus 8 of row offset, and compressing the request ids
/// was about a twentieth of a high-cardinality ingest's CPU time; packing them is a table lookup
/// per byte.
///
/// Stored column (all integers little-endian):
/// ```
/// [0, 8)        L: the length of every value, 1…maxLength
/// [8, 16)       N: how many of its bytes are hex digits, 1…L
/// [16, 16+L)    template: the fixed bytes, 0 where a digit goes
/// [16+L, 16+2L) mask: 1 where a digit goes, else 0
/// zero padding to a multiple of 8 (H = the header's size)
/// [H, H + R·W)  per row, W = ⌈N / 2⌉ bytes: its digits' values in order, two to a byte, the
///               first in the high nibble (the last low nibble 0 when N is odd)
/// ```
/// The column's count is its text bytes, R·L. The reader reads row *r* at `[r·L, (r+1)·L)` of
/// those bytes, expanded block by block as rows are read (a ``BlockInflater`` in memory it owns),
/// as it inflates a compressed text column: reading a few rows expands a few blocks.
enum HexText {
    /// The longest value packed.
    static let maxLength = 1024

    /// Each byte's digit value ('0'–'9', 'a'–'f' → 0–15), 0x10 for any other byte.
    static let digitValues: [UInt8] = (0..<256).map { byte in
        switch byte {
        case 0x30...0x39: UInt8(byte - 0x30)
        case 0x61...0x66: UInt8(byte - 0x61 + 10)
        default: 0x10
        }
    }

    static let digitBytes: [UInt8] = Array("0123456789abcdef".utf8)

    /// Bytes before the packed rows for values of `length` bytes.
    static func headerSize(length: Int) -> Int { (16 + 2 * length + 7) / 8 * 8 }

    /// Packed bytes per row for `digits` hex digits.
    static func stride(digits: Int) -> Int { (digits + 1) / 2 }

    /// Bytes of the stored column.
    static func storedLength(rows: Int, length: Int, digits: Int) -> Int {
        headerSize(length: length) + rows * stride(digits: digits)
    }

    /// Bytes of the plain text layout the column expands to.
    static func plainLength(rows: Int, length: Int) -> Int {
        SegmentLayout.aligned((rows + 1) * 8) + rows * length
    }

    /// The stored column of `rows` values (`offsets`: rows + 1 of them into `bytes`), or nil when a
    /// value does not follow the first one's pattern (same length; digits where it has digits,
    /// its bytes elsewhere), when fewer than three quarters of its bytes are digits, or when
    /// packing would not take it below `share` of its plain size.
    static func pack(rows: Int, offsets: [UInt64], bytes: [UInt8], share: Double) -> [UInt8]? {
        guard rows > 0, offsets.count > rows else { return nil }
        let length = Int(offsets[1])
        guard length >= 1, length <= maxLength, Int(offsets[rows]) == rows * length, bytes.count >= rows * length else {
            return nil
        }
        let values = digitValues
        var template = [UInt8](repeating: 0, count: length)
        var mask = [UInt8](repeating: 0, count: length)
        var digitPositions: [Int] = []
        var fixedPositions: [Int] = []
        for position in 0..<length {
            let byte = bytes[position]
            if values[Int(byte)] < 0x10 {
                mask[position] = 1
                digitPositions.append(position)
            } else {
                template[position] = byte
                fixedPositions.append(position)
            }
        }
        let digits = digitPositions.count
        let width = stride(digits: digits)
        let header = headerSize(length: length)
        let stored = header + rows * width
        // Ids are mostly digits. Text that merely follows one pattern (a system prompt repeated on
        // every row has hex letters here and there) is left to zstd, which stores repeats for
        // almost nothing.
        guard digits > 0, digits * 4 >= length * 3,
              Double(stored) <= share * Double(plainLength(rows: rows, length: length)) else { return nil }
        // Every row's offsets step by exactly L: checked first (no value of another length).
        for row in 1...rows where Int(offsets[row]) != row * length { return nil }
        var out = [UInt8](repeating: 0, count: stored)
        // The digits as runs of consecutive positions (a UUID: 8, 4, 4, 4, 12), so eight digits
        // of a run go at once when the output is at a whole byte.
        var runs: [(start: Int, count: Int)] = []
        for position in digitPositions {
            if let last = runs.last, last.start + last.count == position {
                runs[runs.count - 1].count += 1
            } else {
                runs.append((position, 1))
            }
        }
        let ok: Bool = bytes.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                values.withUnsafeBufferPointer { values in
                    fixedPositions.withUnsafeBufferPointer { fixedAt in
                        template.withUnsafeBufferPointer { template in
                            let base = UnsafeRawPointer(source.baseAddress!)
                            let into = UnsafeMutableRawPointer(target.baseAddress!)
                            for row in 0..<rows {
                                let value = row * length
                                var at = header + row * width
                                // 0x10 marks a byte that is no digit; any difference from a fixed
                                // byte sets another bit; a word's bytes that are no digit set their
                                // high bits in `badWords`: one test per row.
                                var bad: UInt8 = 0
                                var badWords: UInt64 = 0
                                var high: UInt8 = 0
                                var half = false
                                for run in runs {
                                    var i = run.start
                                    let end = run.start + run.count
                                    while i < end {
                                        if !half && end - i >= 8 {
                                            let packed = Self.packEight(base.loadUnaligned(fromByteOffset: value + i, as: UInt64.self),
                                                                        bad: &badWords)
                                            into.storeBytes(of: packed.littleEndian, toByteOffset: at, as: UInt32.self)
                                            at += 4
                                            i += 8
                                            continue
                                        }
                                        let digit = values[Int(source[value + i])]
                                        bad |= digit
                                        if half {
                                            target[at] = high << 4 | (digit & 0x0F)
                                            at += 1
                                        } else {
                                            high = digit
                                        }
                                        half.toggle()
                                        i += 1
                                    }
                                }
                                if half { target[at] = high << 4 }
                                for position in fixedAt {
                                    bad |= (source[value + position] ^ template[position]) == 0 ? 0 : 0x20
                                }
                                if bad & 0x30 != 0 || badWords != 0 { return false }
                            }
                            return true
                        }
                    }
                }
            }
        }
        guard ok else { return nil }
        func put(_ number: UInt64, at offset: Int) {
            for index in 0..<8 { out[offset + index] = UInt8(truncatingIfNeeded: number >> (8 * UInt64(index))) }
        }
        put(UInt64(length), at: 0)
        put(UInt64(digits), at: 8)
        for position in 0..<length {
            out[16 + position] = template[position]
            out[16 + length + position] = mask[position]
        }
        return out
    }

    /// Eight bytes (little-endian `word`, the first in the low byte) that are lower-case hex digits
    /// as four bytes of their values, two to a byte, the first in the high nibble; the high bit of
    /// each byte that is no such digit is set in `bad`. Eight bytes at a time, without a branch.
    @inline(__always)
    static func packEight(_ word: UInt64, bad: inout UInt64) -> UInt32 {
        let highs: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        // Below 0x80 each byte plus a constant under 0x80 cannot carry into the next one; a byte
        // from 0x80 on is no digit and is flagged as it is.
        let low = word & ~highs
        let atLeast30 = low &+ ones &* 0x50, atLeast3A = low &+ ones &* 0x46
        let atLeast61 = low &+ ones &* 0x1F, atLeast67 = low &+ ones &* 0x19
        let digit = ((atLeast30 & ~atLeast3A) | (atLeast61 & ~atLeast67)) & highs
        bad |= (digit ^ highs) | (word & highs)
        // '0'–'9' → 0–9, 'a'–'f' → 1–6 + 9.
        let values = (low & (ones &* 0x0F)) &+ ((atLeast61 & highs) >> 7) &* 9
        // Byte i: value i in the high nibble, value i + 1 in the low one; the even bytes kept.
        var pairs = ((values << 4) | (values >> 8)) & 0x00FF_00FF_00FF_00FF
        pairs = (pairs | (pairs >> 8)) & 0x0000_FFFF_0000_FFFF
        pairs = (pairs | (pairs >> 16)) & 0xFFFF_FFFF
        return UInt32(truncatingIfNeeded: pairs)
    }

    /// The shape a stored column's first 16 bytes claim, checked against its length and count
    /// (when the directory is read): nil when they do not fit.
    static func shape(payload: ByteView, rows: Int, count: UInt64) -> (length: Int, digits: Int)? {
        guard let length = payload.loadLittleEndian(UInt64.self, at: 0),
              let digits = payload.loadLittleEndian(UInt64.self, at: 8),
              length >= 1, length <= UInt64(maxLength), digits >= 1, digits <= length else { return nil }
        let (bytes, overflow) = UInt64(rows).multipliedReportingOverflow(by: length)
        guard !overflow, bytes == count,
              storedLength(rows: rows, length: Int(length), digits: Int(digits)) == payload.count else { return nil }
        return (Int(length), Int(digits))
    }

    /// The pattern of a stored column whose ``shape(payload:rows:count:)`` was checked: its
    /// template, checked against its mask (what is wrong is thrown at its offset in the column).
    struct Pattern: Sendable {
        let length: Int
        let digits: Int
        let template: [UInt8]
        let digitPositions: [Int]
        /// Where the packed rows start, from the column's start.
        let rowsStart: Int

        init(payload: UnsafeRawPointer, length: Int, digits: Int) throws(InflaterError) {
            let mask = payload + 16 + length
            var template = [UInt8](repeating: 0, count: length)
            var digitPositions: [Int] = []
            for position in 0..<length {
                let flag = mask.load(fromByteOffset: position, as: UInt8.self)
                let fixed = payload.load(fromByteOffset: 16 + position, as: UInt8.self)
                guard flag <= 1 else {
                    throw InflaterError(offset: 16 + length + position, detail: "mask byte \(position) is \(flag), not 0 or 1")
                }
                if flag == 1 {
                    guard fixed == 0 else {
                        throw InflaterError(offset: 16 + position, detail: "template byte \(position) is not 0 where a digit goes")
                    }
                    digitPositions.append(position)
                }
                template[position] = fixed
            }
            guard digitPositions.count == digits else {
                throw InflaterError(offset: 8, detail: "\(digits) digits claimed, the mask marks \(digitPositions.count)")
            }
            self.length = length
            self.digits = digits
            self.template = template
            self.digitPositions = digitPositions
            rowsStart = HexText.headerSize(length: length)
        }

        /// Writes the text bytes `[start, end)` of the column (rows of ``length`` bytes from 0)
        /// to `target` + `start`, from the packed rows at `packed`.
        func expand(_ start: Int, _ end: Int, packed: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<UInt8>) {
            guard end > start else { return }
            let width = HexText.stride(digits: digits)
            var row = start / length
            let lastRow = (end - 1) / length
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { scratch in
                while row <= lastRow {
                    let rowStart = row * length
                    let whole = rowStart >= start && rowStart + length <= end
                    // A row the range cuts is made aside and its part copied.
                    let value = whole ? target + rowStart : scratch.baseAddress!
                    expandRow(packed + row * width, into: value)
                    if !whole {
                        let from = max(start, rowStart), to = min(end, rowStart + length)
                        (target + from).update(from: value + (from - rowStart), count: to - from)
                    }
                    row += 1
                }
            }
        }

        @inline(__always)
        private func expandRow(_ packed: UnsafePointer<UInt8>, into value: UnsafeMutablePointer<UInt8>) {
            template.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: length) }
            HexText.digitBytes.withUnsafeBufferPointer { hex in
                digitPositions.withUnsafeBufferPointer { digitAt in
                    var at = packed
                    for pair in 0..<(digits / 2) {
                        let byte = at.pointee
                        value[digitAt[2 * pair]] = hex[Int(byte >> 4)]
                        value[digitAt[2 * pair + 1]] = hex[Int(byte & 0x0F)]
                        at += 1
                    }
                    if digits % 2 == 1 { value[digitAt[digits - 1]] = hex[Int(at.pointee >> 4)] }
                }
            }
        }
    }
}
