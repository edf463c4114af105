/// A table of 2^bits signed bytes read by the top `bits` bits of a 64-bit key: the hashed-feature
/// weights of a linear model. Every key reads an entry (a key shifted right by 64 − bits is below
/// 2^bits), so a read needs no bounds check, and a loop holds one pointer and one shift for it —
/// where an array's read in the trained detector's byte loop compared the index with the count at
/// every byte and kept base and count in registers it lacked.
///
/// Immutable once made; the bytes are owned and freed with it.
public final class KeyedByteTable: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Int8>
    /// 64 − ``bits``: a key's top bits are its entry.
    @usableFromInline let shift: UInt64
    /// The table holds 2^bits entries.
    public let bits: Int

    /// A table of `values`, whose count must be a power of two from 2 to 2^32.
    public init(_ values: [Int8]) {
        precondition(values.count >= 2 && values.count <= 1 << 32 && values.count & (values.count - 1) == 0,
                     "a keyed table's size is a power of two")
        bits = values.count.trailingZeroBitCount
        shift = UInt64(64 - bits)
        base = .allocate(capacity: values.count)
        values.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: values.count) }
    }

    deinit { base.deallocate() }

    /// The entry of `key`'s top ``bits`` bits, as an `Int`.
    @inlinable @inline(__always)
    public func value(forKey key: UInt64) -> Int {
        Int(base[Int(truncatingIfNeeded: key &>> shift)])
    }
}
