import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Case-insensitive text matching over Unicode scalars.
///
/// Folding is simple case folding per scalar (one scalar in, one scalar out; no grapheme clusters,
/// no normalisation): a scalar folds to `lower(upper(c))` when both mappings are single scalars,
/// else to `lower(c)` when that is a single scalar, else to itself. This agrees with the `C` and `S`
/// entries of Unicode's CaseFolding.txt for the scripts in the logs we see (Latin, Greek, Cyrillic,
/// fullwidth forms; `ſ` → `s`, `K` (Kelvin) → `k`, `ς` → `σ`), except that dotless `ı` stays `ı`
/// and `İ` stays `İ` as CaseFolding.txt says.
public enum FoldedText {
    /// Folds one scalar value.
    @inline(__always)
    public static func fold(_ value: UInt32) -> UInt32 {
        if value < 0x80 {
            return value >= 0x41 && value <= 0x5A ? value | 0x20 : value
        }
        if value < 0x1_0000 { return planeFold(value) }
        return slowFold(value)
    }

    /// ``fold(_:)`` of a scalar of the Basic Multilingual Plane, from its block of ``planeBlocks``.
    static func planeFold(_ value: UInt32) -> UInt32 {
        // CJK, Yi and private use scalars have no case (checked scalar by scalar in the tests).
        if isUnchanged(value) { return value }
        return planeBlocks.block(Int(value >> 8))[Int(value & 0xFF)]
    }

    /// ``slowFold(_:)`` of the Basic Multilingual Plane, a block of 256 scalars worked out when one
    /// of them is first folded (the whole plane took about 4 ms of every run that folded a scalar
    /// beyond ASCII; a log's text uses a few blocks).
    package static let planeBlocks = PlaneBlocks<[UInt32]> { block in
        (UInt32(block) << 8..<UInt32(block + 1) << 8).map { isUnchanged($0) ? $0 : slowFold($0) }
    }

    /// Blocks of the Basic Multilingual Plane whose scalars have no case: CJK ideographs
    /// (extension A and unified), Yi syllables and the private use area — two thirds of the plane,
    /// left out of the property lookups of the tables built from it.
    @inline(__always)
    package static func isUnchanged(_ value: UInt32) -> Bool {
        (0x3400...0x4DBF).contains(value) || (0x4E00...0x9FFF).contains(value) || (0xA000...0xA48F).contains(value)
            || (0xE000...0xF8FF).contains(value)
    }

    package static func slowFold(_ value: UInt32) -> UInt32 {
        guard let scalar = Unicode.Scalar(value) else { return value }
        if value == 0x131 || value == 0x130 { return value }
        let properties = scalar.properties
        guard properties.changesWhenCaseFolded || properties.changesWhenLowercased else { return value }
        let upper = properties.uppercaseMapping.unicodeScalars
        if upper.count == 1, let first = upper.first {
            let lower = first.properties.lowercaseMapping.unicodeScalars
            if lower.count == 1, let folded = lower.first { return folded.value }
        }
        let lower = properties.lowercaseMapping.unicodeScalars
        if lower.count == 1, let folded = lower.first { return folded.value }
        return value
    }

    /// The folded scalars of a string.
    public static func folded(_ text: String) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(text.utf8.count)
        var plane = PlaneBlockReader(planeBlocks)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                result.append(value >= 0x41 && value <= 0x5A ? value | 0x20 : value)
            } else if value < 0x1_0000 {
                result.append(isUnchanged(value) ? value : plane[value])
            } else {
                result.append(slowFold(value))
            }
        }
        return result
    }

    /// The folded scalars of UTF-8 bytes (invalid sequences become U+FFFD). ASCII takes a fast path.
    ///
    /// - Complexity: O(bytes).
    public static func folded(_ bytes: ByteView) -> [UInt32] {
        var result: [UInt32] = []
        result.reserveCapacity(bytes.count)
        var isASCII = true
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if byte >= 0x80 { isASCII = false; break }
            result.append(fold(UInt32(byte)))
        }
        if isASCII { return result }
        return folded(bytes.string)
    }

    /// Whether `needle` (already folded) occurs in `haystack` (already folded).
    ///
    /// - Complexity: O(haystack × needle) worst case; the first scalar is checked before the rest.
    @inline(__always)
    public static func contains(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
        firstRange(of: needle, in: haystack, from: 0) != nil
    }

    /// The first occurrence of `needle` in `haystack` at or after `start`.
    public static func firstRange(of needle: [UInt32], in haystack: [UInt32], from start: Int) -> Range<Int>? {
        let count = needle.count
        guard count > 0 else { return start..<start }
        guard haystack.count >= count, start <= haystack.count - count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - count
        while index <= last {
            if haystack[index] == first {
                var offset = 1
                while offset < count, haystack[index + offset] == needle[offset] { offset += 1 }
                if offset == count { return index..<(index + count) }
            }
            index += 1
        }
        return nil
    }

    /// Whether two strings are equal after folding.
    public static func equal(_ lhs: String, _ rhs: String) -> Bool { folded(lhs) == folded(rhs) }

    /// Whether two values are equal after folding, the bytes compared without allocating when both are ASCII.
    public static func equal(_ bytes: ByteView, _ folded: [UInt32]) -> Bool {
        self.folded(bytes) == folded
    }
}

/// A text pattern: a regular expression, matched case-insensitively anywhere in the value.
///
/// A pattern that is only an alternation of literals (with `\.`-style escapes and one level of
/// `(a|b)` groups, like the playbook's artifact pattern) is expanded into literal substrings and
/// matched over folded scalars; anything else runs through `NSRegularExpression` with
/// case-insensitive matching.
public struct TextPattern: @unchecked Sendable {
    public let source: String
    /// The expanded, folded literals, when the pattern is a plain alternation.
    public let literals: [[UInt32]]?
    /// The literals as bytes, when every one is ASCII: an ASCII value is then matched from its bytes
    /// folded as they are read, without a folded copy of it.
    private let asciiLiterals: [[UInt8]]?
    private let regex: NSRegularExpression?

    public init?(regex source: String) {
        self.source = source
        if let expanded = TextPattern.expand(source) {
            let folded = expanded.map { FoldedText.folded($0) }
            literals = folded
            asciiLiterals = folded.allSatisfy { $0.allSatisfy { $0 < 0x80 } } ? folded.map { $0.map { UInt8($0) } } : nil
            regex = nil
        } else {
            guard let compiled = try? NSRegularExpression(pattern: source, options: [.caseInsensitive]) else { return nil }
            literals = nil
            asciiLiterals = nil
            regex = compiled
        }
    }

    /// Whether the pattern occurs in `bytes`.
    public func matches(_ bytes: ByteView) -> Bool {
        // An ASCII value against ASCII literals: folded byte by byte as it is compared. A value with
        // a byte beyond ASCII takes the scalar path (a scalar beyond ASCII can fold into ASCII:
        // the Kelvin sign is a `k`).
        if let asciiLiterals, bytes.isASCII {
            return asciiLiterals.contains { Self.containsFolded(bytes, $0) }
        }
        if let literals {
            let folded = FoldedText.folded(bytes)
            return literals.contains { FoldedText.contains(folded, $0) }
        }
        return matches(bytes.string)
    }

    /// Whether `needle` (folded ASCII) occurs in the ASCII `haystack`, folded as it is read.
    private static func containsFolded(_ haystack: ByteView, _ needle: [UInt8]) -> Bool {
        let count = needle.count
        guard count > 0 else { return true }
        guard haystack.count >= count else { return false }
        @inline(__always) func fold(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
        let first = needle[0]
        var index = 0
        let last = haystack.count - count
        while index <= last {
            if fold(haystack[index]) == first {
                var offset = 1
                while offset < count, fold(haystack[index + offset]) == needle[offset] { offset += 1 }
                if offset == count { return true }
            }
            index += 1
        }
        return false
    }

    public func matches(_ text: String) -> Bool {
        if let literals {
            let folded = FoldedText.folded(text)
            return literals.contains { FoldedText.contains(folded, $0) }
        }
        guard let regex else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// The literal strings an alternation of literals stands for, or nil when the pattern uses any
    /// other regular-expression construct.
    package static func expand(_ pattern: String) -> [String]? {
        var alternatives: [[String]] = [[""]]
        var scalars = Array(pattern.unicodeScalars)[...]
        var groupDepth = 0
        var group: [String] = []
        var current = ""
        func append(_ text: String) {
            if groupDepth > 0 { current += text } else {
                alternatives[alternatives.count - 1] = alternatives[alternatives.count - 1].map { $0 + text }
            }
        }
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "\\":
                guard let next = scalars.popFirst() else { return nil }
                if next.properties.isAlphabetic || ("0"..."9").contains(next) { return nil }
                append(String(next))
            case "(":
                if groupDepth > 0 { return nil }
                if scalars.first == "?" {
                    scalars.removeFirst()
                    guard scalars.popFirst() == ":" else { return nil }
                }
                groupDepth = 1
                group = []
                current = ""
            case ")":
                guard groupDepth == 1 else { return nil }
                group.append(current)
                groupDepth = 0
                let prefixes = alternatives[alternatives.count - 1]
                alternatives[alternatives.count - 1] = prefixes.flatMap { prefix in group.map { prefix + $0 } }
            case "|":
                if groupDepth > 0 {
                    group.append(current)
                    current = ""
                } else {
                    alternatives.append([""])
                }
            case ".", "*", "+", "?", "[", "]", "{", "}", "^", "$":
                return nil
            default:
                append(String(scalar))
            }
        }
        guard groupDepth == 0 else { return nil }
        let result = alternatives.flatMap { $0 }
        return result.contains("") ? nil : result
    }
}
