import Testing
import FathomStore

@Suite("XXH64 and Hash128")
struct Hash128Tests {
    static func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

    /// Published XXH64 vectors (xxHash reference / python-xxhash / .NET runtime tests).
    @Test(arguments: [
        ("", UInt64(0), UInt64(0xEF46_DB37_51D8_E999)),
        ("a", 0, 0xD24E_C4F1_A98C_6E5B),
        ("abc", 0, 0x44BC_2CF5_AD77_0999),
        ("Nobody inspects the spammish repetition", 0, 0xFBCE_A83C_8A37_8BF1),
        ("The quick brown fox jumps over the lazy dog", 0, 0x0B24_2D36_1FDA_71BC),
        ("abc", 12345, 0x0170_0E64_F6F2_3509),
        (String(repeating: "a", count: 32), 0, 0x856E_8432_98F9_9AD7),
    ])
    func xxh64Vectors(input: String, seed: UInt64, expected: UInt64) {
        #expect(XXH64.hash(Self.bytes(input), seed: seed) == expected)
        var streamed = XXH64(seed: seed)
        for byte in Self.bytes(input) { streamed.update([byte]) }
        #expect(streamed.finalize() == expected)
    }

    @Test func xxh64HundredBytePattern() {
        let pattern = (0..<100).map { UInt8($0) }
        #expect(XXH64.hash(pattern) == 0x6AC1_E580_3216_6597)
    }

    @Test func xxh64StreamingMatchesOneShotAtEverySplit() {
        var generator = SplitMix(seed: 7)
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let whole = XXH64.hash(data)
        for _ in 0..<200 {
            var hasher = XXH64()
            var start = 0
            while start < data.count {
                let end = Swift.min(data.count, start + Int.random(in: 0...70, using: &generator))
                hasher.update(Array(data[start..<end]))
                start = end
            }
            #expect(hasher.finalize() == whole)
        }
    }

    /// Published MurmurHash3_x64_128 vectors (seed 0): h1 is `low`, h2 is `high`.
    @Test(arguments: [
        ("hello", UInt64(0xCBD8_A7B3_41BD_9B02), UInt64(0x5B1E_906A_48AE_1D19)),
        ("The quick brown fox jumps over the lazy dog", 0xE34B_BC7B_BC07_1B6C, 0x7A43_3CA9_C49A_9347),
        ("The quick brown fox jumps over the lazy cog", 0x658C_A970_FF85_269A, 0x43FE_E3EA_A68E_5C3E),
    ])
    func murmurVectors(input: String, low: UInt64, high: UInt64) {
        let hash = Hash128.of(input)
        #expect(hash == Hash128(low: low, high: high))
        #expect(Hash128.of(Self.bytes(input)) == hash)
    }

    @Test(arguments: [
        ("hello, world", UInt64(0x342F_AC62_3A5E_BC8E)),
        ("0123456789abcdef", 0x4BE0_6D94_CF4A_D1A7),
    ])
    func murmurFirstWordVectors(input: String, low: UInt64) {
        #expect(Hash128.of(input).low == low)
    }

    @Test func emptyInputIsRemappedAwayFromNull() {
        let empty = Hash128.of("")
        #expect(!empty.isNull)
        #expect(empty == Hash128.remappedZero)
        #expect(Hash128.null.isNull)
        #expect(Hash128.of(ByteView.empty) == empty)
    }

    @Test func byteViewAndStringAgree() {
        let text = "héllo wörld 🌍 — a longer string past sixteen bytes"
        let bytes = Self.bytes(text)
        let viaView = bytes.withUnsafeBytes { Hash128.of(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
        #expect(viaView == Hash128.of(text))
    }

    @Test func noCollisionsAndBalancedBitsOverManyKeys() {
        var seen = Set<Hash128>()
        var ones = 0
        let keys = 30_000
        for key in 0..<keys {
            let hash = Hash128.of("key-\(key)")
            seen.insert(hash)
            ones += hash.low.nonzeroBitCount + hash.high.nonzeroBitCount
        }
        #expect(seen.count == keys)
        let mean = Double(ones) / Double(keys)
        #expect(abs(mean - 64) < 0.6)
    }

    @Test func ordering() {
        #expect(Hash128(low: 5, high: 1) < Hash128(low: 0, high: 2))
        #expect(Hash128(low: 1, high: 2) < Hash128(low: 2, high: 2))
        #expect(!(Hash128(low: 2, high: 2) < Hash128(low: 2, high: 2)))
        #expect(Hash128.of("The quick brown fox jumps over the lazy dog").description == "6c1b07bc7bbc4be347939ac4a93c437a")
    }
}

/// The seeded SplitMix64 generator of TestSupport.swift, by the name the segment tests use.
typealias SplitMix = SeededGenerator
