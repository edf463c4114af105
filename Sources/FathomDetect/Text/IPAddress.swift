import FathomStore
import FathomSupport
import FathomCatalog

/// An IPv4 or IPv6 address, parsed strictly from text.
///
/// Accepts dotted-quad IPv4 (`192.0.2.1`, no leading zeros beyond a single `0`, each part ≤ 255),
/// IPv6 in RFC 4291 text form with `::` compression and an embedded IPv4 tail
/// (`::ffff:192.0.2.1`, `64:ff9b::198.51.100.7`), brackets (`[2001:db8::1]`) and a zone id
/// (`fe80::1%eth0`, stripped). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is treated as the
/// IPv4 address it carries, so `::ffff:10.1.2.3` is inside 10.0.0.0/8.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The 128-bit value; an IPv4 address is held in the low 32 bits of `low`.
    public let high: UInt64
    public let low: UInt64
    public let isIPv4: Bool

    public init(v4 value: UInt32) {
        high = 0
        low = UInt64(value)
        isIPv4 = true
    }

    public init(v6High high: UInt64, low: UInt64) {
        if high == 0, low >> 32 == 0xFFFF {
            self.high = 0
            self.low = low & 0xFFFF_FFFF
            isIPv4 = true
        } else {
            self.high = high
            self.low = low
            isIPv4 = false
        }
    }

    public init?(_ text: String) {
        var scalars = Array(text.utf8)
        while let last = scalars.last, last == 0x20 || last == 0x09 { scalars.removeLast() }
        while let first = scalars.first, first == 0x20 || first == 0x09 { scalars.removeFirst() }
        if scalars.first == UInt8(ascii: "["), scalars.last == UInt8(ascii: "]") {
            scalars = Array(scalars.dropFirst().dropLast())
        }
        if let percent = scalars.firstIndex(of: UInt8(ascii: "%")) { scalars = Array(scalars[..<percent]) }
        if scalars.contains(UInt8(ascii: ":")) {
            guard let (high, low) = IPAddress.parseV6(scalars[...]) else { return nil }
            self.init(v6High: high, low: low)
        } else {
            guard let value = IPAddress.parseV4(scalars[...]) else { return nil }
            self.init(v4: value)
        }
    }

    package static func parseV4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var parts: [UInt32] = []
        var value: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return nil }
                parts.append(value)
                value = 0
                digits = 0
                leadingZero = false
                continue
            }
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            if digits == 1, leadingZero { return nil }
            if digits == 0, byte == 0x30 { leadingZero = true }
            value = value * 10 + UInt32(byte - 0x30)
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0 else { return nil }
        parts.append(value)
        guard parts.count == 4 else { return nil }
        return parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    /// The value of `bytes` when they are exactly a dotted-quad IPv4 address as ``parseV4(_:)``
    /// accepts it (digits and dots only), without allocating; nil for anything else, which
    /// ``init(_:)`` may still read (spaces, brackets, IPv6) or refuse.
    ///
    /// When it returns a value, `IPAddress(bytes.string)` is that IPv4 address: text of digits and
    /// dots alone is neither trimmed nor split, so it reaches ``parseV4(_:)`` as it is.
    package static func dottedQuad(_ bytes: ByteView) -> UInt32? {
        let count = bytes.count
        guard count >= 7, count <= 15 else { return nil }
        var result: UInt32 = 0
        var value: UInt32 = 0
        var digits = 0
        var parts = 0
        var leadingZero = false
        for index in 0..<count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                result = result << 8 | value
                parts += 1
                value = 0
                digits = 0
                leadingZero = false
                continue
            }
            guard byte >= 0x30, byte <= 0x39, !(digits == 1 && leadingZero) else { return nil }
            if digits == 0, byte == 0x30 { leadingZero = true }
            value = value * 10 + UInt32(byte - 0x30)
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return result << 8 | value
    }

    package static func parseV6(_ bytes: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var rest = bytes
        if rest.starts(with: [0x3A, 0x3A]) {
            sawGap = true
            rest = rest.dropFirst(2)
        } else if rest.first == 0x3A {
            return nil
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: 0x3A) ?? rest.endIndex
            let piece = rest[rest.startIndex..<end]
            if piece.contains(0x2E) {
                guard end == rest.endIndex, let v4 = parseV4(piece) else { return nil }
                let words = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawGap { tail += words } else { head += words }
                rest = rest[end...]
                break
            }
            guard !piece.isEmpty, piece.count <= 4 else { return nil }
            var word: UInt16 = 0
            for byte in piece {
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: return nil
                }
                word = word << 4 | UInt16(digit)
            }
            if sawGap { tail.append(word) } else { head.append(word) }
            rest = rest[end...]
            if rest.starts(with: [0x3A, 0x3A]) {
                guard !sawGap else { return nil }
                sawGap = true
                rest = rest.dropFirst(2)
            } else if rest.first == 0x3A {
                rest = rest.dropFirst()
                guard !rest.isEmpty else { return nil }
            }
        }
        let total = head.count + tail.count
        if sawGap { guard total <= 7 else { return nil } } else { guard total == 8 else { return nil } }
        let words = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(words[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(words[index]) }
        return (high, low)
    }

    /// The address's network prefix of `bits` (of 32 for IPv4, 128 for IPv6) as text, e.g.
    /// `198.51.100.0/24` or `2001:db8:4f2a::/64`.
    public func network(bits: Int) -> String {
        networkAddress(bits: bits).description + "/\(isIPv4 ? min(32, bits) : bits)"
    }

    /// The first address of the address's network prefix of `bits`: the address with the other
    /// bits cleared (an IPv6 prefix stays IPv6 even when it reads like an IPv4-mapped address).
    package func networkAddress(bits: Int) -> IPAddress {
        if isIPv4 {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - min(32, bits))
            return IPAddress(v4: UInt32(low) & mask)
        }
        let (high, low) = CIDR.masked(high: high, low: low, bits: bits)
        return IPAddress(maskedV6High: high, low: low)
    }

    /// An IPv6 address as given, even one that reads like an IPv4-mapped address (a network prefix).
    package init(maskedV6High high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        isIPv4 = false
    }

    /// RFC 5952 text: IPv4 dotted quad; IPv6 lowercase, longest zero run (≥ 2 words) compressed.
    public var description: String {
        if isIPv4 {
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)"
        }
        var words: [UInt16] = []
        for shift in stride(from: 48, through: 0, by: -16) { words.append(UInt16(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 48, through: 0, by: -16) { words.append(UInt16(truncatingIfNeeded: low >> UInt64(shift))) }
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            if words[index] == 0 {
                var end = index
                while end < 8, words[end] == 0 { end += 1 }
                if end - index > bestLength, end - index >= 2 { bestStart = index; bestLength = end - index }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String { words[range].map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

/// A CIDR block (`10.0.0.0/8`, `fc00::/7`); a bare address is a /32 or /128.
public struct CIDR: Sendable, Hashable {
    public let network: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let limit = address.isIPv4 ? 32 : 128
        var bits = limit
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parsed >= 0, parsed <= limit else { return nil }
            bits = parsed
        }
        self.bits = bits
        if address.isIPv4 {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            network = IPAddress(v4: UInt32(truncatingIfNeeded: address.low) & mask)
        } else {
            let (high, low) = CIDR.masked(high: address.high, low: address.low, bits: bits)
            network = IPAddress(v6High: high, low: low)
        }
    }

    package static func masked(high: UInt64, low: UInt64, bits: Int) -> (UInt64, UInt64) {
        let highMask: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~UInt64(0) << UInt64(64 - bits))
        let lowMask: UInt64 = bits <= 64 ? 0 : (bits >= 128 ? ~0 : ~UInt64(0) << UInt64(128 - bits))
        return (high & highMask, low & lowMask)
    }

    /// Whether `address` is inside the block (an IPv4 address never matches an IPv6 block, except
    /// that IPv4-mapped addresses were already turned into IPv4 when parsed).
    public func contains(_ address: IPAddress) -> Bool {
        guard address.isIPv4 == network.isIPv4 else { return false }
        if address.isIPv4 {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            return UInt32(truncatingIfNeeded: address.low) & mask == UInt32(truncatingIfNeeded: network.low)
        }
        let (high, low) = CIDR.masked(high: address.high, low: address.low, bits: bits)
        return high == network.high && low == network.low
    }
}

/// A set of CIDR blocks: "is this caller internal?".
public struct NetworkSet: Sendable {
    public let blocks: [CIDR]

    /// The blocks of `texts`; entries that are not CIDR blocks are skipped (settings are validated
    /// when loaded).
    public init(_ texts: [String]) { blocks = texts.compactMap(CIDR.init) }

    /// Whether `text` parses as an address inside one of the blocks. Empty or unparseable text is
    /// not internal.
    public func contains(_ text: String) -> Bool {
        guard let address = IPAddress(text) else { return false }
        return contains(address)
    }

    /// Whether `address` is inside one of the blocks.
    public func contains(_ address: IPAddress) -> Bool {
        blocks.contains { $0.contains(address) }
    }
}
