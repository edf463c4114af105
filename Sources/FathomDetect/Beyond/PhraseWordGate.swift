import FathomStore

extension PromptNormalizer {
    /// A test in front of the anchor filter (``AnchorFilter``) that turns away most ASCII prompts
    /// without reading every byte of them: the phrases are looked for in the prompt's bytes, case
    /// and leetspeak folded, by a skip search (Wu and Manber's, over blocks of three bytes), and a prompt
    /// in which none occurs holds none in any of its forms.
    ///
    /// Exact for what it turns away. It judges only a prompt that is ASCII and has no run of 16
    /// base64 characters (so no decoded form). Such a prompt's normal form is its bytes one value
    /// each (letters lowercased), every run of whitespace and control bytes one space, without a
    /// leading or trailing space; its leetspeak folding folds value by value. Both forms are
    /// therefore runs of the bytes folded by case, leetspeak and whitespace with whitespace runs
    /// collapsed, and a phrase in either (folded by leetspeak too: a phrase in the folded form
    /// holds no leetspeak character) occurs in those bytes. ``rejects(_:)`` is true only when no
    /// phrase does; every other prompt goes on to the anchor filter, which decides as before. A
    /// prompt with a run of two or more whitespace or control bytes (a paragraph break) or a DEL is
    /// searched in a copy with its runs collapsed; any other is searched where it lies.
    ///
    /// On the high-cardinality benchmark's prompts it turns away four in five ASCII prompts: the
    /// anchor filter reads every byte (44 instructions a byte); this gate reads each 8 bytes as one
    /// word, then, with a shortest phrase of `m` bytes, about one triple of bytes in `m - 2`.
    ///
    /// A prompt beyond ASCII (an accent, a curly quote, an em dash, a look-alike letter) is judged
    /// too when every phrase is ASCII: its normal form is streamed (``visitNormalForm(_:into:)``,
    /// which declines a long base64 run, invalid UTF-8 and a kept combining mark) and written as
    /// bytes, each value beyond ASCII as 0x80, which folds to a byte no phrase holds; a phrase in
    /// the normal form or its leetspeak folding is ASCII, so it occurs in those bytes as in an ASCII
    /// prompt's. Before, every such prompt was streamed through the anchor filter instead.
    package final class WordGate: Sendable {
        /// The shortest phrase's length `m`: the search looks at windows of `m` bytes, and each
        /// phrase is known by one window of `m` of its bytes (the one with the fewest spaces, the
        /// last of those: a pair or triple across a word's edge is common in any text).
        let shortest: Int
        /// By the hash of three folded bytes (``block(_:_:_:)``): how far a window that ends on
        /// them can move on before it can end on a phrase's window; 0 where it may already.
        let shifts: InlineArray<16384, UInt8>
        /// The phrases (folded) and where their window starts, ordered by the block their window
        /// ends on; the phrases of block `b` are at `firstOfBlock[b] ..< firstOfBlock[b + 1]`.
        let phrases: [[UInt8]]
        let windowStarts: [Int]
        let firstOfBlock: [Int32]
        /// By byte: its folded value (ASCII), as ``normalForm(_:)`` and ``leetFolded(_:)`` make it.
        let folds: InlineArray<256, UInt8>
        /// Whether every phrase's normal form is ASCII: then a prompt beyond ASCII is judged from its
        /// streamed normal form (see the type).
        let judgesBeyondASCII: Bool

        /// The gate of phrases given in normal form; nil when a phrase that can be in an ASCII
        /// prompt is shorter than three values, or when the ASCII table is not what the gate's
        /// word tests assume (whitespace and controls are exactly the bytes up to 0x20 and DEL).
        package init?(forms: [[UInt32]]) {
            var folds = InlineArray<256, UInt8>(repeating: 0)
            for byte in 0..<0x80 {
                let form = PromptNormalizer.asciiForms[byte]
                let isSpace = form == UInt32.max
                guard isSpace == (byte <= 0x20 || byte == 0x7F) else { return nil }
                guard isSpace || form < 0x80 else { return nil }
                folds[byte] = isSpace ? 0x20 : UInt8(PromptNormalizer.leetTable[Int(form)])
            }
            var folded: [[UInt8]] = []
            var judgesBeyondASCII = true
            for form in forms {
                // A value beyond ASCII is in no ASCII prompt's forms.
                guard form.allSatisfy({ $0 < 0x80 }) else {
                    judgesBeyondASCII = false
                    continue
                }
                guard form.count >= 3 else { return nil }
                folded.append(form.map { UInt8(PromptNormalizer.leetTable[Int($0)]) })
            }
            // A phrase that holds another occurs only where that one does: the shorter suffices.
            let distinct = Array(Set(folded))
            let kept = distinct.filter { phrase in
                !distinct.contains { $0 != phrase && $0.count < phrase.count && Self.holds(phrase, $0) }
            }
            let shortest = kept.map(\.count).min() ?? 3
            let reach = UInt8(min(shortest - 2, 255))
            var shifts = InlineArray<16384, UInt8>(repeating: reach)
            var windows: [(phrase: [UInt8], start: Int, last: Int)] = []
            for phrase in kept {
                let start = (0...(phrase.count - shortest)).min {
                    let spaces = (phrase[$0 ..< $0 + shortest].count { $0 == 0x20 }, phrase[$1 ..< $1 + shortest].count { $0 == 0x20 })
                    return spaces.0 != spaces.1 ? spaces.0 < spaces.1 : $0 > $1
                } ?? 0
                let window = Array(phrase[start ..< start + shortest])
                // The block ending at `end` of the window: a search window ending on it may end on
                // this one after moving on m - 1 - end.
                for end in 2..<shortest {
                    let block = Self.block(window[end - 2], window[end - 1], window[end])
                    shifts[block] = min(shifts[block], UInt8(min(shortest - 1 - end, 255)))
                }
                windows.append((phrase, start, Self.block(window[shortest - 3], window[shortest - 2], window[shortest - 1])))
            }
            windows.sort { $0.last != $1.last ? $0.last < $1.last : $0.phrase.lexicographicallyPrecedes($1.phrase) }
            var firstOfBlock = [Int32](repeating: 0, count: 16385)
            for window in windows { firstOfBlock[window.last + 1] += 1 }
            for block in 0..<16384 { firstOfBlock[block + 1] += firstOfBlock[block] }
            self.shortest = shortest
            self.shifts = shifts
            self.phrases = windows.map(\.phrase)
            self.windowStarts = windows.map(\.start)
            self.firstOfBlock = firstOfBlock
            self.folds = folds
            self.judgesBeyondASCII = judgesBeyondASCII
        }

        /// Whether `phrase` holds `part` anywhere.
        private static func holds(_ phrase: [UInt8], _ part: [UInt8]) -> Bool {
            guard part.count <= phrase.count else { return false }
            return (0...(phrase.count - part.count)).contains { start in phrase[start ..< start + part.count].elementsEqual(part) }
        }

        private static let high: UInt64 = 0x8080_8080_8080_8080
        private static let ones: UInt64 = 0x0101_0101_0101_0101

        /// True only when no phrase is in any form of `prompt` (see the type); false for a prompt
        /// the gate does not judge, whatever it holds.
        package func rejects(_ prompt: ByteView) -> Bool {
            let count = prompt.count
            // Eight bytes at a time: beyond ASCII, DEL, two whitespace bytes in a row, and blocks
            // that may be part of a long base64 run (a run of 16 holds a whole block of the eight).
            var offset = 0
            var previousSpace: UInt64 = 0
            var checkedTo = 0
            // A run of whitespace, or a DEL (a control the word tests do not count as whitespace).
            var collapses = false
            // A byte beyond ASCII: the word tests of whitespace do not hold (a byte's sum carries
            // into the next), and the prompt is searched in its normal form's bytes.
            var beyondASCII = false
            while offset < count {
                let word: UInt64
                var valid = Self.high
                if let loaded = prompt.loadLittleEndian(UInt64.self, at: offset) {
                    word = loaded
                } else if count >= 8, let last = prompt.loadLittleEndian(UInt64.self, at: count - 8) {
                    // The last bytes, from the load of the last eight shifted down: zero bytes
                    // past the end, marked as not there.
                    word = last >> UInt64(8 * (8 - (count - offset)))
                    valid = Self.high >> UInt64(8 * (8 - (count - offset)))
                } else {
                    // A prompt shorter than eight bytes, byte by byte.
                    var tail: UInt64 = 0
                    for index in offset..<count { tail |= UInt64(prompt[index]) << UInt64(8 * (index - offset)) }
                    word = tail
                    valid = Self.high >> UInt64(8 * (8 - (count - offset)))
                }
                if word & Self.high != 0 {
                    guard judgesBeyondASCII else { return false }
                    beyondASCII = true
                }
                // High bit of each byte: at or above 0x21 (not whitespace or a control).
                let printable = (word &+ 0x5F5F_5F5F_5F5F_5F5F) & Self.high
                let spaces = ~printable & Self.high & valid
                if (word &+ Self.ones) & Self.high & valid != 0 { collapses = true }
                if spaces & (spaces << 8 | previousSpace) != 0 { collapses = true }
                previousSpace = spaces >> 56
                // Every byte at or above '+' (the lowest base64 character): look closer.
                if (word &+ 0x5555_5555_5555_5555) & Self.high & valid == valid, valid == Self.high,
                   offset >= checkedTo, let end = longBase64Run(prompt, around: offset) {
                    if end < 0 { return false }
                    checkedTo = end
                }
                offset += 8
            }
            // No long base64 run (the test of the all-base64 blocks holds beyond ASCII too: such a
            // block has no byte beyond it).
            if beyondASCII { return rejectsBeyondASCII(prompt) }
            guard collapses else { return !occurs(prompt) }
            var collapsed: [UInt8] = []
            collapsed.reserveCapacity(count)
            var inRun = false
            for index in 0..<count {
                let byte = prompt[index]
                if byte <= 0x20 || byte == 0x7F {
                    if !inRun { collapsed.append(0x20) }
                    inRun = true
                } else {
                    collapsed.append(byte)
                    inRun = false
                }
            }
            return collapsed.withByteView { !occurs($0) }
        }

        /// ``rejects(_:)`` for a prompt beyond ASCII without a long base64 run, when every phrase is
        /// ASCII: its normal form written as bytes is searched. ASCII bytes are kept as they are
        /// (``occurs(_:)`` folds them), each run of whitespace as one space (none leading, as
        /// ``normalForm(_:)`` collapses it), each scalar beyond ASCII as its decomposition's values,
        /// a value beyond ASCII as 0x80, which folds to a byte no phrase holds. False for invalid
        /// UTF-8 and a kept combining mark (the form is not the scalars' forms in order).
        private func rejectsBeyondASCII(_ prompt: ByteView) -> Bool {
            guard prompt.isValidUTF8 else { return false }
            let count = prompt.count
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            var pendingSpace = false
            var decompositions = PromptNormalizer.DecompositionReader()
            var index = 0
            while index < count {
                let byte = prompt[index]
                if byte < 0x80 {
                    if byte <= 0x20 || byte == 0x7F {
                        pendingSpace = !bytes.isEmpty
                    } else {
                        if pendingSpace { bytes.append(0x20) }
                        pendingSpace = false
                        bytes.append(byte)
                    }
                    index += 1
                    continue
                }
                let scalar = PromptNormalizer.scalar(in: prompt, at: &index)
                let streamed = decompositions.visit(scalar) { value in
                    if value == PromptNormalizer.reordered { return false }
                    if value == PromptNormalizer.space {
                        pendingSpace = !bytes.isEmpty
                    } else {
                        if pendingSpace { bytes.append(0x20) }
                        pendingSpace = false
                        bytes.append(value < 0x80 ? UInt8(truncatingIfNeeded: value) : 0x80)
                    }
                    return true
                }
                guard streamed else { return false }
            }
            return bytes.withByteView { !occurs($0) }
        }

        /// With the block of 8 at `offset` all base64: -1 when the run of base64 characters that
        /// holds it is 16 or longer, else the run's end (no block before it needs a look again).
        /// Nil when the block is not all base64.
        private func longBase64Run(_ prompt: ByteView, around offset: Int) -> Int? {
            for index in offset..<(offset + 8) where !PromptNormalizer.isBase64(prompt[index]) { return nil }
            var start = offset
            while start > 0, start > offset - 16, PromptNormalizer.isBase64(prompt[start - 1]) { start -= 1 }
            var end = offset + 8
            while end < prompt.count, end - start < 16, PromptNormalizer.isBase64(prompt[end]) { end += 1 }
            return end - start >= 16 ? -1 : end
        }

        /// The slot of three folded bytes (7 bits each) in ``shifts``.
        @inline(__always)
        static func block(_ first: UInt8, _ second: UInt8, _ third: UInt8) -> Int {
            let packed = Int(first) << 14 | Int(second) << 7 | Int(third)
            return (packed ^ packed >> 9) & 0x3FFF
        }

        /// Whether a phrase occurs in the folded bytes of `prompt`.
        ///
        /// Two searches side by side: one over the windows that end in the first half of the
        /// prompt, one over those that end in the second. Each window of a phrase ends in one half
        /// (a search's jump past its half's end skips no window the other half's search does not
        /// look at), and ``startsPhrase(windowAt:block:in:)`` reads the whole prompt, so an
        /// occurrence across the middle is found as well. A skip search is one chain of dependent
        /// loads (where the next window ends depends on this one's shift): one search left the
        /// core waiting on each shift; two independent chains overlap their waits.
        private func occurs(_ prompt: ByteView) -> Bool {
            let count = prompt.count
            var first = shortest - 1
            let half = max(first, count / 2)
            var second = half
            while first < half, second < count {
                let firstBlock = block(endingAt: first, in: prompt)
                let secondBlock = block(endingAt: second, in: prompt)
                let firstShift = Int(shifts[firstBlock])
                let secondShift = Int(shifts[secondBlock])
                if firstShift > 0 {
                    first += firstShift
                } else {
                    if startsPhrase(windowAt: first + 1 - shortest, block: firstBlock, in: prompt) { return true }
                    first += 1
                }
                if secondShift > 0 {
                    second += secondShift
                } else {
                    if startsPhrase(windowAt: second + 1 - shortest, block: secondBlock, in: prompt) { return true }
                    second += 1
                }
            }
            // What is left of either search, alone.
            return occurs(prompt, from: first, to: half) || occurs(prompt, from: second, to: count)
        }

        /// Whether a phrase's window ends in `end ..< limit` (a skip search from `end`).
        private func occurs(_ prompt: ByteView, from end: Int, to limit: Int) -> Bool {
            var end = end
            while end < limit {
                let block = block(endingAt: end, in: prompt)
                let shift = Int(shifts[block])
                if shift > 0 {
                    end += shift
                    continue
                }
                if startsPhrase(windowAt: end + 1 - shortest, block: block, in: prompt) { return true }
                end += 1
            }
            return false
        }

        /// The block of the three folded bytes that end at `end` (at least 2, below the count): one
        /// load of four bytes where they fit, not three bytes each tested against the bounds.
        @inline(__always)
        private func block(endingAt end: Int, in prompt: ByteView) -> Int {
            guard end >= 3, let word = prompt.loadLittleEndian(UInt32.self, at: end - 3) else {
                return Self.block(folds[Int(prompt[end - 2])], folds[Int(prompt[end - 1])], folds[Int(prompt[end])])
            }
            return Self.block(folds[Int(word >> 8 & 0xFF)], folds[Int(word >> 16 & 0xFF)], folds[Int(word >> 24)])
        }

        /// Whether a phrase whose window ends on `block` occurs with its window at `start`.
        @inline(never)
        private func startsPhrase(windowAt start: Int, block: Int, in prompt: ByteView) -> Bool {
            for index in Int(firstOfBlock[block])..<Int(firstOfBlock[block + 1]) {
                let phrase = phrases[index]
                let first = start - windowStarts[index]
                guard first >= 0, first + phrase.count <= prompt.count else { continue }
                var offset = 0
                while offset < phrase.count, folds[Int(prompt[first + offset])] == phrase[offset] { offset += 1 }
                if offset == phrase.count { return true }
            }
            return false
        }
    }
}
