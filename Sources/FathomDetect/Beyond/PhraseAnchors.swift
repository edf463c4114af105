import FathomStore

extension PromptNormalizer {
    /// A first, cheaper test of an ASCII prompt, in front of the bigram test of
    /// ``mightMatch(_:phrases:)``: each phrase is given up to three *anchors*, runs of four of its
    /// values chosen rare (``anchors(of:)``), and a phrase can be in a form of the prompt only if
    /// all its anchors are four consecutive values of that form.
    ///
    /// The prompt's bytes are read once. Each byte is one table entry (its normal-form value, its
    /// leetspeak folding, whether it is a base64 character, whether it is ASCII); the last four values
    /// of the normal form (and of its leetspeak folding, from the first leetspeak character on) are
    /// kept in a 32-bit window, and a window is looked up only when a 65,536-bit filter of the anchors
    /// holds it. The bigram test set 4,096 bits per prompt and then tested every phrase group: on the
    /// high-cardinality benchmark it was a seventh of every-rule `hunt`'s CPU.
    ///
    /// Exact on its own terms (``NormalizerFilterTests``): for an ASCII prompt without a run of 16
    /// base64 characters, whose forms are its normal form and that form's leetspeak folding,
    /// ``verdict(_:)`` is ``Verdict/none`` only when no phrase has all its anchors in one of them —
    /// so no phrase is in either. Phrases with a value beyond ASCII are never in an ASCII prompt's
    /// forms and get no anchor; a list with an ASCII phrase of fewer than four values, more than
    /// ``capacity`` distinct anchors or more than ``PhraseSet/capacity`` phrases has no anchor filter
    /// (every prompt takes the bigram test).
    ///
    /// ``heldPhrases(_:)`` tells which phrases a prompt's anchors let through, so that the matcher
    /// looks for those alone.
    package struct AnchorFilter: Sendable {
        /// The most distinct anchors a filter holds (the seen sets are four 64-bit words).
        package static let capacity = 256

        /// What the anchors say about one prompt.
        package enum Verdict: Equatable, Sendable {
            /// No phrase is in any form of the prompt.
            case none
            /// Some phrase has all its anchors in a form (or the prompt has a long base64 run).
            case possible
            /// The prompt is not ASCII: the filter cannot tell.
            case unknown
        }

        /// One entry per byte value: bits 0–7 the normal-form value (0x20 for whitespace and
        /// controls), bits 8–15 its leetspeak folding, then the flags below. The same for every
        /// filter, and of fixed size: read by a byte, it needs no bounds check and no register.
        private static let entries: InlineArray<256, UInt32> = {
            var entries = InlineArray<256, UInt32>(repeating: nonASCIIFlag)
            for byte in 0..<0x80 {
                let form = PromptNormalizer.asciiForms[byte]
                let value = form == UInt32.max ? 0x20 : form
                precondition(value < 0x80 && value != 0, "an ASCII byte's normal form is one ASCII value")
                let folded = PromptNormalizer.leetTable[Int(value)]
                entries[byte] = value | folded << 8 | (isBase64(UInt8(byte)) ? base64Flag : 0) | (isLeetKey(value) ? leetFlag : 0)
                    | (value == 0x20 ? spaceFlag : 0)
            }
            return entries
        }()
        private static let base64Flag: UInt32 = 1 << 16
        private static let leetFlag: UInt32 = 1 << 17
        private static let spaceFlag: UInt32 = 1 << 19
        /// The highest bit: an entry at or above it is a byte beyond ASCII.
        private static let nonASCIIFlag: UInt32 = 1 << 20

        /// 65,536 bits: bit `filterSlot(a)` is set for every anchor `a`.
        private let filter: [UInt64]
        /// Open addressing over 1,024 slots: an anchor (four values, big-endian) and its number;
        /// 0 marks an empty slot (no anchor is 0: its values are printable).
        private let keys: [UInt32]
        private let numbers: [UInt16]
        /// Phrase by phrase (those with anchors), the anchor numbers it needs, as four 64-bit words.
        private let needs: [UInt64]
        /// The phrases whose first anchor is anchor `a`: `phrasesByAnchor[phraseBounds[a] ..< phraseBounds[a + 1]]`.
        private let phraseBounds: [Int]
        private let phrasesByAnchor: [Int]
        /// Each anchored phrase's index among the forms the filter was made from.
        private let formIndices: [Int]
        /// Whether every phrase has anchors (none has a value beyond ASCII): then a prompt beyond
        /// ASCII can be judged by its anchors too (``streamedVerdict(_:)``).
        package let anchorsEveryPhrase: Bool

        /// The anchors of each phrase form: nil when a phrase cannot be anchored (see the type).
        package init?(forms: [[UInt32]]) {
            // Phrases are told apart in a ``PhraseSet``.
            guard forms.count <= PhraseSet.capacity else { return nil }
            var numbered: [UInt32: Int] = [:]
            var needs: [UInt64] = []
            // Each anchored phrase under its first (rarest) anchor: a prompt's phrases are looked
            // for among those of the anchors it holds, not among all.
            var byFirst: [Int: [Int]] = [:]
            var formIndices: [Int] = []
            for (formIndex, form) in forms.enumerated() {
                guard form.allSatisfy({ $0 < 0x80 }) else { continue }
                formIndices.append(formIndex)
                guard let anchors = Self.anchors(of: form) else { return nil }
                var words: [UInt64] = [0, 0, 0, 0]
                var first: Int?
                for anchor in anchors {
                    let number = numbered[anchor] ?? numbered.count
                    guard number < Self.capacity else { return nil }
                    numbered[anchor] = number
                    words[number >> 6] |= 1 << UInt64(number & 63)
                    if first == nil { first = number }
                }
                if let first { byFirst[first, default: []].append(needs.count / 4) }
                needs += words
            }
            var filter = [UInt64](repeating: 0, count: 1 << 10)
            var keys = [UInt32](repeating: 0, count: 1 << 10)
            var numbers = [UInt16](repeating: 0, count: 1 << 10)
            for (anchor, number) in numbered {
                let bit = Self.filterSlot(anchor)
                filter[bit >> 6] |= 1 << UInt64(bit & 63)
                var slot = Self.tableSlot(anchor)
                while keys[slot] != 0 { slot = (slot + 1) & (keys.count - 1) }
                keys[slot] = anchor
                numbers[slot] = UInt16(number)
            }
            self.filter = filter
            self.keys = keys
            self.numbers = numbers
            self.needs = needs
            var bounds = [0]
            var phrases: [Int] = []
            for number in 0..<numbered.count {
                phrases += byFirst[number] ?? []
                bounds.append(phrases.count)
            }
            phraseBounds = bounds
            phrasesByAnchor = phrases
            self.formIndices = formIndices
            anchorsEveryPhrase = formIndices.count == forms.count
        }

        /// The anchors of an ASCII phrase form of at least four values, rarest first: the three
        /// four-value runs least likely in ordinary text (by a fixed score of how common each value
        /// is in English, more for a run at a word's edge; the earliest among equals), or all of
        /// them for a phrase with fewer runs. Nil for a form shorter than four values. Rare anchors
        /// keep both the windows looked up and the prompts let through few: the phrases' first and
        /// last runs were "you ", "the ", "what" and "ions".
        package static func anchors(of form: [UInt32]) -> [UInt32]? {
            guard form.count >= 4 else { return nil }
            let runs = (0...(form.count - 4)).map { start in
                // A run that starts or ends a word is a short word and a space ("you ", " now"), or
                // the common edge of a longer one: runs across a word break ("w da") are rarer.
                let edge = form[start] == 0x20 || form[start + 3] == 0x20 ? 6 : 0
                return (score: form[start..<(start + 4)].reduce(edge) { $0 + commonness($1) }, start: start)
            }
            var chosen: [UInt32] = []
            for run in runs.sorted(by: { ($0.score, $0.start) < ($1.score, $1.start) }) {
                let anchor = pack(form[run.start..<(run.start + 4)])
                if !chosen.contains(anchor) { chosen.append(anchor) }
                if chosen.count == 3 { break }
            }
            return chosen
        }

        /// How common a value is in English text, 0 (rare) to 10 (the space).
        static func commonness(_ value: UInt32) -> Int {
            switch UInt8(truncatingIfNeeded: value) {
            case 0x20: 10
            case UInt8(ascii: "e"): 8
            case UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"), UInt8(ascii: "n"): 7
            case UInt8(ascii: "s"), UInt8(ascii: "h"), UInt8(ascii: "r"): 6
            case UInt8(ascii: "d"), UInt8(ascii: "l"), UInt8(ascii: "u"): 5
            case UInt8(ascii: "c"), UInt8(ascii: "m"), UInt8(ascii: "w"), UInt8(ascii: "f"), UInt8(ascii: "g"),
                 UInt8(ascii: "y"), UInt8(ascii: "p"): 4
            case UInt8(ascii: "b"), UInt8(ascii: "v"), UInt8(ascii: "k"): 3
            default: 1
            }
        }

        /// Four values (each below 0x80), first in the top byte: as the window holds them.
        package static func pack(_ values: ArraySlice<UInt32>) -> UInt32 {
            values.reduce(0) { $0 << 8 | $1 }
        }

        @inline(__always)
        fileprivate static func filterSlot(_ window: UInt32) -> Int {
            Int(truncatingIfNeeded: (UInt64(window) &* 0x9E37_79B9_7F4A_7C15) >> 48)
        }

        @inline(__always)
        private static func tableSlot(_ window: UInt32) -> Int {
            Int(truncatingIfNeeded: (UInt64(window) &* 0xC2B2_AE3D_27D4_EB4F) >> 54)
        }

        /// A set of anchor numbers.
        private struct Seen {
            var words = InlineArray<4, UInt64>(repeating: 0)

            @inline(__always)
            func union(_ other: Seen) -> Seen {
                var result = self
                for index in 0..<4 { result.words[index] |= other.words[index] }
                return result
            }
        }

        /// Notes `window` in `seen` when it is an anchor.
        @inline(__always)
        private func note(_ window: UInt32, in seen: inout Seen, filter: Span<UInt64>) {
            let bit = Self.filterSlot(window)
            guard filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0 else { return }
            var slot = Self.tableSlot(window)
            while true {
                let key = keys[slot]
                if key == window {
                    let number = Int(numbers[slot])
                    seen.words[number >> 6] |= 1 << UInt64(number & 63)
                    return
                }
                if key == 0 { return }
                slot = (slot + 1) & (keys.count - 1)
            }
        }

        /// Whether some phrase has all its anchors in `seen`.
        private func holdsPhrase(_ seen: Seen) -> Bool {
            var held = false
            eachPhrase(in: seen) { _ in
                held = true
                return false
            }
            return held
        }

        /// Hands `body` each phrase (its anchored number) that has all its anchors in `seen`, until
        /// `body` returns false: the phrases filed under each anchor of `seen` are tested (a phrase
        /// is filed under one of its own, so each is handed over once).
        @inline(__always)
        private func eachPhrase(in seen: Seen, _ body: (Int) -> Bool) {
            for word in 0..<4 {
                var bits = seen.words[word]
                while bits != 0 {
                    let anchor = word << 6 | bits.trailingZeroBitCount
                    bits &= bits - 1
                    for member in phraseBounds[anchor]..<phraseBounds[anchor + 1] {
                        let number = phrasesByAnchor[member]
                        let phrase = number * 4
                        if needs[phrase] & ~seen.words[0] == 0, needs[phrase + 1] & ~seen.words[1] == 0,
                           needs[phrase + 2] & ~seen.words[2] == 0, needs[phrase + 3] & ~seen.words[3] == 0 {
                            guard body(number) else { return }
                        }
                    }
                }
            }
        }

        /// The phrases (by their index among the forms the filter was made from) with all their
        /// anchors in `seen`.
        private func heldPhrases(_ seen: Seen) -> PhraseSet {
            var held = PhraseSet()
            eachPhrase(in: seen) { number in
                held.insert(formIndices[number])
                return true
            }
            return held
        }

        /// A set of phrase indices below ``PhraseSet/capacity``, without an allocation.
        package struct PhraseSet: Equatable, Sendable {
            package static let capacity = 256
            private var words = InlineArray<4, UInt64>(repeating: 0)

            package init() {}

            package var isEmpty: Bool { words[0] | words[1] | words[2] | words[3] == 0 }

            @inline(__always)
            package mutating func insert(_ index: Int) { words[index >> 6] |= 1 << UInt64(index & 63) }

            /// The indices, ascending.
            package var indices: [Int] {
                var result: [Int] = []
                for word in 0..<4 {
                    var bits = words[word]
                    while bits != 0 {
                        result.append(word << 6 | bits.trailingZeroBitCount)
                        bits &= bits - 1
                    }
                }
                return result
            }

            package static func == (lhs: PhraseSet, rhs: PhraseSet) -> Bool {
                (0..<4).allSatisfy { lhs.words[$0] == rhs.words[$0] }
            }
        }

        /// What the anchors say about a prompt, in detail.
        package enum Held: Equatable, Sendable {
            /// The prompt is not ASCII: the filter cannot tell.
            case notASCII
            /// The prompt has a run of 16 base64 characters: it has decoded forms too.
            case longBase64Run
            /// The phrases (indices among the forms the filter was made from) with all their
            /// anchors in the normal form, and in its leetspeak folding when the prompt has a
            /// leetspeak character (else nil: the folding is the normal form). A phrase that is in
            /// a form has all its anchors in it, so the phrases in each form are among these.
            case phrases(normal: PhraseSet, leet: PhraseSet?)
        }

        /// ``verdict(_:)`` with the phrases it lets through (``Held``).
        package func heldPhrases(_ text: ByteView) -> Held {
            switch read(text) {
            case .notASCII: return .notASCII
            case .longBase64Run: return .longBase64Run
            case let .read(common, normalOnly, leetOnly, sawLeet):
                return .phrases(normal: heldPhrases(common.union(normalOnly)),
                                leet: sawLeet ? heldPhrases(common.union(leetOnly)) : nil)
            }
        }

        /// What the anchors say about `text` (see ``Verdict``).
        ///
        /// The normal form is streamed as ``normalForm(_:)`` makes it for ASCII: every run of
        /// whitespace and controls is one space, leading ones dropped (a trailing one only adds
        /// windows, so it can only make the answer ``Verdict/possible``). The leetspeak folding
        /// differs from the normal form only in windows that hold a leetspeak value: a window
        /// without one is noted once for both forms (`common`), one with one is noted in each form's
        /// own set, so a prompt is read once and most windows are looked up once.
        package func verdict(_ text: ByteView) -> Verdict {
            switch read(text) {
            case .notASCII: return .unknown
            case .longBase64Run: return .possible
            case let .read(common, normalOnly, leetOnly, sawLeet):
                if holdsPhrase(common.union(normalOnly)) || (sawLeet && holdsPhrase(common.union(leetOnly))) { return .possible }
                return .none
            }
        }

        /// ``streamedVerdict(_:)`` when every phrase has anchors, else nil.
        package func streamedVerdictWhenAnchored(_ text: ByteView) -> Bool? {
            anchorsEveryPhrase ? streamedVerdict(text) : nil
        }

        /// ``verdict(_:)`` for any prompt, beyond ASCII too, when ``anchorsEveryPhrase``: its normal
        /// form is streamed value by value (``PromptNormalizer/visitNormalForm(_:into:)``, the stream
        /// the bigram test reads) and its windows noted as ``verdict(_:)`` notes an ASCII prompt's; a
        /// value beyond ASCII is in no anchor, so a window holding one is none. False only when no
        /// phrase has all its anchors in the normal form or its leetspeak folding; true for a prompt
        /// that cannot be streamed (a long base64 run, invalid UTF-8, a kept combining mark), or when
        /// a phrase has no anchors. The bigram test it replaces for prompts beyond ASCII read the
        /// same stream and then tested every group of phrases, and let more prompts through.
        package func streamedVerdict(_ text: ByteView) -> Bool {
            guard anchorsEveryPhrase else { return true }
            var sink = StreamSink(filter: filter)
            guard PromptNormalizer.visitNormalForm(text, into: &sink), !sink.overflowed else { return true }
            // The windows the filter let through, looked up now: in both forms' set, the normal
            // form's own or the leetspeak folding's own (as ``read(_:)`` notes them).
            var sets = InlineArray<3, Seen>(repeating: Seen())
            let bits = filter.span
            for index in 0..<sink.candidateCount {
                let candidate = sink.candidates[index]
                note(UInt32(truncatingIfNeeded: candidate), in: &sets[Int(candidate >> 32)], filter: bits)
            }
            return holdsPhrase(sets[0].union(sets[1])) || (sink.sawLeet && holdsPhrase(sets[0].union(sets[2])))
        }

        /// The windows of a streamed normal form, made as ``read(_:)`` makes a prompt's: those the
        /// filter holds are kept (rarely more than a few) and looked up once the stream ends. The
        /// sink holds the filter's bits and the leetspeak table alone: copying the whole filter
        /// into it retained and released every table of it for every prompt.
        private struct StreamSink: PromptNormalizer.FormSink {
            let filter: [UInt64]
            let leetFold = PromptNormalizer.leetTable
            var window: UInt32 = 0
            var leetWindow: UInt32 = 0
            var sinceLeet = 4
            var lastSpace = true
            var sawLeet = false
            /// Each window the filter holds, its set (0 both forms, 1 the normal form, 2 the
            /// leetspeak folding) above it; past 32 of them the prompt is let through.
            var candidates = InlineArray<32, UInt64>(repeating: 0)
            var candidateCount = 0
            var overflowed = false

            init(filter: [UInt64]) { self.filter = filter }

            @inline(__always)
            func holds(_ window: UInt32) -> Bool {
                let bit = AnchorFilter.filterSlot(window)
                return filter.span[bit >> 6] & (1 << UInt64(bit & 63)) != 0
            }

            @inline(__always)
            mutating func keep(_ window: UInt32, in set: UInt64) {
                guard candidateCount < 32 else {
                    overflowed = true
                    return
                }
                candidates[candidateCount] = set << 32 | UInt64(window)
                candidateCount += 1
            }

            @inline(__always)
            mutating func take(_ value: UInt32) {
                let isSpace = value == PromptNormalizer.space || value == 0x20
                // Leading whitespace is dropped and a run of it is one space.
                if isSpace && lastSpace { return }
                lastSpace = isSpace
                // A value beyond ASCII as 0x80: no anchor holds it.
                let byte: UInt32 = isSpace ? 0x20 : (value < 0x80 ? value : 0x80)
                let isLeet = PromptNormalizer.isLeetKey(byte)
                window = window << 8 | byte
                leetWindow = leetWindow << 8 | (isLeet ? leetFold[Int(byte)] : byte)
                if isLeet { sawLeet = true }
                sinceLeet = isLeet ? 0 : Swift.min(sinceLeet + 1, 4)
                if sinceLeet >= 4 {
                    if holds(window) { keep(window, in: 0) }
                } else {
                    if holds(window) { keep(window, in: 1) }
                    if holds(leetWindow) { keep(leetWindow, in: 2) }
                }
            }
        }

        /// What one pass over a prompt's bytes finds (see ``verdict(_:)``).
        private enum Reading {
            case notASCII
            case longBase64Run
            /// The anchors of the windows both forms hold, of the normal form's own, of the
            /// leetspeak folding's own, and whether the prompt has a leetspeak character.
            case read(common: Seen, normalOnly: Seen, leetOnly: Seen, sawLeet: Bool)
        }

        private func read(_ text: ByteView) -> Reading {
            let filter = self.filter.span
            let leetTable = PromptNormalizer.leetTable
            let folds = leetTable.span
            let count = text.count
            var index = 0
            var run = 0
            var window: UInt32 = 0
            // Bit i set: the value i places back is a leetspeak value; the window (the last four
            // values) holds one when any of the four bits is.
            var recentLeet: UInt32 = 0
            var seen = InlineArray<3, Seen>(repeating: Seen())
            // Branch-free but for the rare cases (a non-ASCII byte, a long base64 run, a second
            // space in a row, a window with a leetspeak value, a window that may be an anchor):
            // letters, spaces and digits alternate with no pattern a branch predictor could learn.
            // A window the filter holds is looked up out of line (``noteAnchor(_:in:)``), and the
            // leetspeak folding's window is made only for a window with a leetspeak value: its
            // values are the window's, folded. So the loop keeps its few values in registers.
            var lastSpace: UInt32 = 1
            var sawLeet: UInt32 = 0
            while index < count {
                let entry = Self.entries[Int(text[index])]
                index += 1
                if entry >= Self.nonASCIIFlag { return .notASCII }
                run = (run &+ 1) & (0 &- Int(entry >> 16 & 1))
                // The prompt has decoded forms too: the bigram test and the matcher decide.
                if run >= 16 { return .longBase64Run }
                let space = entry >> 19 & 1
                if space & lastSpace != 0 { continue }
                lastSpace = space
                window = window << 8 | (entry & 0xFF)
                let leet = entry >> 17 & 1
                sawLeet |= leet
                recentLeet = (recentLeet << 1 | leet) & 0xF
                if recentLeet == 0 {
                    if Self.holds(window, filter) { noteAnchor(window, in: &seen[0]) }
                } else {
                    if Self.holds(window, filter) { noteAnchor(window, in: &seen[1]) }
                    let leetWindow = Self.folded(window, folds)
                    if Self.holds(leetWindow, filter) { noteAnchor(leetWindow, in: &seen[2]) }
                }
            }
            return .read(common: seen[0], normalOnly: seen[1], leetOnly: seen[2], sawLeet: sawLeet != 0)
        }

        /// A window's four values with leetspeak folded: the leetspeak folding's window, as
        /// ``read(_:)`` noted it before it made it only where it needs it (`folds` is
        /// ``PromptNormalizer/leetTable``; the empty places before the fourth value are 0, which
        /// folds to 0).
        @inline(__always)
        private static func folded(_ window: UInt32, _ folds: Span<UInt32>) -> UInt32 {
            var result: UInt32 = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                result = result << 8 | folds[Int(window >> UInt32(shift) & 0x7F)]
            }
            return result
        }

        /// Whether the filter holds `window` (it may be an anchor).
        @inline(__always)
        private static func holds(_ window: UInt32, _ filter: Span<UInt64>) -> Bool {
            let bit = filterSlot(window)
            return filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0
        }

        /// ``note(_:in:filter:)`` of a window the filter holds, out of line: rare, and its table
        /// lookup would otherwise take registers from the byte loop of ``read(_:)``.
        @inline(never)
        private func noteAnchor(_ window: UInt32, in seen: inout Seen) {
            note(window, in: &seen, filter: filter.span)
        }
    }
}
