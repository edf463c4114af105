import FathomStore
import FathomSupport

/// SplitMix64: used to derive independent seeds and to seed ``Xoshiro256``.
///
/// Deterministic on every platform; never seeded from the system.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256**, the generator behind every random choice of the simulator.
///
/// A `RandomNumberGenerator`, so `Int.random(in:using:)` works, but the simulator prefers the
/// explicit helpers below, whose results do not depend on the standard library's algorithms.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
    }

    /// A generator whose seed is derived from `master` and a path of labels and numbers, so that
    /// every file, day and hour has its own stream whatever order they are generated in.
    public init(master: UInt64, _ labels: String..., numbers: [Int] = []) {
        self.init(seed: SeedDerivation.derive(master, labels: labels, numbers: numbers))
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in `0..<bound` (bound > 0), by Lemire's multiply-shift with rejection.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// Uniform in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// One element of a non-empty array.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// An exponentially distributed value with the given mean.
    public mutating func exponential(mean: Double) -> Double {
        -mean * (1 - unit()).logarithm
    }

    /// `count` lowercase hex digits.
    public mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(digits[below(16)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `count` characters from `alphabet`.
    public mutating func string(_ count: Int, alphabet: String) -> String {
        let letters = Array(alphabet.utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(count)
        for _ in 0..<count { bytes.append(letters[below(letters.count)]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Double {
    /// Natural logarithm, written out (no libm) so every platform draws the same numbers.
    package var logarithm: Double {
        // log(x) = 2 atanh((x-1)/(x+1)) after range reduction by powers of two.
        guard self > 0 else { return -Double.infinity }
        var exponent = 0
        var mantissa = self
        while mantissa > 2 { mantissa /= 2; exponent += 1 }
        while mantissa < 1 { mantissa *= 2; exponent -= 1 }
        let y = (mantissa - 1) / (mantissa + 1)
        let y2 = y * y
        var term = y
        var sum = 0.0
        var k = 1.0
        for _ in 0..<40 {
            sum += term / k
            term *= y2
            k += 2
        }
        return 2 * sum + Double(exponent) * 0.693_147_180_559_945_3
    }
}

/// Derives child seeds from the master seed and labels (FNV-1a over the labels, mixed with
/// SplitMix64), so that two runs with the same seed produce the same streams.
public enum SeedDerivation {
    public static func derive(_ master: UInt64, labels: [String], numbers: [Int]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for label in labels {
            for byte in label.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF
            hash = hash &* 0x0000_0100_0000_01B3
        }
        for number in numbers {
            hash ^= UInt64(bitPattern: Int64(number))
            hash = hash &* 0x0000_0100_0000_01B3
            var mixer = SplitMix64(seed: hash)
            hash = mixer.next()
        }
        var mixer = SplitMix64(seed: master ^ hash)
        _ = mixer.next()
        return mixer.next() ^ hash
    }
}

/// Samples ranks 0..<n with probability proportional to 1/(rank+1)^exponent (Zipf), by binary
/// search over a precomputed cumulative table.
public struct ZipfSampler: Sendable {
    private let cumulative: [Double]

    public init(count: Int, exponent: Double) {
        var table = [Double]()
        table.reserveCapacity(count)
        var total = 0.0
        for rank in 0..<Swift.max(1, count) {
            total += 1 / power(Double(rank + 1), exponent)
            table.append(total)
        }
        cumulative = table.map { $0 / total }
    }

    public func sample(_ rng: inout Xoshiro256) -> Int {
        let u = rng.unit()
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] <= u { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The share of rank `rank`.
    public func share(of rank: Int) -> Double {
        rank == 0 ? cumulative[0] : cumulative[rank] - cumulative[rank - 1]
    }
}

/// x^y for x > 0 without Foundation: exp(y · log x).
package func power(_ x: Double, _ y: Double) -> Double {
    exponential(y * x.logarithm)
}

/// e^x by range reduction and a Taylor series.
package func exponential(_ x: Double) -> Double {
    let ln2 = 0.693_147_180_559_945_3
    let k = (x / ln2).rounded(.down)
    let r = x - k * ln2
    var term = 1.0
    var sum = 1.0
    for n in 1..<30 {
        term *= r / Double(n)
        sum += term
    }
    var result = sum
    var exponent = Int(k)
    while exponent > 0 { result *= 2; exponent -= 1 }
    while exponent < 0 { result /= 2; exponent += 1 }
    return result
}
