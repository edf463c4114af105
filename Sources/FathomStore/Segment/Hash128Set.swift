/// A set of non-null ``Hash128`` values: open addressing with linear probing, keyed by the hash's
/// own bits.
///
/// `Set<Hash128>` runs every insert through SipHash; the values here are already MurmurHash3
/// outputs, so their low word is a well-spread slot index as it is. The all-zero value is the
/// null hash and marks an empty slot; inserting it is a no-op (null inputs are never counted as
/// distinct values).
public struct Hash128Set: Sendable {
    private var slots: [Hash128]
    private var mask: Int
    public private(set) var count = 0

    /// An empty set with room for `capacity` values before it grows.
    public init(minimumCapacity capacity: Int = 0) {
        var size = 16
        while size * 3 < capacity * 4 { size <<= 1 }
        slots = Array(repeating: .null, count: size)
        mask = size - 1
    }

    public var isEmpty: Bool { count == 0 }

    /// Inserts `value`; returns whether it was new. The null hash is never inserted.
    ///
    /// - Complexity: amortised O(1).
    @discardableResult
    public mutating func insert(_ value: Hash128) -> Bool {
        if value.isNull { return false }
        if (count + 1) * 4 > slots.count * 3 { grow() }
        var index = Int(truncatingIfNeeded: value.low) & mask
        while true {
            let slot = slots[index]
            if slot.isNull {
                slots[index] = value
                count += 1
                return true
            }
            if slot == value { return false }
            index = (index + 1) & mask
        }
    }

    /// Whether `value` is in the set.
    public func contains(_ value: Hash128) -> Bool {
        if value.isNull { return false }
        var index = Int(truncatingIfNeeded: value.low) & mask
        while true {
            let slot = slots[index]
            if slot.isNull { return false }
            if slot == value { return true }
            index = (index + 1) & mask
        }
    }

    /// Inserts every value of `other`.
    public mutating func formUnion(_ other: Hash128Set) {
        for value in other.slots where !value.isNull { insert(value) }
    }

    /// Inserts every value of `values`.
    public mutating func formUnion<S: Sequence>(_ values: S) where S.Element == Hash128 {
        for value in values { insert(value) }
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: .null, count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for value in old where !value.isNull { insert(value) }
    }
}
