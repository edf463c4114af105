import Testing
import FathomStore

/// ``KeyedByteTable``: a key reads the entry of its top `bits` bits, whatever the key, for every
/// table size the trained detector's files allow.
@Suite struct KeyedByteTableTests {
    @Test(arguments: [1, 8, 12, 18])
    func aKeyReadsTheEntryOfItsTopBits(bits: Int) {
        var generator = SplitMix(seed: 20_261_206 + UInt64(bits))
        let values = (0..<(1 << bits)).map { _ in Int8.random(in: .min ... .max, using: &generator) }
        let table = KeyedByteTable(values)
        #expect(table.bits == bits)
        // The extremes, each entry's first and last key, and random keys.
        var keys: [UInt64] = [0, .max, 1 << 63, (1 << 63) - 1]
        for entry in [0, values.count / 2, values.count - 1] {
            keys.append(UInt64(entry) << UInt64(64 - bits))
            keys.append(UInt64(entry) << UInt64(64 - bits) | (UInt64.max >> UInt64(bits)))
        }
        keys += (0..<2_000).map { _ in UInt64.random(in: 0 ... .max, using: &generator) }
        for key in keys {
            #expect(table.value(forKey: key) == Int(values[Int(key >> UInt64(64 - bits))]))
        }
    }
}

/// ``ByteIndexedTable``: every byte reads its own value.
@Suite struct ByteIndexedTableTests {
    @Test func everyByteReadsItsValue() {
        var generator = SplitMix(seed: 20_261_207)
        let values = (0..<256).map { _ in UInt64.random(in: 0 ... .max, using: &generator) }
        let table = ByteIndexedTable(values)
        for byte in 0...255 {
            #expect(table[UInt8(byte)] == values[byte])
        }
    }
}
