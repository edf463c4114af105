import FathomStore

/// Lends `bytes` as a ``ByteView`` for the duration of `body`.
func withView<R>(_ bytes: [UInt8], _ body: (ByteView) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { try body(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
}

/// Lends the UTF-8 of `text` as a ``ByteView`` for the duration of `body`.
func withView<R>(_ text: String, _ body: (ByteView) throws -> R) rethrows -> R {
    try withView(Array(text.utf8), body)
}

/// A small, seeded, deterministic generator (SplitMix64) for property tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
