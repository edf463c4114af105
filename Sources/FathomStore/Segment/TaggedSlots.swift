import Foundation

/// The open-addressing table behind a dictionary column's builder (`DictionaryBuffer`) and
/// ``ValueNumbering``: each slot holds a nonzero 32-bit payload (an entry's code or number + 1) in
/// its low bits and the high 32 bits of the entry's hash above them, so a probe compares hashes
/// without touching the entries (in a column of tens of thousands of client addresses each extra
/// memory access is a cache miss); 0 marks an empty slot. Linear probing; the owner grows it
/// (``grown(_:)``) before it is half full.
struct TaggedSlots {
    private(set) var slots: [UInt64]

    init(capacity: Int) {
        slots = [UInt64](repeating: 0, count: capacity)
    }

    var capacity: Int { slots.count }

    /// The payload of the first slot on `hash`'s probe path whose hash matches and for which
    /// `matches` says the entry equals the key, else nil and the empty slot where it goes.
    @inline(__always)
    func find(_ hash: UInt64, _ matches: (UInt32) -> Bool) -> (payload: UInt32?, index: Int) {
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return (nil, index) }
            if slot & 0xFFFF_FFFF_0000_0000 == tag {
                let payload = UInt32(truncatingIfNeeded: slot)
                if matches(payload) { return (payload, index) }
            }
            index = (index + 1) & mask
        }
    }

    /// The slot where `hash`'s probe path starts, read (to bring it into the cache ahead of
    /// ``find(_:_:)``).
    @inline(__always)
    func first(_ hash: UInt64) -> UInt64 {
        slots[Int(truncatingIfNeeded: hash) & (slots.count - 1)]
    }

    /// The payload of the first slot on `hash`'s probe path with `hash`'s tag, 0 when the path
    /// reaches an empty slot first: the entry ``find(_:_:)`` will most likely compare with.
    @inline(__always)
    func firstMatching(_ hash: UInt64) -> UInt32 {
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return 0 }
            if slot & 0xFFFF_FFFF_0000_0000 == tag { return UInt32(truncatingIfNeeded: slot) }
            index = (index + 1) & mask
        }
    }

    /// Fills the empty slot `index` (from ``find(_:_:)``) with `payload` (nonzero) for `hash`.
    @inline(__always)
    mutating func set(_ index: Int, hash: UInt64, payload: UInt32) {
        slots[index] = hash & 0xFFFF_FFFF_0000_0000 | UInt64(payload)
    }

    /// Empties every slot, keeping the capacity.
    mutating func clear() {
        for index in slots.indices { slots[index] = 0 }
    }

    /// A table of twice the capacity holding `entries` (hash, payload).
    func grown(_ entries: some Sequence<(UInt64, UInt32)>) -> TaggedSlots {
        var bigger = TaggedSlots(capacity: slots.count * 2)
        for (hash, payload) in entries {
            let index = bigger.find(hash) { _ in false }.index
            bigger.set(index, hash: hash, payload: payload)
        }
        return bigger
    }
}

/// Whether `stored[start ..< end]` holds the bytes of `value` (an entry of a dictionary laid out as
/// one byte array and offsets, compared with the key being looked up).
@inline(__always)
func storedBytes(_ stored: [UInt8], _ start: Int, _ end: Int, equal value: UnsafeRawBufferPointer) -> Bool {
    let count = value.count
    guard end - start == count else { return false }
    guard count > 0 else { return true }
    return stored.withUnsafeBytes { bytes in
        sameBytes(bytes.baseAddress.unsafelyUnwrapped + start, value.baseAddress.unsafelyUnwrapped, count)
    }
}

/// Whether the `count` bytes at `a` and `b` are equal. A dictionary column's values are short
/// (addresses, API keys, names): up to 64 bytes they are compared a word at a time inline (the
/// last word overlapping the one before), without a `memcmp` call per lookup.
@inline(__always)
func sameBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    if count >= 8, count <= 64 {
        var offset = 0
        while offset + 8 < count {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    if count >= 4, count < 8 {
        return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
            && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    if count < 4 {
        for offset in 0..<count where a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) {
            return false
        }
        return true
    }
    return memcmp(a, b, count) == 0
}
