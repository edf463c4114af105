@testable import FathomStore
import Testing

/// ``KeyHash`` keys the segment builder's dictionaries and the hunt's value numbering: a hash that
/// ignored a byte would not make either wrong (entries are compared byte for byte), only slow, so
/// these tests check that every byte counts and that realistic keys do not collide.
@Suite struct KeyHashTests {
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { KeyHash.of($0) }
    }

    @Test func everyByteOfEveryLengthCounts() {
        var rng = SeededGenerator(seed: 42)
        for length in 1...48 {
            for _ in 0..<20 {
                let base = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var seen: Set<UInt64> = [Self.hash(base)]
                for position in 0..<length {
                    for bit in 0..<8 {
                        var changed = base
                        changed[position] ^= 1 << UInt8(bit)
                        seen.insert(Self.hash(changed))
                    }
                }
                #expect(seen.count == 1 + length * 8, "length \(length)")
            }
        }
        // A value and its extension by a zero byte differ (the length is mixed in).
        #expect(Self.hash([1, 2, 3]) != Self.hash([1, 2, 3, 0]))
        #expect(Self.hash(Array(repeating: 0, count: 12)) != Self.hash(Array(repeating: 0, count: 13)))
    }

    @Test func addressesAndKeysDoNotCollide() {
        var rng = SeededGenerator(seed: 7)
        var addresses: Set<String> = []
        while addresses.count < 100_000 {
            addresses.insert((0..<4).map { _ in String(Int.random(in: 0...255, using: &rng)) }.joined(separator: "."))
        }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var keys: Set<String> = []
        while keys.count < 100_000 {
            keys.insert("ak_live_" + String(decoding: (0..<24).map { _ in alphabet.randomElement(using: &rng)! }, as: UTF8.self))
        }
        for values in [addresses, keys] {
            let hashes = Set(values.map { Self.hash(Array($0.utf8)) })
            #expect(hashes.count == values.count)
            // The low bits pick a table slot: spread, not clustered.
            let slots = Set(hashes.map { $0 & 0xFFFF })
            #expect(slots.count > 48_000)  // 51,275 expected of a uniform hash
        }
    }
}
