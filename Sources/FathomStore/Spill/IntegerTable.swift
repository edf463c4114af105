/// An open-addressing hash table from 64-bit integer keys to dense indexes `0, 1, 2, …` in order of
/// first insertion: the group table of an aggregation whose keys are packed integers.
///
/// Keys are spread by a multiplicative hash (Fibonacci hashing) and probed linearly; the table grows
/// at a load of one half. Compared with `Dictionary<UInt64, Int>` it hashes with one multiply
/// instead of SipHash and stores 12 bytes per slot.
@frozen
public struct IntegerTable: Sendable {
    @usableFromInline var keys: [UInt64]
    @usableFromInline var slots: [Int32]
    @usableFromInline var shift: UInt64
    @usableFromInline var order: [UInt64] = []

    /// The keys in order of insertion (index `i` is the key given index `i`).
    @inlinable public var insertedKeys: [UInt64] { order }

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        slots = [Int32](repeating: -1, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        order.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { order.count }

    @inlinable @inline(__always)
    func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The index of `key`, inserting it (with the next index) when it is new; `isNew` tells which.
    @inlinable @inline(__always)
    public mutating func index(of key: UInt64) -> (index: Int, isNew: Bool) {
        let mask = slots.count - 1
        var slot = home(key)
        while true {
            let found = slots[slot]
            if found < 0 { break }
            if keys[slot] == key { return (Int(found), false) }
            slot = (slot + 1) & mask
        }
        let index = order.count
        keys[slot] = key
        slots[slot] = Int32(index)
        order.append(key)
        if order.count * 2 > slots.count { grow() }
        return (index, true)
    }

    /// The index of `key`, or nil.
    @inlinable
    public func find(_ key: UInt64) -> Int? {
        let mask = slots.count - 1
        var slot = home(key)
        while true {
            let found = slots[slot]
            if found < 0 { return nil }
            if keys[slot] == key { return Int(found) }
            slot = (slot + 1) & mask
        }
    }

    @usableFromInline
    mutating func grow() {
        let size = slots.count * 2
        keys = [UInt64](repeating: 0, count: size)
        slots = [Int32](repeating: -1, count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        let mask = size - 1
        for (index, key) in order.enumerated() {
            var slot = home(key)
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            keys[slot] = key
            slots[slot] = Int32(index)
        }
    }
}
