/// A 128-bit non-cryptographic hash of a value, for equality tests and distinct counts over
/// high-cardinality columns (prompt texts, API keys, client addresses).
///
/// The hash is MurmurHash3 x64_128 with seed 0 (Austin Appleby's reference `MurmurHash3_x64_128`):
/// `low` is the reference's first output word `h1`, `high` its second `h2`. All-zero is reserved for
/// null; the one input whose MurmurHash3 is all-zero in practice — the empty input — and any other
/// input that happened to hash to zero are remapped to ``remappedZero``, so a real value never reads
/// as null.
///
/// Ordering is by `high`, then `low`; it is arbitrary but stable, for sorting and merging.
public struct Hash128: Hashable, Sendable, Comparable, CustomStringConvertible, BitwiseCopyable {
    // Stored in this order: a hash128 column's rows are read as `Hash128` values (low word first).
    public var low: UInt64
    public var high: UInt64

    /// The null hash (all-zero).
    public static let null = Hash128(low: 0, high: 0)

    /// What an input whose MurmurHash3 is all-zero (the empty input) hashes to instead.
    public static let remappedZero = Hash128(low: 0x9E37_79B9_7F4A_7C15, high: 0xD1B5_4A32_D192_ED03)

    @inlinable
    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Whether this is the null hash (all-zero).
    @inlinable public var isNull: Bool { low == 0 && high == 0 }

    /// The hash of `bytes`.
    ///
    /// - Complexity: O(`bytes.count`).
    public static func of(_ bytes: ByteView) -> Hash128 {
        bytes.withUnsafeBytes { murmur($0) }
    }

    /// The hash of the UTF-8 bytes of `string`.
    public static func of(_ string: String) -> Hash128 {
        var string = string
        return string.withUTF8 { murmur(UnsafeRawBufferPointer($0)) }
    }

    /// The hash of a byte array.
    public static func of(_ bytes: [UInt8]) -> Hash128 {
        bytes.withUnsafeBytes { murmur($0) }
    }

    @inlinable
    public static func < (lhs: Hash128, rhs: Hash128) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// 32 hexadecimal digits, `low` first, in the byte order of the reference implementation's
    /// output (little-endian `h1` then `h2`).
    public var description: String {
        var result = ""
        result.reserveCapacity(32)
        let digits = Array("0123456789abcdef".utf8)
        for word in [low, high] {
            for index in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt64(index)))
                result.unicodeScalars.append(UnicodeScalar(digits[Int(byte >> 4)]))
                result.unicodeScalars.append(UnicodeScalar(digits[Int(byte & 15)]))
            }
        }
        return result
    }

    // MARK: MurmurHash3 x64_128

    @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    @inline(__always)
    static func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k &*= 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33
        k &*= 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }

    static func murmur(_ buffer: UnsafeRawBufferPointer) -> Hash128 {
        let c1: UInt64 = 0x87C3_7B91_1142_53D5
        let c2: UInt64 = 0x4CF5_AD43_2745_937F
        var h1: UInt64 = 0
        var h2: UInt64 = 0
        let length = buffer.count
        if let base = buffer.baseAddress, length > 0 {
            let blocks = length / 16
            var offset = 0
            for _ in 0..<blocks {
                var k1 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                var k2 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                offset += 16
                k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
                h1 = rotl(h1, 27); h1 &+= h2; h1 = h1 &* 5 &+ 0x52DC_E729
                k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
                h2 = rotl(h2, 31); h2 &+= h1; h2 = h2 &* 5 &+ 0x3849_5AB5
            }
            let tail = length & 15
            if tail > 0 {
                var k1: UInt64 = 0
                var k2: UInt64 = 0
                for index in stride(from: tail - 1, through: 8, by: -1) {
                    k2 ^= UInt64(base.load(fromByteOffset: offset + index, as: UInt8.self)) << (8 * UInt64(index - 8))
                }
                for index in stride(from: Swift.min(tail, 8) - 1, through: 0, by: -1) {
                    k1 ^= UInt64(base.load(fromByteOffset: offset + index, as: UInt8.self)) << (8 * UInt64(index))
                }
                if tail > 8 {
                    k2 &*= c2; k2 = rotl(k2, 33); k2 &*= c1; h2 ^= k2
                }
                k1 &*= c1; k1 = rotl(k1, 31); k1 &*= c2; h1 ^= k1
            }
        }
        h1 ^= UInt64(length)
        h2 ^= UInt64(length)
        h1 &+= h2
        h2 &+= h1
        h1 = fmix(h1)
        h2 = fmix(h2)
        h1 &+= h2
        h2 &+= h1
        if h1 == 0 && h2 == 0 { return remappedZero }
        return Hash128(low: h1, high: h2)
    }
}
