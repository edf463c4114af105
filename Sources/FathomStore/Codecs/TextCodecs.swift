import Foundation

/// Small byte utilities shared by the format decoders: percent-decoding, endpoint splitting,
/// ASCII case-insensitive comparison, trimming, and number parsing — all on ``ByteView``s,
/// allocating nothing on the common path.
public enum TextCodecs {
    // MARK: Character classes

    /// Whether `byte` is ASCII whitespace (space, tab, LF, CR, form feed, vertical tab).
    @inlinable
    public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    @inlinable
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inlinable
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    @inlinable
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    // MARK: Trimming and comparison

    /// `bytes` without leading and trailing ASCII whitespace.
    ///
    /// - Complexity: O(whitespace trimmed).
    @inlinable
    public static func trimmed(_ bytes: ByteView) -> ByteView {
        var lower = 0
        var upper = bytes.count
        while lower < upper, isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return bytes[lower..<upper]
    }

    /// Whether `bytes` equals `string` when ASCII letters are compared without case. Non-ASCII
    /// bytes must match exactly.
    ///
    /// - Complexity: O(n).
    public static func equalsIgnoringASCIICase(_ bytes: ByteView, _ string: String) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            guard utf8.count == bytes.count else { return false }
            for index in 0..<utf8.count where lowercased(utf8[index]) != lowercased(bytes[index]) {
                return false
            }
            return true
        }
    }

    /// Whether `bytes` contains `needle` with ASCII letters compared without case.
    ///
    /// - Complexity: O(n·m) worst case; `needle` is short in practice.
    public static func containsIgnoringASCIICase(_ bytes: ByteView, _ needle: String) -> Bool {
        var needle = needle
        return needle.withUTF8 { utf8 in
            let m = utf8.count
            guard m > 0 else { return true }
            guard m <= bytes.count else { return false }
            let first = lowercased(utf8[0])
            var start = 0
            while start + m <= bytes.count {
                if lowercased(bytes[start]) == first {
                    var index = 1
                    while index < m, lowercased(bytes[start + index]) == lowercased(utf8[index]) { index += 1 }
                    if index == m { return true }
                }
                start += 1
            }
            return false
        }
    }

    // MARK: Percent-decoding

    /// Whether ``percentDecode(_:plusAsSpace:into:)`` would change `bytes`.
    ///
    /// - Complexity: O(n) (memchr).
    @inlinable
    public static func needsPercentDecoding(_ bytes: ByteView, plusAsSpace: Bool = false) -> Bool {
        bytes.firstIndex(of: 0x25) != nil || (plusAsSpace && bytes.firstIndex(of: 0x2B) != nil)
    }

    /// URL-decodes `bytes`: `%XX` becomes the byte `XX`; with `plusAsSpace` (form encoding) `+`
    /// becomes a space. A `%` not followed by two hex digits is kept as it is, as browsers do.
    ///
    /// Returns `bytes` itself when there is nothing to decode (zero-copy); otherwise the decoded
    /// bytes are written into `scratch` (cleared first) and the returned view points there — valid
    /// until `scratch` is next changed. The result is not checked for UTF-8 validity.
    ///
    /// - Complexity: O(n).
    public static func percentDecode(_ bytes: ByteView, plusAsSpace: Bool = false,
                                     into scratch: ScratchBuffer) -> ByteView {
        guard needsPercentDecoding(bytes, plusAsSpace: plusAsSpace) else { return bytes }
        scratch.removeAll()
        let n = bytes.count
        scratch.withUnsafeAppendStorage(capacity: n) { out in
            var written = 0
            var index = 0
            while index < n {
                let byte = bytes[index]
                if byte == 0x25, index + 2 < n,
                   let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    out[written] = high << 4 | low
                    index += 3
                } else if byte == 0x2B, plusAsSpace {
                    out[written] = 0x20
                    index += 1
                } else {
                    out[written] = byte
                    index += 1
                }
                written += 1
            }
            return written
        }
        return scratch.view
    }

    /// URL-decodes `bytes` into a new string (invalid UTF-8 repaired to U+FFFD).
    ///
    /// - Complexity: O(n).
    public static func percentDecodedString(_ bytes: ByteView, plusAsSpace: Bool = false) -> String {
        guard needsPercentDecoding(bytes, plusAsSpace: plusAsSpace) else { return bytes.string }
        let scratch = ScratchBuffer(capacity: bytes.count)
        return percentDecode(bytes, plusAsSpace: plusAsSpace, into: scratch).string
    }

    // MARK: Endpoints

    /// The address part of an endpoint: `10.0.0.1:443` → `10.0.0.1`, `[2001:db8::1]:443` →
    /// `2001:db8::1`, `[::1]` → `::1`. A bare IPv6 address (two or more colons, no brackets) and a
    /// value without a port are returned unchanged (trimmed of whitespace).
    ///
    /// - Complexity: O(n).
    public static func address(ofEndpoint bytes: ByteView) -> ByteView {
        let value = trimmed(bytes)
        let n = value.count
        guard n > 0 else { return value }
        if value[0] == 0x5B {  // [
            guard let close = value.firstIndex(of: 0x5D, from: 1) else { return value }
            return value[1..<close]
        }
        guard let colon = value.firstIndex(of: 0x3A) else { return value }
        if value.firstIndex(of: 0x3A, from: colon + 1) != nil { return value }  // bare IPv6
        // host:port only when the part after the colon is all digits
        var index = colon + 1
        guard index < n else { return value[0..<colon] }
        while index < n, isDigit(value[index]) { index += 1 }
        return index == n ? value[0..<colon] : value
    }

    // MARK: Numbers

    /// Parses a decimal integer: an optional `+`/`-` then one or more ASCII digits, nothing else
    /// (no whitespace). Nil on anything else or on overflow.
    ///
    /// - Complexity: O(n).
    @inlinable
    public static func parseInt64(_ bytes: ByteView) -> Int64? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var index = 0
        var negative = false
        let first = bytes[0]
        if first == 0x2D || first == 0x2B {
            negative = first == 0x2D
            index = 1
            guard n > 1 else { return nil }
        }
        var magnitude: UInt64 = 0
        while index < n {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    @usableFromInline
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Parses a decimal floating-point number: optional sign, digits with an optional `.` and
    /// fraction (at least one digit in all), optional exponent (`e`/`E`, sign, digits). No
    /// whitespace, no `nan`/`inf`/hex. Nil when the syntax is wrong or the value is not finite
    /// (e.g. `1e400`).
    ///
    /// Most inputs (≤ 19 significant digits, |exponent| ≤ 22, mantissa ≤ 2^53) are converted
    /// exactly without allocation (Clinger's fast path); others fall back to the standard
    /// library's correctly rounded conversion on a temporary string.
    ///
    /// - Complexity: O(n).
    public static func parseDouble(_ bytes: ByteView) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == 0x2D || bytes[0] == 0x2B {
            negative = bytes[0] == 0x2D
            index = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0          // digits accumulated into mantissa
        var dropped = false     // significant digits beyond 19
        var exponent = 0
        var sawDigit = false
        while index < n, isDigit(bytes[index]) {
            sawDigit = true
            if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
                if mantissa > 0 { digits += 1 }
            } else {
                exponent += 1
                dropped = true
            }
            index += 1
        }
        if index < n, bytes[index] == 0x2E {
            index += 1
            while index < n, isDigit(bytes[index]) {
                sawDigit = true
                if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- 0x30)
                    if mantissa > 0 { digits += 1 }
                    exponent -= 1
                } else {
                    dropped = true
                }
                index += 1
            }
        }
        guard sawDigit else { return nil }
        if index < n, bytes[index] | 0x20 == 0x65 {
            index += 1
            var expNegative = false
            if index < n, bytes[index] == 0x2D || bytes[index] == 0x2B {
                expNegative = bytes[index] == 0x2D
                index += 1
            }
            guard index < n, isDigit(bytes[index]) else { return nil }
            var explicit = 0
            while index < n, isDigit(bytes[index]) {
                if explicit < 100_000 { explicit = explicit * 10 + Int(bytes[index] &- 0x30) }
                index += 1
            }
            exponent += expNegative ? -explicit : explicit
        }
        guard index == n else { return nil }
        if !dropped, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            if exponent < 0 {
                value /= exactPowersOfTen[-exponent]
            } else {
                value *= exactPowersOfTen[exponent]
            }
            return negative ? -value : value
        }
        if mantissa == 0, !dropped { return negative ? -0.0 : 0.0 }
        guard let value = Double(bytes.string), value.isFinite else { return nil }
        return value
    }
}

extension TextCodecs {
    /// `value` with `digits` digits after the point, as `String(format: "%.<digits>f", value)`
    /// writes it (C's `printf` conversion, rounding the double's exact value): through `vsnprintf`
    /// into a stack buffer, not Foundation's format parser, which cost a microsecond and a half a
    /// call (five calls a hit of the trained injection detector). Holds for finite values whose
    /// text fits in 63 bytes; anything else goes through Foundation.
    public static func fixed(_ value: Double, digits: Int) -> String {
        guard value.isFinite, (0...9).contains(digits), abs(value) < 1e40 else {
            return String(format: "%.\(digits)f", value)
        }
        return unsafe withVaList([Int32(digits), value]) { arguments in
            var buffer = InlineArray<64, CChar>(repeating: 0)
            var span = buffer.mutableSpan
            return unsafe span.withUnsafeMutableBufferPointer { pointer in
                let written = unsafe vsnprintf(pointer.baseAddress, 64, "%.*f", arguments)
                guard written > 0, written < 64 else { return String(format: "%.\(digits)f", value) }
                return unsafe String(decoding: UnsafeRawBufferPointer(start: pointer.baseAddress, count: Int(written)), as: UTF8.self)
            }
        }
    }
}
