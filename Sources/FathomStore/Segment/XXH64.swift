/// The XXH64 checksum (xxHash, 64-bit variant, by Yann Collet), in one shot or streamed.
///
/// Segments use XXH64 with seed 0 for their header and column checksums: it runs at memory speed
/// and catches the torn writes and flipped bits this layer cares about. It is not a cryptographic
/// digest; evidence integrity is established elsewhere with SHA-256.
///
/// ```swift
/// var hasher = XXH64()
/// hasher.update(firstPart)
/// hasher.update(secondPart)
/// let checksum = hasher.finalize()      // == XXH64.hash(firstPart + secondPart)
/// ```
///
/// - Complexity: O(n) in the bytes hashed, about one load and a few multiplies per 8 bytes.
public struct XXH64: Sendable {
    @usableFromInline static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    @usableFromInline static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    @usableFromInline static let prime3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let prime4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @usableFromInline static let prime5: UInt64 = 0x27D4_EB2F_1656_67C5

    private let seed: UInt64
    private var v1: UInt64
    private var v2: UInt64
    private var v3: UInt64
    private var v4: UInt64
    private var totalLength: UInt64 = 0
    /// Bytes not yet consumed by a 32-byte stripe.
    private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var pendingCount = 0

    /// A hasher with nothing hashed yet.
    public init(seed: UInt64 = 0) {
        self.seed = seed
        v1 = seed &+ Self.prime1 &+ Self.prime2
        v2 = seed &+ Self.prime2
        v3 = seed
        v4 = seed &- Self.prime1
    }

    /// The XXH64 of `bytes`.
    ///
    /// - Complexity: O(`bytes.count`).
    public static func hash(_ bytes: ByteView, seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// The XXH64 of a byte array.
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: ByteView) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Adds the bytes of an array to the hashed input.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    @inline(__always)
    static func round(_ accumulator: UInt64, _ input: UInt64) -> UInt64 {
        var acc = accumulator &+ input &* prime2
        acc = (acc << 31) | (acc >> 33)
        return acc &* prime1
    }

    @inline(__always)
    static func merge(_ hash: UInt64, _ value: UInt64) -> UInt64 {
        let h = hash ^ round(0, value)
        return h &* prime1 &+ prime4
    }

    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let start = buffer.baseAddress, buffer.count > 0 else { return }
        var pointer = start
        var remaining = buffer.count
        totalLength &+= UInt64(remaining)

        if pendingCount > 0 {
            let take = Swift.min(32 - pendingCount, remaining)
            let used = pendingCount
            withUnsafeMutableBytes(of: &pending) { tail in
                (tail.baseAddress.unsafelyUnwrapped + used).copyMemory(from: pointer, byteCount: take)
            }
            pendingCount += take
            pointer += take
            remaining -= take
            if pendingCount < 32 { return }
            let (a, b, c, d) = pending
            v1 = Self.round(v1, UInt64(littleEndian: a))
            v2 = Self.round(v2, UInt64(littleEndian: b))
            v3 = Self.round(v3, UInt64(littleEndian: c))
            v4 = Self.round(v4, UInt64(littleEndian: d))
            pendingCount = 0
        }

        if remaining >= 32 {
            var a = v1, b = v2, c = v3, d = v4
            repeat {
                a = Self.round(a, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
                b = Self.round(b, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
                c = Self.round(c, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
                d = Self.round(d, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
                pointer += 32
                remaining -= 32
            } while remaining >= 32
            v1 = a; v2 = b; v3 = c; v4 = d
        }

        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { tail in
                tail.baseAddress.unsafelyUnwrapped.copyMemory(from: pointer, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    /// The checksum of everything added so far. The hasher can keep taking input afterwards.
    public func finalize() -> UInt64 {
        var tail = pending
        let count = pendingCount
        return withUnsafeBytes(of: &tail) { raw in
            Self.finish(
                state: totalLength >= 32 ? (v1, v2, v3, v4) : nil, seed: seed, totalLength: totalLength,
                tail: raw.baseAddress.unsafelyUnwrapped, tailCount: count)
        }
    }

    /// One-shot hash without the streaming state: stripes straight from `buffer`, then the tail.
    @usableFromInline
    static func hash(_ buffer: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        guard let start = buffer.baseAddress, buffer.count > 0 else {
            return avalanche(seed &+ prime5)
        }
        var pointer = start
        var remaining = buffer.count
        var state: (UInt64, UInt64, UInt64, UInt64)?
        if remaining >= 32 {
            var a = seed &+ prime1 &+ prime2, b = seed &+ prime2, c = seed, d = seed &- prime1
            repeat {
                a = round(a, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self)))
                b = round(b, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
                c = round(c, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
                d = round(d, UInt64(littleEndian: pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
                pointer += 32
                remaining -= 32
            } while remaining >= 32
            state = (a, b, c, d)
        }
        return finish(state: state, seed: seed, totalLength: UInt64(buffer.count), tail: pointer, tailCount: remaining)
    }

    @inline(__always)
    static func finish(
        state: (UInt64, UInt64, UInt64, UInt64)?, seed: UInt64, totalLength: UInt64,
        tail: UnsafeRawPointer, tailCount count: Int
    ) -> UInt64 {
        var h: UInt64
        if let (v1, v2, v3, v4) = state {
            h = ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57))
                &+ ((v3 << 12) | (v3 >> 52)) &+ ((v4 << 18) | (v4 >> 46))
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ prime5
        }
        h &+= totalLength
        var index = 0
        while index + 8 <= count {
            let k = round(0, UInt64(littleEndian: tail.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            h ^= k
            h = ((h << 27) | (h >> 37)) &* prime1 &+ prime4
            index += 8
        }
        if index + 4 <= count {
            let k = UInt64(UInt32(littleEndian: tail.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
            h ^= k &* prime1
            h = ((h << 23) | (h >> 41)) &* prime2 &+ prime3
            index += 4
        }
        while index < count {
            h ^= UInt64(tail.load(fromByteOffset: index, as: UInt8.self)) &* prime5
            h = ((h << 11) | (h >> 53)) &* prime1
            index += 1
        }
        return avalanche(h)
    }

    @inline(__always)
    static func avalanche(_ hash: UInt64) -> UInt64 {
        var h = hash
        h ^= h >> 33
        h &*= prime2
        h ^= h >> 29
        h &*= prime3
        h ^= h >> 32
        return h
    }
}
