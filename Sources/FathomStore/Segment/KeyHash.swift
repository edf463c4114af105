/// The hash of a value used as a key in an in-memory table (a segment builder's dictionaries, the
/// hunt's value numbering): never stored, only compared within one process.
///
/// Values of 1 to 32 bytes (client addresses, API keys, principals, codes — most of a dictionary's
/// lookups) are hashed from two or four overlapping loads and two or three 64×64→128-bit multiplies
/// (the "mum" mix of wyhash); longer values by ``XXH64``. XXH64's rounds, its tail loop and its avalanche were a fifth
/// of the dictionary coding of the gateway's rows, for keys whose every byte fits in two words.
///
/// Like XXH64 with a fixed seed, it is not keyed: values chosen to collide slow their table down
/// (each probe compares bytes), they are never confused.
public enum KeyHash {
    @inline(__always)
    public static func of(_ value: UnsafeRawBufferPointer) -> UInt64 {
        let n = value.count
        guard n > 0, n <= 32, let base = value.baseAddress else { return XXH64.hash(value, seed: 0) }
        if n > 16 {
            // Two halves of up to 16 bytes, overlapping when shorter than 32.
            let a = base.loadUnaligned(as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = base.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
            let d = base.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            let first = mix(a ^ 0xA076_1D64_78BD_642F, b ^ 0xE703_7ED1_A0B4_28DB) ^ a ^ (b << 32 | b >> 32)
            let second = mix(c ^ 0x8EBC_6AF0_9C88_C6E3, d ^ 0x5899_65CC_7537_4CC3) ^ c ^ (d << 32 | d >> 32)
            return mix(first ^ 0x1D8E_4E27_C47D_124F ^ UInt64(n), second ^ 0xE703_7ED1_A0B4_28DB) ^ first ^ second
        }
        let a: UInt64
        let b: UInt64
        if n >= 8 {
            a = base.loadUnaligned(as: UInt64.self)
            b = base.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            a = UInt64(base.loadUnaligned(as: UInt32.self))
            b = UInt64(base.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else {
            a = UInt64(base.load(as: UInt8.self)) << 16 | UInt64(base.load(fromByteOffset: n >> 1, as: UInt8.self)) << 8
                | UInt64(base.load(fromByteOffset: n - 1, as: UInt8.self))
            b = 0
        }
        // The words themselves are folded in too: a product with a zero factor (a word equal to
        // its constant) would otherwise give every value sharing that word one hash.
        let first = mix(a ^ 0xA076_1D64_78BD_642F, b ^ 0xE703_7ED1_A0B4_28DB) ^ a ^ (b << 32 | b >> 32)
        return mix(first ^ 0x8EBC_6AF0_9C88_C6E3 ^ UInt64(n), 0x5899_65CC_7537_4CC3)
    }

    /// The high and low words of the full product, exclusive-ored.
    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
