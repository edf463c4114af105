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
/// When every phrase has three characters or more (the default list's shortest has six), the text
/// is searched as Wu and Manber search for many patterns: with `m` the shortest phrase's length,
/// the pair of folded bytes that ends each `m`-byte window is looked up in a table of how far the
/// window can move on before it can end on a phrase's first `m` characters (up to `m - 1`), so
/// most bytes are never read; phrases are compared only where the pair allows it. Whether the text
/// holds `ſ` or `K` is found first, with `memchr`. Otherwise each byte and the next are looked up
/// in two tables of the phrases they can start.
///
/// ```swift
/// let matcher = ASCIIPhraseMatcher(["system prompt", "bypass"])!
/// matcher.matches(prompt)   // 0b10 when only "bypass" occurs; nil: fold the text instead
/// ```
package final class ASCIIPhraseMatcher: Sendable {
    /// Each phrase, folded (ASCII lowercase).
    private let phrases: [[UInt8]]
    /// Every phrase's bit.
    private let all: UInt64
    /// The skip search, when every phrase has three characters or more.
    private let skips: Skips?
    /// By byte: the phrases whose first character the byte folds to.
    private let firstByte: ByteIndexedTable<UInt64>
    /// By byte: the phrases whose second character the byte folds to (one-character phrases: all).
    private let secondByte: ByteIndexedTable<UInt64>

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
        // A byte beyond ASCII folds to 0 in the skip search's pairs, which no phrase may hold.
        skips = self.phrases.allSatisfy { $0.count >= 3 && !$0.contains(0) } ? Skips(self.phrases) : nil
    }

    /// Whether the phrases are looked for by the skip search (all have three characters or more).
    package var searchesBySkipping: Bool { skips != nil }

    @inline(__always)
    private static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Bit `i` set when phrase `i` occurs in `text`; nil when `text` holds `ſ` or `K`.
    ///
    /// - Complexity: O(bytes): with phrases of three characters or more, `memchr` twice and about
    ///   one pair looked up every `m - 1` bytes in ordinary text; else two table reads a byte.
    package func matches(_ text: ByteView) -> UInt64? {
        if let skips { return matchesBySkipping(text, skips) }
        return matchesByPairs(text)
    }

    /// The tables of the skip search (Wu–Manber, blocks of two bytes).
    private final class Skips: Sendable {
        /// The shortest phrase's length `m`: the search looks at windows of `m` bytes.
        let shortest: Int
        /// By folded pair (`first << 7 | second`): how far a window that ends on the pair can move
        /// on before it can end on the first `m` characters of a phrase; 0 where it may already.
        let shifts: InlineArray<16384, UInt8>
        /// Each phrase's pair at positions `m - 2, m - 1`: the phrases to compare where the shift is 0.
        let lastPairs: [Int]
        /// By byte: its folded value in seven bits (ASCII lowercase), 0 for a byte beyond ASCII.
        let folds: ByteIndexedTable<UInt8>

        init(_ phrases: [[UInt8]]) {
            let shortest = phrases.map(\.count).min() ?? 3
            self.shortest = shortest
            var shifts = InlineArray<16384, UInt8>(repeating: UInt8(min(shortest - 1, 255)))
            for phrase in phrases {
                // The pair ending at `end` of the phrase's first m characters: a window ending on it
                // may end on the phrase's start after moving on m - 1 - end.
                for end in 1..<shortest {
                    let pair = Int(phrase[end - 1]) << 7 | Int(phrase[end])
                    shifts[pair] = min(shifts[pair], UInt8(min(shortest - 1 - end, 255)))
                }
            }
            self.shifts = shifts
            lastPairs = phrases.map { Int($0[shortest - 2]) << 7 | Int($0[shortest - 1]) }
            folds = ByteIndexedTable((0..<256).map { $0 < 0x80 ? ASCIIPhraseMatcher.lower(UInt8($0)) : 0 })
        }
    }

    /// ``matches(_:)`` by the skip search.
    private func matchesBySkipping(_ text: ByteView, _ skips: Skips) -> UInt64? {
        if Self.holdsScalarFoldingToASCII(text) { return nil }
        let count = text.count
        let shortest = skips.shortest
        let folds = skips.folds
        var found: UInt64 = 0
        // The last byte of the window.
        var end = shortest - 1
        while end < count {
            let pair = Int(folds[text[end - 1]]) << 7 | Int(folds[text[end]])
            let shift = Int(skips.shifts[pair & 0x3FFF])
            if shift > 0 {
                end += shift
                continue
            }
            found |= phrasesStarting(at: end + 1 - shortest, pair: pair, in: text, skips)
            if found == all { break }
            end += 1
        }
        return found
    }

    /// The phrases whose first `m` characters end on `pair` and that occur in full at `start`.
    @inline(never)
    private func phrasesStarting(at start: Int, pair: Int, in text: ByteView, _ skips: Skips) -> UInt64 {
        var found: UInt64 = 0
        for (index, last) in skips.lastPairs.enumerated() where last == pair && occurs(phrases[index], at: start, in: text) {
            found |= 1 << UInt64(index)
        }
        return found
    }

    /// Whether `text` holds `ſ` (C5 BF) or `K` (E2 84 AA), found with `memchr`.
    private static func holdsScalarFoldingToASCII(_ text: ByteView) -> Bool {
        var from = 0
        while let index = text.firstIndex(of: 0xC5, from: from) {
            if text[index + 1] == 0xBF { return true }
            from = index + 1
        }
        from = 0
        while let index = text.firstIndex(of: 0xE2, from: from) {
            if text[index + 1] == 0x84 && text[index + 2] == 0xAA { return true }
            from = index + 1
        }
        return false
    }

    /// Whether the bytes at `index` are `ſ` (C5 BF) or `K` (E2 84 AA).
    @inline(__always)
    private static func foldsToASCII(_ text: ByteView, at index: Int) -> Bool {
        let byte = text[index]
        if byte == 0xC5 { return text[index + 1] == 0xBF }
        if byte == 0xE2 { return text[index + 1] == 0x84 && text[index + 2] == 0xAA }
        return false
    }

    /// ``matches(_:)`` by the tables of each byte's and the next byte's phrases.
    private func matchesByPairs(_ text: ByteView) -> UInt64? {
        let count = text.count
        var found: UInt64 = 0
        var live = all
        var index = 0
        while index < count {
            let byte = text[index]
            if byte >= 0x80 {
                if Self.foldsToASCII(text, at: index) { return nil }
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

    /// Whether `phrase` (folded) starts at `start` (whose byte is known to fold to its first, or is
    /// compared).
    @inline(__always)
    private func occurs(_ phrase: [UInt8], at start: Int, in text: ByteView) -> Bool {
        guard start >= 0, start + phrase.count <= text.count else { return false }
        var offset = 0
        while offset < phrase.count, Self.lower(text[start + offset]) == phrase[offset] { offset += 1 }
        return offset == phrase.count
    }
}
