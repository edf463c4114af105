import FathomStore

/// Which of up to 64 ASCII phrases occur in UTF-8 text, case-insensitively, read straight from the
/// bytes: the phrases ``FoldedText/contains(_:_:)`` finds in the folded scalars, without folding the
/// text into an array first.
///
/// It is exact because only ASCII scalars and two others fold to ASCII: `ſ` (U+017F) to `s` and the
/// Kelvin sign (U+212A) to `k` (`ASCIIPhraseMatcherTests` checks every scalar). Any other
/// non-ASCII byte, and any invalid sequence (repaired to U+FFFD), matches no phrase character, and
/// an ASCII byte is always a scalar of its own; text that holds `ſ` or `K` is left to the folded
/// scalars (``matches(_:)`` returns nil).
///
/// ```swift
/// let matcher = ASCIIPhraseMatcher(["system prompt", "bypass"])!
/// matcher.matches(prompt)   // 0b10 when only "bypass" occurs; nil: fold the text instead
/// ```
package struct ASCIIPhraseMatcher: Sendable {
    /// Each phrase, folded (ASCII lowercase).
    private let phrases: [[UInt8]]
    /// By byte: the phrases whose first character the byte folds to.
    private let firstByte: ByteIndexedTable<UInt64>
    /// By byte: the phrases whose second character the byte folds to (one-character phrases: all).
    private let secondByte: ByteIndexedTable<UInt64>
    /// Every phrase's bit.
    private let all: UInt64

    /// Nil when a phrase is empty or not ASCII, or when there are more than 64.
    package init?(_ phrases: [String]) {
        guard phrases.count <= 64,
              phrases.allSatisfy({ !$0.utf8.isEmpty && $0.utf8.allSatisfy { $0 < 0x80 } }) else { return nil }
        self.phrases = phrases.map { $0.utf8.map(Self.lower) }
        var first = [UInt64](repeating: 0, count: 256)
        var second = [UInt64](repeating: 0, count: 256)
        for (index, phrase) in self.phrases.enumerated() {
            for byte in 0..<256 {
                if Self.lower(UInt8(byte)) == phrase[0] { first[byte] |= 1 << UInt64(index) }
                if phrase.count == 1 || Self.lower(UInt8(byte)) == phrase[1] { second[byte] |= 1 << UInt64(index) }
            }
        }
        firstByte = ByteIndexedTable(first)
        secondByte = ByteIndexedTable(second)
        all = phrases.count == 64 ? UInt64.max : (1 << UInt64(phrases.count)) - 1
    }

    @inline(__always)
    private static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Bit `i` set when phrase `i` occurs in `text`; nil when `text` holds `ſ` or `K`.
    ///
    /// - Complexity: O(bytes): two table lookups a byte, and a comparison where a phrase's first
    ///   two characters are.
    package func matches(_ text: ByteView) -> UInt64? {
        let count = text.count
        var found: UInt64 = 0
        var live = all
        var index = 0
        while index < count {
            let byte = text[index]
            if byte >= 0x80 {
                if byte == 0xC5, text[index + 1] == 0xBF { return nil }
                if byte == 0xE2, text[index + 1] == 0x84, text[index + 2] == 0xAA { return nil }
                index += 1
                continue
            }
            // The byte after the text reads as 0: a phrase of two or more characters cannot fit there,
            // and `occurs` checks the length.
            var candidates = firstByte[byte] & secondByte[text[index + 1]] & live
            while candidates != 0 {
                let phrase = candidates.trailingZeroBitCount
                candidates &= candidates - 1
                if occurs(phrases[phrase], at: index, in: text) {
                    found |= 1 << UInt64(phrase)
                    live &= ~(1 << UInt64(phrase))
                }
            }
            if live == 0 { break }
            index += 1
        }
        return found
    }

    /// Whether `phrase` (folded) starts at `start` (whose byte is known to fold to its first).
    @inline(__always)
    private func occurs(_ phrase: [UInt8], at start: Int, in text: ByteView) -> Bool {
        guard start + phrase.count <= text.count else { return false }
        var offset = 1
        while offset < phrase.count, Self.lower(text[start + offset]) == phrase[offset] { offset += 1 }
        return offset == phrase.count
    }
}
