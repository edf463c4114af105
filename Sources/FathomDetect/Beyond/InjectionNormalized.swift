import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Normalisation of prompt text against evasion, before phrase matching.
///
/// Produces the folded scalar forms a prompt is matched in:
/// 1. the *normal form*: NFKD compatibility decomposition (fullwidth and styled letters become
///    ASCII), combining marks dropped, zero-width and other invisible characters (format characters,
///    soft hyphen, variation selectors, tag characters) removed, Cyrillic and Greek look-alikes mapped
///    to Latin, case folded, every run of whitespace collapsed into one space;
/// 2. the normal form with leetspeak folded (1→i, 0→o, 3→e, 4→a, 5→s, 7→t, @→a, $→s);
/// 3. the normal forms of base64 (≥ 16 characters) and hex (≥ 16 digits) segments that decode to
///    mostly printable UTF-8 text (one level deep).
public enum PromptNormalizer {
    /// The Cyrillic and Greek look-alikes of Latin letters (after case folding).
    package static let confusables: [UInt32: UInt32] = {
        let pairs: [(String, String)] = [
            ("а", "a"), ("в", "b"), ("е", "e"), ("ё", "e"), ("к", "k"), ("м", "m"), ("н", "h"), ("о", "o"), ("р", "p"),
            ("с", "c"), ("т", "t"), ("у", "y"), ("х", "x"), ("ѕ", "s"), ("і", "i"), ("ї", "i"), ("ј", "j"), ("һ", "h"),
            ("ԁ", "d"), ("ԛ", "q"), ("ԝ", "w"), ("ɡ", "g"), ("ӏ", "l"), ("ո", "n"), ("ս", "u"),
            ("α", "a"), ("β", "b"), ("ε", "e"), ("η", "n"), ("ι", "i"), ("κ", "k"), ("ν", "v"), ("ο", "o"), ("ρ", "p"),
            ("τ", "t"), ("υ", "u"), ("χ", "x"), ("γ", "y"), ("ζ", "z"), ("μ", "u"), ("ω", "w"),
            ("ı", "i"), ("ℓ", "l"), ("ſ", "s"),
        ]
        var map: [UInt32: UInt32] = [:]
        for (from, to) in pairs {
            guard let source = from.unicodeScalars.first, let target = to.unicodeScalars.first else { continue }
            map[source.value] = target.value
        }
        return map
    }()

    package static let leet: [UInt32: UInt32] = [
        0x31: 0x69, 0x30: 0x6F, 0x33: 0x65, 0x34: 0x61, 0x35: 0x73, 0x37: 0x74, 0x40: 0x61, 0x24: 0x73,
    ]

    /// Whether a scalar is invisible: zero-width, format, soft hyphen, variation selector, tag.
    package static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x34F, 0x180E, 0x200B...0x200F, 0x2060...0x2064, 0xFEFF, 0xFE00...0xFE0F, 0xE0000...0xE007F:
            return true
        default:
            return scalar.properties.generalCategory == .format
        }
    }

    /// The normal form of each ASCII byte (compatibility decomposition leaves ASCII as it is, and
    /// no ASCII character is invisible or a mark); `UInt32.max` marks whitespace and controls.
    package static let asciiForms: [UInt32] = (0..<128).map { value -> UInt32 in
        let scalar = Unicode.Scalar(UInt8(value))
        let category = scalar.properties.generalCategory
        if scalar.properties.isWhitespace || category == .spaceSeparator || category == .control { return UInt32.max }
        let folded = FoldedText.fold(UInt32(value))
        return confusables[folded] ?? folded
    }

    /// The normal form of `text` as folded scalars.
    public static func normalForm(_ text: String) -> [UInt32] {
        asciiNormalForm(text) ?? unicodeNormalForm(text)
    }

    /// ``normalForm(_:)`` for any text: compatibility decomposition, then scalar by scalar.
    package static func unicodeNormalForm(_ text: String) -> [UInt32] {
        let decomposed = text.decomposedStringWithCompatibilityMapping
        var forms = PlaneBlockReader(basicPlaneBlocks)
        var result: [UInt32] = []
        result.reserveCapacity(decomposed.unicodeScalars.count)
        var lastWasSpace = true
        for scalar in decomposed.unicodeScalars {
            let value = scalar.value < 0x10000 ? forms[scalar.value] : scalarForm(scalar)
            if value == dropped { continue }
            if value == space {
                if !lastWasSpace { result.append(0x20) }
                lastWasSpace = true
                continue
            }
            result.append(value)
            lastWasSpace = false
        }
        if result.last == 0x20 { result.removeLast() }
        return result
    }

    /// What one scalar of a decomposed text becomes: ``dropped`` (invisible or a combining mark),
    /// ``space`` (whitespace or a control), else its case-folded, look-alike-mapped value.
    package static func scalarForm(_ scalar: Unicode.Scalar) -> UInt32 {
        if isInvisible(scalar) { return dropped }
        let category = scalar.properties.generalCategory
        if category == .nonspacingMark || category == .enclosingMark { return dropped }
        if scalar.properties.isWhitespace || category == .spaceSeparator || category == .control { return space }
        let value = FoldedText.fold(scalar.value)
        return confusables[value] ?? value
    }

    package static let dropped = UInt32.max - 1
    package static let space = UInt32.max

    /// ``scalarForm(_:)`` of a scalar of the Basic Multilingual Plane, from a table (the Unicode
    /// property lookups dominated the rule's time); surrogate code points are ``dropped``.
    package static func basicPlaneForm(_ value: UInt32) -> UInt32 {
        basicPlaneBlocks.block(Int(value >> 8))[Int(value & 0xFF)]
    }

    /// The table of ``basicPlaneForm(_:)``, worked out a block of 256 scalars at a time when a
    /// scalar of the block is first asked for: the whole plane took about 8 ms of every hunt, and
    /// a log's text uses a few blocks.
    package static let basicPlaneBlocks = PlaneBlocks<[UInt32]> { block in
        (UInt32(block) << 8..<UInt32(block + 1) << 8).map { value in
            if isUnchanged(value) { return value }
            return Unicode.Scalar(value).map(scalarForm) ?? dropped
        }
    }

    /// ``FoldedText/isUnchanged(_:)``: CJK ideographs, Yi and private use are their own normal form
    /// and decomposition too (no compatibility mapping, mark or look-alike; ``DetectBeyondTests``
    /// checks every scalar of them against the lookups).
    @inline(__always)
    package static func isUnchanged(_ value: UInt32) -> Bool { FoldedText.isUnchanged(value) }

    /// The canonical decomposition of a Hangul syllable into its conjoining jamo (Unicode §3.12,
    /// algorithmic; a syllable has no compatibility mapping beyond it), nil for other scalars.
    package static func hangulJamo(_ value: UInt32) -> [UInt32]? {
        guard (0xAC00...0xD7A3).contains(value) else { return nil }
        let index = value - 0xAC00
        let leading = 0x1100 + index / 588, vowel = 0x1161 + (index % 588) / 28, trailing = index % 28
        return trailing == 0 ? [leading, vowel] : [leading, vowel, 0x11A7 + trailing]
    }

    /// ``normalForm(_:)`` of an all-ASCII text, from a table; nil when the text is not ASCII.
    package static func asciiNormalForm(_ text: String) -> [UInt32]? {
        text.withByteView { asciiNormalForm($0) }
    }

    /// ``asciiNormalForm(_:)`` of a text's UTF-8 bytes. The values are stored by index into an
    /// array made at the text's length and cut to the form's (appending them one by one checked
    /// capacity at every value: the step cost more than the table lookup).
    package static func asciiNormalForm(_ bytes: ByteView) -> [UInt32]? {
        let table = asciiForms.span
        var result = [UInt32](repeating: 0, count: bytes.count)
        var length = 0
        var lastWasSpace = true
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x80 else { return nil }
            let value = table[Int(byte)]
            if value == UInt32.max {
                if !lastWasSpace {
                    result[length] = 0x20
                    length += 1
                }
                lastWasSpace = true
            } else {
                result[length] = value
                length += 1
                lastWasSpace = false
            }
        }
        if length > 0, result[length - 1] == 0x20 { length -= 1 }
        result.removeLast(result.count - length)
        return result
    }

    /// `form` with leetspeak digits and symbols folded to letters.
    public static func leetFolded(_ form: [UInt32]) -> [UInt32] {
        let table = leetTable
        return form.map { $0 < 0x80 ? table[Int($0)] : $0 }
    }

    /// Whether `form` holds a character ``leetFolded(_:)`` changes (most prompts hold none, and
    /// then the folded form is the normal form: no second form to build and search).
    package static func hasLeet(_ form: [UInt32]) -> Bool {
        let table = leetTable
        for value in form where value < 0x80 && table[Int(value)] != value { return true }
        return false
    }

    /// ``leet`` as a table over ASCII (every leetspeak key is ASCII).
    package static let leetTable: [UInt32] = (0..<UInt32(0x80)).map { leet[$0] ?? $0 }

    /// ``normalForm(_:)`` of `text`, whose UTF-8 bytes are `bytes`: streamed from the tables of
    /// ``visitNormalForm(_:into:)`` when it can be (the same values: ``DetectBeyondTests``), and
    /// through Foundation's decomposition of the whole text only when it cannot (a long base64 run,
    /// invalid UTF-8, a kept combining mark). Decomposing the whole text was the costliest step of
    /// judging a prompt with an accent.
    package static func normalForm(_ text: String, bytes: ByteView) -> [UInt32] {
        if let ascii = asciiNormalForm(bytes) { return ascii }
        var collector = FormCollector()
        collector.values.reserveCapacity(bytes.count)
        if visitNormalForm(bytes, into: &collector) { return collector.values }
        return unicodeNormalForm(text)
    }

    /// All forms of `text` to match in (see the type's discussion).
    public static func forms(_ text: String) -> [[UInt32]] {
        forms(text, normal: normalForm(text))
    }

    /// ``forms(_:)`` given the text's normal form.
    package static func forms(_ text: String, normal: [UInt32]) -> [[UInt32]] {
        var forms = [normal]
        if hasLeet(normal) { forms.append(leetFolded(normal)) }
        for decoded in decodedSegments(text) {
            let inner = normalForm(decoded)
            forms.append(inner)
            if hasLeet(inner) { forms.append(leetFolded(inner)) }
        }
        return forms
    }

    /// Texts hidden in base64 or hex segments of `text`.
    package static func decodedSegments(_ text: String) -> [String] {
        // Most prompts hold no run of 16 base64 characters: find out before copying anything.
        var run = 0
        var longRun = false
        let table = base64Bytes
        for byte in text.utf8 {
            run = table[Int(byte)] ? run + 1 : 0
            if run >= 16 { longRun = true; break }
        }
        guard longRun else { return [] }
        var results: [String] = []
        let bytes = Array(text.utf8)
        // A token is a maximal run of base64 characters; only runs of 16 or more are decoded.
        func decode(_ token: ArraySlice<UInt8>) {
            guard token.count >= 16 else { return }
            if token.count % 2 == 0, token.allSatisfy({ isHex($0) }), let bytes = hexDecoded(Array(token)), isText(bytes) {
                results.append(String(decoding: bytes, as: UTF8.self))
                return
            }
            var base64 = token.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : ($0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0) }
            while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
            if let data = Data(base64Encoded: Data(base64)), isText(Array(data)) {
                results.append(String(decoding: data, as: UTF8.self))
            }
        }
        var start = 0
        for index in bytes.indices where !isBase64(bytes[index]) {
            decode(bytes[start..<index])
            start = index + 1
        }
        decode(bytes[start...])
        return results
    }

    package static func isHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    /// ``isBase64(_:)`` of every byte value, for the loop that looks for a long run.
    private static let base64Bytes: [Bool] = (0..<256).map { isBase64(UInt8($0)) }

    /// Whether `byte` is a base64 character (either alphabet, with padding): letters, digits and
    /// `+ / = - _`. Read from two constant masks, as ``isLeetKey(_:)`` is: the chain of range tests
    /// it was took a twelfth of the streamed normal form's time, at every byte of a prompt beyond
    /// ASCII. ``NormalizerFilterTests`` checks the masks against ``isBase64Definition(_:)``.
    @inline(__always)
    package static func isBase64(_ byte: UInt8) -> Bool {
        guard byte < 0x80 else { return false }
        let mask = byte < 64 ? base64Low : base64High
        return (mask >> UInt64(byte & 63)) & 1 != 0
    }

    /// The base64 characters below 0x40 (digits, `+ - / =`) and from 0x40 (letters, `_`), by bit.
    package static let base64Low: UInt64 = 0x03FF_0000_0000_0000 | 1 << 0x2B | 1 << 0x2D | 1 << 0x2F | 1 << 0x3D
    package static let base64High: UInt64 = 0x07FF_FFFE_07FF_FFFE | 1 << (0x5F - 64)

    /// The definition ``isBase64(_:)`` is held to.
    package static func isBase64Definition(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    package static func hexDecoded(_ digits: [UInt8]) -> [UInt8]? {
        func value(_ byte: UInt8) -> UInt8 {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            default: byte - 0x61 + 10
            }
        }
        return stride(from: 0, to: digits.count, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
    }

    /// Whether decoded bytes look like text: valid UTF-8, at least 90% printable, some letters.
    package static func isText(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self), !text.isEmpty else { return false }
        var printable = 0, letters = 0, total = 0
        for scalar in text.unicodeScalars {
            total += 1
            if scalar.properties.isAlphabetic { letters += 1 }
            if scalar.value >= 0x20 || scalar == "\n" || scalar == "\t" { printable += 1 }
        }
        return printable * 10 >= total * 9 && letters * 2 >= total
    }

    /// Whether `needle` occurs in `haystack` on word boundaries: the scalar before the match and the
    /// one after are not letters or digits (a needle that ends in punctuation needs no end boundary).
    public static func containsWord(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
        guard let last = needle.last else { return false }
        let needsEnd = isWordScalar(last)
        var start = 0
        while let range = FoldedText.firstRange(of: needle, in: haystack, from: start) {
            let before = range.lowerBound == 0 || !isWordScalar(haystack[range.lowerBound - 1])
            let after = !needsEnd || range.upperBound == haystack.count || !isWordScalar(haystack[range.upperBound])
            if before && after { return true }
            start = range.lowerBound + 1
        }
        return false
    }

    /// Whether `form` occurs at `start` of the ASCII bytes of `prompt`, letters compared
    /// lower-cased (as they are in the normal form).
    @inline(__always)
    package static func occurs(_ form: [UInt32], at start: Int, inCaseFolded prompt: ByteView) -> Bool {
        guard start >= 0, start + form.count <= prompt.count else { return false }
        for offset in form.indices {
            let byte = prompt[start + offset]
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            guard UInt32(folded) == form[offset] else { return false }
        }
        return true
    }

    /// Whether `form` occurs anywhere in the ASCII bytes of `prompt`, letters compared lower-cased:
    /// compared in full only where its first value is.
    package static func occurs(_ form: [UInt32], inCaseFolded prompt: ByteView) -> Bool {
        guard let first = form.first, first < 0x80, form.count <= prompt.count else { return false }
        let lower = UInt8(first)
        // The first value's other case, when it is a letter (else the value itself).
        let other = lower >= 0x61 && lower <= 0x7A ? lower & 0xDF : lower
        for start in 0...(prompt.count - form.count) {
            let byte = prompt[start]
            if byte == lower || byte == other, occurs(form, at: start, inCaseFolded: prompt) { return true }
        }
        return false
    }

    /// Words that, within the three words before a phrase, mean it is not asked for: negation
    /// ("please don't ignore the previous email") or reported speech ("my manager told me to
    /// ignore the previous memo").
    package static let cancelling: Set<[UInt32]> = Set([
        "not", "never", "don't", "dont", "don’t", "didn't", "didn’t", "doesn't", "doesn’t", "shouldn't",
        "shouldn’t", "won't", "won’t", "can't", "can’t", "cannot", "mustn't", "mustn’t", "told", "asked",
        "says", "said", "warned",
    ].map { Array($0.unicodeScalars.map(\.value)) })

    /// ``containsWord(_:_:)`` for an occurrence that no word of ``cancelling`` precedes within
    /// three words.
    package static func containsAsked(_ haystack: [UInt32], _ needle: [UInt32]) -> Bool {
        guard let last = needle.last else { return false }
        let needsEnd = isWordScalar(last)
        var start = 0
        while let range = FoldedText.firstRange(of: needle, in: haystack, from: start) {
            let before = range.lowerBound == 0 || !isWordScalar(haystack[range.lowerBound - 1])
            let after = !needsEnd || range.upperBound == haystack.count || !isWordScalar(haystack[range.upperBound])
            if before && after && !isCancelled(haystack, before: range.lowerBound) { return true }
            start = range.lowerBound + 1
        }
        return false
    }

    /// Whether one of the three words before `position` cancels a phrase there.
    package static func isCancelled(_ text: [UInt32], before position: Int) -> Bool {
        var end = position
        for _ in 0..<3 {
            while end > 0, !isWordScalar(text[end - 1]) && !isApostrophe(text[end - 1]) { end -= 1 }
            guard end > 0 else { return false }
            var begin = end
            while begin > 0, isWordScalar(text[begin - 1]) || isApostrophe(text[begin - 1]) { begin -= 1 }
            if cancelling.contains(Array(text[begin..<end])) { return true }
            // A sentence break ends the look-back: "Don't worry. Ignore previous instructions".
            if begin > 0, [0x2E, 0x21, 0x3F, 0x3B, 0x3A].contains(text[begin - 1]) { return false }
            var probe = begin
            while probe > 0, text[probe - 1] == 0x20 { probe -= 1 }
            if probe > 0, [0x2E, 0x21, 0x3F, 0x3B, 0x3A].contains(text[probe - 1]) { return false }
            end = begin
        }
        return false
    }

    static func isApostrophe(_ value: UInt32) -> Bool { value == 0x27 || value == 0x2019 }

    package static func isWordScalar(_ value: UInt32) -> Bool {
        if value < 0x80 {
            return (0x30...0x39).contains(value) || (0x61...0x7A).contains(value) || (0x41...0x5A).contains(value)
        }
        guard let scalar = Unicode.Scalar(value) else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// The phrases (normal forms given) found in any form of `text`, in list order.
    public static func matches(_ text: String, phrases: [(String, [UInt32])]) -> [String] {
        matches(text, phrases: phrases.map { PhraseKey(name: $0.0, form: $0.1) })
    }

    /// ``matches(_:phrases:)`` with the phrases' bigrams worked out once for many texts.
    package static func matches(_ text: String, phrases: [PhraseKey]) -> [String] {
        matches(text, phrases: PhraseTable(phrases))
    }

    /// ``matches(_:phrases:)`` against a phrase table built once for many texts.
    package static func matches(_ text: String, phrases table: PhraseTable) -> [String] {
        matchedIndices(text, phrases: table).map { table.names[$0] }
    }

    /// The indices in `table` of the phrases found in any form of `text`, ascending.
    package static func matchedIndices(_ text: String, phrases table: PhraseTable) -> [Int] {
        matchedIndices(forms: forms(text), phrases: table)
    }

    /// ``matchedIndices(forms:phrases:)`` where the phrases each form may hold are known (`candidates`,
    /// form by form, ascending; nil: any): only those are looked for.
    package static func matchedIndices(forms: [[UInt32]], candidates: [[Int]?], phrases table: PhraseTable) -> [Int] {
        var found: [Int] = []
        for (index, form) in forms.enumerated() {
            guard let phrases = index < candidates.count ? candidates[index] : nil else {
                for phrase in matchedIndices(forms: [form], phrases: table) where !found.contains(phrase) { found.append(phrase) }
                continue
            }
            for phrase in phrases where !found.contains(phrase) && containsAsked(form, table.forms[phrase]) {
                found.append(phrase)
            }
        }
        found.sort()
        return found
    }

    /// ``matchedIndices(_:phrases:)`` in forms already made (``forms(_:)``).
    package static func matchedIndices(forms: [[UInt32]], phrases table: PhraseTable) -> [Int] {
        // A phrase is in a form when it occurs there on word boundaries, not cancelled; only the
        // phrases all of whose bigrams the form holds are searched for.
        var found: [Int] = []
        var possible: [Int] = []
        for form in forms {
            // A long form (a jailbreak of a few thousand characters) sets most bits, so nearly
            // every phrase is possible and searched for from the start: its phrases are found in
            // one pass instead (``askedPhrases(in:table:into:)``).
            guard form.count < Self.scanLength else {
                askedPhrases(in: form, table: table, into: &found)
                continue
            }
            var bits = InlineBits()
            if form.count > 1 {
                for position in 0..<(form.count - 1) { bits.set(PhraseKey.slot(form[position], form[position + 1])) }
            }
            possible.removeAll(keepingCapacity: true)
            table.possible(&bits, into: &possible)
            for phrase in possible where !found.contains(phrase) && containsAsked(form, table.forms[phrase]) {
                found.append(phrase)
            }
        }
        found.sort()
        return found
    }

    /// The length from which ``matchedIndices(forms:phrases:)`` finds a form's phrases in one pass.
    /// On the high-cardinality benchmark's prompts (about 100 bytes) the bigram test rules out
    /// nearly every phrase; on a log of jailbreak prompts (1,200 bytes on average) searching for
    /// each possible phrase was 44 % of `prompt.injection-normalized`'s time.
    package static let scanLength = 256

    /// Appends to `found` the phrases of `table` that `form` holds as ``containsAsked(_:_:)``
    /// finds them (on word boundaries, not cancelled) and `found` does not hold yet, in one pass:
    /// at each position whose bigram is the first of some phrase (by its slot), those phrases are
    /// compared there. Phrases without a bigram are searched for one by one.
    ///
    /// - Complexity: O(n) in the form, plus a comparison per phrase whose first bigram's slot is
    ///   at a position.
    package static func askedPhrases(in form: [UInt32], table: PhraseTable, into found: inout [Int]) {
        for phrase in table.bigramless where !found.contains(phrase) && containsAsked(form, table.forms[phrase]) {
            found.append(phrase)
        }
        guard form.count > 1 else { return }
        for position in 0..<(form.count - 1) {
            let group = table.groupOfSlot[PhraseKey.slot(form[position], form[position + 1])]
            guard group >= 0 else { continue }
            for member in table.groupBounds[Int(group)]..<table.groupBounds[Int(group) + 1] {
                let phrase = table.groupPhrases[member]
                let needle = table.forms[phrase]
                let end = position + needle.count
                guard end <= form.count, !found.contains(phrase) else { continue }
                var offset = 0
                while offset < needle.count, form[position + offset] == needle[offset] { offset += 1 }
                guard offset == needle.count else { continue }
                let before = position == 0 || !isWordScalar(form[position - 1])
                let after = !isWordScalar(needle[needle.count - 1]) || end == form.count || !isWordScalar(form[end])
                if before && after && !isCancelled(form, before: position) { found.append(phrase) }
            }
        }
    }

    /// The first word of `words` (normal forms) in any of a text's `forms`, outside every occurrence of
    /// `phrases` (normal forms): the word that corroborates a context phrase is not the phrase's own
    /// ("no restrictions" does not corroborate itself).
    package static func firstWord(in forms: [[UInt32]], of words: WordSet, outside phrases: [[UInt32]]) -> [UInt32]? {
        // The phrases' occurrences, as ranges (a prompt holds one or two): a word inside one is not
        // looked up.
        var covered: [Range<Int>] = []
        for form in forms {
            covered.removeAll(keepingCapacity: true)
            for phrase in phrases {
                var start = 0
                while let range = FoldedText.firstRange(of: phrase, in: form, from: start) {
                    covered.append(range)
                    start = range.lowerBound + 1
                }
            }
            var index = 0
            while index < form.count {
                guard isWordScalar(form[index]) else { index += 1; continue }
                var end = index + 1
                while end < form.count, isWordScalar(form[end]) { end += 1 }
                if !covered.contains(where: { $0.contains(index) }), let word = words.member(form, index..<end) { return word }
                index = end
            }
        }
        return nil
    }

    /// A set of words (normal forms) asked about word by word: a 4,096-bit filter on each word's
    /// hash rules out nearly every other word without copying it out of its text.
    package struct WordSet: Sendable {
        package let words: Set<[UInt32]>
        private let filter: [UInt64]

        package init(_ words: Set<[UInt32]>) {
            self.words = words
            var filter = [UInt64](repeating: 0, count: 64)
            for word in words {
                let slot = Self.slot(word, word.indices)
                filter[slot >> 6] |= 1 << UInt64(slot & 63)
            }
            self.filter = filter
        }

        /// The word of the set equal to `text[range]`, if any: hashed where it is, copied out only
        /// when the filter holds its hash (a slice of the text per word retained and released the
        /// text's storage).
        package func member(_ text: [UInt32], _ range: Range<Int>) -> [UInt32]? {
            let slot = Self.slot(text, range)
            guard filter[slot >> 6] & (1 << UInt64(slot & 63)) != 0 else { return nil }
            let word = Array(text[range])
            return words.contains(word) ? word : nil
        }

        /// FNV-1a over the scalars of `text[range]`, folded to 12 bits.
        static func slot(_ text: [UInt32], _ range: Range<Int>) -> Int {
            var hash = fnvOffset
            for index in range { hash = (hash ^ UInt64(text[index])) &* fnvPrime }
            return fold(hash)
        }

        private static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
        private static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

        @inline(__always)
        private static func fold(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 52) }

        /// By ASCII byte: its lower-case value when it is a letter or a digit (a word's scalar, as
        /// the normal form has it), else 0.
        private static let wordBytes: InlineArray<128, UInt8> = {
            var table = InlineArray<128, UInt8>(repeating: 0)
            for byte in 0..<128 where isWordScalar(UInt32(byte)) {
                table[byte] = UInt8(truncatingIfNeeded: FoldedText.fold(UInt32(byte)))
            }
            return table
        }()

        /// Whether the normal form of `prompt`, an ASCII text, holds a word of the set that does not
        /// start inside an occurrence of `phrase` (a normal form; nil: none), as
        /// ``PromptNormalizer/firstWord(in:of:outside:)`` looks for one. Read from the bytes,
        /// without the form: a word is a run of letters and digits, lower-cased; it is hashed where
        /// it lies, and copied out only when the filter holds its slot.
        package func holdsWord(inASCII prompt: ByteView, outside phrase: [UInt32]?) -> Bool {
            let table = Self.wordBytes
            var hash = Self.fnvOffset
            var start = -1
            for index in 0...prompt.count {
                let value = index < prompt.count && prompt[index] < 0x80 ? table[Int(prompt[index])] : 0
                if value != 0 {
                    if start < 0 { start = index }
                    hash = (hash ^ UInt64(value)) &* Self.fnvPrime
                    continue
                }
                guard start >= 0 else { continue }
                defer {
                    hash = Self.fnvOffset
                    start = -1
                }
                let slot = Self.fold(hash)
                guard filter[slot >> 6] & (1 << UInt64(slot & 63)) != 0 else { continue }
                if let phrase, Self.starts(at: start, insideOf: phrase, in: prompt) { continue }
                let word = (start..<index).map { UInt32(table[Int(prompt[$0])]) }
                if words.contains(word) { return true }
            }
            return false
        }

        /// Whether position `index` of `prompt` (ASCII) lies inside an occurrence of `phrase`, letters
        /// compared lower-cased.
        private static func starts(at index: Int, insideOf phrase: [UInt32], in prompt: ByteView) -> Bool {
            guard !phrase.isEmpty else { return false }
            for first in max(0, index - phrase.count + 1)...index where PromptNormalizer.occurs(phrase, at: first, inCaseFolded: prompt) {
                return true
            }
            return false
        }
    }

    /// False only when no phrase of `table` can be in any form of `prompt`, decided from the
    /// prompt's bytes without making a `String` or a form of it. For a prompt with no run of 16
    /// base64 characters (then its forms are the normal form and its leetspeak folding), the normal
    /// form is streamed scalar by scalar (``visitNormalForm(_:into:)``: ASCII from a table, other
    /// scalars from their decompositions worked out once) and its bigram bits are computed as
    /// ``matches(_:phrases:)`` computes them (whitespace collapsed, leading and trailing space
    /// dropped), with those of its leetspeak folding when it holds a leetspeak character (in the
    /// same pass); a phrase is possible only when all its bigrams are set in one of them. Any
    /// other prompt (a long base64 run, invalid UTF-8, a kept combining mark whose order the
    /// decomposition could change, a phrase without bigrams) answers true, and
    /// ``matches(_:phrases:)`` decides.
    ///
    /// - Complexity: O(bytes + distinct first bigrams of the phrases + the bigrams of the phrases
    ///   whose first is set); allocates nothing but for a scalar beyond the Basic
    ///   Multilingual Plane (an emoji), decomposed on its own.
    package static func mightMatch(_ prompt: ByteView, phrases table: PhraseTable) -> Bool {
        if table.hasPhraseWithoutBigrams { return true }
        // An ASCII prompt is first tested against the phrases' anchors (``AnchorFilter``), which
        // rule out nearly every prompt without a phrase for a fraction of the bigrams' cost.
        if let anchors = table.anchors {
            switch anchors.verdict(prompt) {
            case .none: return false
            // A phrase has all its anchors in a form: the bigram test lets nearly every such prompt
            // through too (at 4 GB high-cardinality, it stopped 7,903 of 112,144, which the matcher
            // then rules out), so the prompt is not streamed a second time for it.
            case .possible: return true
            // Beyond ASCII: the anchors of the streamed normal form, when every phrase has some.
            case .unknown: if anchors.anchorsEveryPhrase { return anchors.streamedVerdict(prompt) }
            }
        }
        return mightMatchByBigrams(prompt, phrases: table)
    }

    /// What the filters of ``mightMatch(_:phrases:)`` say about a prompt.
    package enum Prefilter {
        /// No phrase is in any form of the prompt.
        case none
        /// An ASCII prompt without a run of 16 base64 characters (its forms are the normal form and,
        /// when it has a leetspeak character, that form's leetspeak folding): the phrases each form
        /// may hold by their anchors (``AnchorFilter/heldPhrases(_:)``), at least one.
        case held(normal: AnchorFilter.PhraseSet, leet: AnchorFilter.PhraseSet?)
        /// Any phrase may be in it.
        case undecided
    }

    /// ``mightMatch(_:phrases:)``, telling for an ASCII prompt which phrases its anchors let
    /// through: the matcher then looks for those alone, in forms it need not look for decoded
    /// segments to make.
    package static func prefilter(_ prompt: ByteView, phrases table: PhraseTable) -> Prefilter {
        if table.hasPhraseWithoutBigrams { return .undecided }
        // Most ASCII prompts hold no phrase's words: turned away before the anchors read each byte.
        if table.gate?.rejects(prompt) == true { return .none }
        // Through optional chaining, not bound with `if let`: bound, the filter (a struct of eight
        // arrays) was copied for every prompt, eight retains and eight releases.
        switch table.anchors?.heldPhrases(prompt) {
        case let .phrases(normal, leet):
            if normal.isEmpty && (leet?.isEmpty ?? true) { return .none }
            return .held(normal: normal, leet: leet)
        // The prompt has decoded forms: the matcher decides.
        case .longBase64Run: return .undecided
        // Beyond ASCII: the anchors of the streamed normal form, when every phrase has some.
        case .notASCII:
            if let verdict = table.anchors?.streamedVerdictWhenAnchored(prompt) { return verdict ? .undecided : .none }
        case nil: break
        }
        return mightMatchByBigrams(prompt, phrases: table) ? .undecided : .none
    }

    /// The bigram test of ``mightMatch(_:phrases:)`` alone (described there).
    package static func mightMatchByBigrams(_ prompt: ByteView, phrases table: PhraseTable) -> Bool {
        if table.hasPhraseWithoutBigrams { return true }
        var sink = BigramSink()
        guard visitNormalForm(prompt, into: &sink) else { return true }
        if table.mayHold(&sink.bits) { return true }
        // A prompt without a leetspeak character has one form; the others' leetspeak bigrams were
        // kept from their first leetspeak character on (a digit in an amount is enough).
        guard sink.sawLeet else { return false }
        return table.mayHold(&sink.leetBits)
    }

    /// What receives the values of a normal form as ``visitNormalForm(_:into:)`` streams them:
    /// folded scalar values, ``space`` for whitespace (not yet collapsed), never ``dropped``.
    package protocol FormSink {
        mutating func take(_ value: UInt32)
    }

    /// The bigram bits of the normal form and of its leetspeak folding, as values stream in. Up to
    /// the first value leetspeak folds the two forms are the same, so the folding's bits start as a
    /// copy of the normal form's there and are kept beside them from then on: one pass for both.
    struct BigramSink: FormSink {
        var bits = InlineBits()
        /// The leetspeak folding's bits; meaningful once ``sawLeet``.
        var leetBits = InlineBits()
        /// ``leetTable``, in a stored property (through the global's accessor it costs a
        /// `swift_once` check per value).
        private let leetFold = PromptNormalizer.leetTable
        private var previous: UInt32 = 0
        private var leetPrevious: UInt32 = 0
        private var started = false
        private var pendingSpace = false
        /// Whether a value leetspeak folds went by: if not, the folded form is the normal form.
        private(set) var sawLeet = false

        init() {}

        @inline(__always)
        mutating func take(_ value: UInt32) {
            if value == PromptNormalizer.space {
                if started { pendingSpace = true }
                return
            }
            let isLeet = PromptNormalizer.isLeetKey(value)
            if isLeet, !sawLeet {
                sawLeet = true
                leetBits = bits
                leetPrevious = previous
            }
            if pendingSpace {
                bits.set(PhraseKey.slot(previous, 0x20))
                previous = 0x20
                if sawLeet {
                    leetBits.set(PhraseKey.slot(leetPrevious, 0x20))
                    leetPrevious = 0x20
                }
                pendingSpace = false
            }
            if started { bits.set(PhraseKey.slot(previous, value)) }
            previous = value
            if sawLeet {
                let folded = isLeet ? leetFold[Int(value)] : value
                if started { leetBits.set(PhraseKey.slot(leetPrevious, folded)) }
                leetPrevious = folded
            }
            started = true
        }
    }

    /// The ASCII values ``leet`` folds, as two 64-bit masks (constants: no table read per value);
    /// ``DetectBeyondTests`` checks them against ``leet``.
    package static let leetKeysLow: UInt64 = 1 << 0x24 | 1 << 0x30 | 1 << 0x31 | 1 << 0x33 | 1 << 0x34 | 1 << 0x35 | 1 << 0x37
    package static let leetKeysHigh: UInt64 = 1 << (0x40 - 64)

    /// Whether leetspeak folds `value` (a key of ``leet``).
    @inline(__always)
    package static func isLeetKey(_ value: UInt32) -> Bool {
        guard value < 0x80 else { return false }
        let mask = value < 64 ? leetKeysLow : leetKeysHigh
        return (mask >> UInt64(value & 63)) & 1 != 0
    }

    /// Collects the normal form (whitespace collapsed as ``normalForm(_:)`` does), for tests.
    package struct FormCollector: FormSink {
        package var values: [UInt32] = []
        private var pendingSpace = false

        package init() {}

        package mutating func take(_ value: UInt32) {
            if value == PromptNormalizer.space {
                if !values.isEmpty { pendingSpace = true }
                return
            }
            if pendingSpace { values.append(0x20); pendingSpace = false }
            values.append(value)
        }
    }

    /// Streams the normal form of `text`'s bytes into `sink`, scalar by scalar: ASCII through
    /// ``asciiForms``, other scalars of the Basic Multilingual Plane through ``decomposition(of:)``,
    /// others decomposed one by one. False, having streamed part of it, when the text has a run of
    /// 16 base64 characters (it has more forms), is not valid UTF-8, or holds a scalar whose
    /// decomposition keeps a combining mark (NFKD reorders marks across scalars, so the form is not
    /// the scalars' forms one after another).
    package static func visitNormalForm<Sink: FormSink>(_ text: ByteView, into sink: inout Sink) -> Bool {
        let ascii = asciiForms
        var run = 0
        var index = 0
        let count = text.count
        // Whether the text is valid UTF-8, checked once it has a scalar beyond ASCII.
        var checked = false
        var decompositions = DecompositionReader()
        while index < count {
            let byte = text[index]
            if byte < 0x80 {
                run = isBase64(byte) ? run + 1 : 0
                if run >= 16 { return false }
                sink.take(ascii[Int(byte)])
                index += 1
                continue
            }
            run = 0
            if !checked {
                guard text.isValidUTF8 else { return false }
                checked = true
            }
            let scalar = Self.scalar(in: text, at: &index)
            let streamed = decompositions.visit(scalar) { value in
                if value == reordered { return false }
                sink.take(value)
                return true
            }
            guard streamed else { return false }
        }
        return true
    }

    /// The scalar of valid UTF-8 `text` whose lead byte (beyond ASCII) is at `index`, which moves
    /// past it.
    @inline(__always)
    package static func scalar(in text: ByteView, at index: inout Int) -> UInt32 {
        // Valid UTF-8: the lead byte gives the length.
        let byte = text[index]
        if byte < 0xE0 {
            defer { index += 2 }
            return UInt32(byte & 0x1F) << 6 | UInt32(text[index + 1] & 0x3F)
        }
        if byte < 0xF0 {
            defer { index += 3 }
            return UInt32(byte & 0x0F) << 12 | UInt32(text[index + 1] & 0x3F) << 6 | UInt32(text[index + 2] & 0x3F)
        }
        defer { index += 4 }
        return UInt32(byte & 0x07) << 18 | UInt32(text[index + 1] & 0x3F) << 12 | UInt32(text[index + 2] & 0x3F) << 6
            | UInt32(text[index + 3] & 0x3F)
    }

    /// The values of scalars' decompositions (``scalarDecomposition(_:)``), those of the Basic
    /// Multilingual Plane from the block read last (the scalars of a text mostly share a few blocks).
    package struct DecompositionReader {
        private var blockNumber = -1
        private var block = DecomposedBlock(starts: [], values: [])

        package init() {}

        /// Calls `body` with each value of `scalar`'s decomposition while it returns true; false when
        /// `body` returned false or `scalar` is not a scalar (a surrogate code point).
        @inline(__always)
        package mutating func visit(_ scalar: UInt32, _ body: (UInt32) -> Bool) -> Bool {
            if scalar < 0x10000 {
                if Int(scalar >> 8) != blockNumber {
                    blockNumber = Int(scalar >> 8)
                    block = decomposedBlocks.block(blockNumber)
                }
                let offset = Int(scalar & 0xFF)
                for position in Int(block.starts[offset])..<Int(block.starts[offset + 1]) where !body(block.values[position]) {
                    return false
                }
                return true
            }
            guard let unicode = Unicode.Scalar(scalar) else { return false }
            for value in scalarDecomposition(unicode) where !body(value) { return false }
            return true
        }
    }

    /// Marks a scalar whose decomposition keeps a combining mark (see ``visitNormalForm(_:into:)``).
    package static let reordered = UInt32.max - 2

    /// The values `scalar` contributes to a normal form on its own: its compatibility
    /// decomposition through ``scalarForm(_:)``, dropped values left out, or ``reordered`` when a
    /// kept value has a non-zero canonical combining class.
    package static func scalarDecomposition(_ scalar: Unicode.Scalar) -> [UInt32] {
        let decomposed = String(Character(scalar)).decomposedStringWithCompatibilityMapping
        var values: [UInt32] = []
        for part in decomposed.unicodeScalars {
            let value = part.value < 0x10000 ? basicPlaneForm(part.value) : scalarForm(part)
            if value == dropped { continue }
            if part.properties.canonicalCombiningClass.rawValue != 0 { return [reordered] }
            values.append(value)
        }
        return values
    }

    /// ``scalarDecomposition(_:)`` of the scalars of one block of 256 of the Basic Multilingual Plane:
    /// scalar `s`'s values are `values[starts[s & 0xFF] ..< starts[(s & 0xFF) + 1]]` (surrogate code
    /// points have none).
    package struct DecomposedBlock: Sendable {
        package var starts: [UInt16]
        package var values: [UInt32]
    }

    /// ``scalarDecomposition(_:)`` of a scalar of the Basic Multilingual Plane, from its block.
    package static func decomposition(of value: UInt32) -> ArraySlice<UInt32> {
        let block = decomposedBlocks.block(Int(value >> 8))
        let offset = Int(value & 0xFF)
        return block.values[Int(block.starts[offset])..<Int(block.starts[offset + 1])]
    }

    /// The blocks of ``decomposition(of:)``, each worked out when a text first holds one of its
    /// scalars (the whole plane took about 11 ms of every hunt that met a scalar beyond ASCII, and
    /// a log's text uses a few blocks).
    ///
    /// A block's scalars are decomposed in one `String`, each after a U+0001 separator, instead of
    /// one `String` per scalar: the separator is a starter, and canonical reordering moves combining
    /// marks only within a run of non-starters, so no mark crosses it and each scalar's part is its
    /// own decomposition.
    package static let decomposedBlocks = PlaneBlocks<DecomposedBlock> { block in
        let first = UInt32(block) << 8
        var members: [UInt32] = []
        var joined = String.UnicodeScalarView()
        for value in first..<(first + 0x100) where value >= 0x80 && !isUnchanged(value) && hangulJamo(value) == nil {
            guard let scalar = Unicode.Scalar(value) else { continue }
            members.append(value)
            joined.append(separator)
            joined.append(scalar)
        }
        let decomposed = String(joined).decomposedStringWithCompatibilityMapping
        var forms = PlaneBlockReader(basicPlaneBlocks)
        // Each member's values, in member order.
        var parts: [[UInt32]] = []
        parts.reserveCapacity(members.count)
        var current: [UInt32] = []
        var isReordered = false
        var started = false
        for part in decomposed.unicodeScalars {
            if part == separator {
                if started { parts.append(isReordered ? [reordered] : current) }
                started = true
                current = []
                isReordered = false
                continue
            }
            let value = part.value < 0x10000 ? forms[part.value] : scalarForm(part)
            if value == dropped { continue }
            if part.properties.canonicalCombiningClass.rawValue != 0 { isReordered = true }
            current.append(value)
        }
        if started { parts.append(isReordered ? [reordered] : current) }
        precondition(parts.count == members.count, "the decomposition kept every separator")
        var starts: [UInt16] = []
        starts.reserveCapacity(0x101)
        var values: [UInt32] = []
        var member = 0
        for value in first..<(first + 0x100) {
            starts.append(UInt16(values.count))
            if value < 0x80 {
                values.append(asciiForms[Int(value)])
            } else if isUnchanged(value) {
                values.append(value)
            } else if let jamo = hangulJamo(value) {
                values.append(contentsOf: jamo.map { forms[$0] })
            } else if member < members.count, members[member] == value {
                values.append(contentsOf: parts[member])
                member += 1
            }
        }
        starts.append(UInt16(values.count))
        return DecomposedBlock(starts: starts, values: values)
    }

    /// Separates the scalars of a block's one decomposition (``decomposedBlocks``).
    private static let separator = Unicode.Scalar(UInt8(1))

    /// 4,096 bigram bits (``PhraseKey/slot(_:_:)``'s range) held inline, so the fast test allocates
    /// nothing.
    struct InlineBits {
        private var words = InlineArray<64, UInt64>(repeating: 0)

        @inline(__always)
        mutating func set(_ slot: Int) { words[slot >> 6] |= 1 << UInt64(slot & 63) }

        @inline(__always)
        func contains(_ slot: Int) -> Bool { words[slot >> 6] & (1 << UInt64(slot & 63)) != 0 }
    }

    /// A phrase, its normal form and the bigram slots of that form.
    package struct PhraseKey: Sendable {
        package let name: String
        package let form: [UInt32]
        package let bigrams: [Int]

        package init(name: String, form: [UInt32]) {
            self.name = name
            self.form = form
            bigrams = form.indices.dropLast().map { Self.slot(form[$0], form[$0 + 1]) }
        }

        /// Which of 4096 bits the adjacent pair (`first`, `second`) sets: a phrase can occur in a
        /// text only if every one of its pairs' bits is set, so most phrases are ruled out without
        /// a substring search.
        @inline(__always)
        package static func slot(_ first: UInt32, _ second: UInt32) -> Int {
            let mixed = (UInt64(first) << 32 | UInt64(second)) &* 0x9E37_79B9_7F4A_7C15
            return Int(truncatingIfNeeded: mixed >> 52)
        }
    }

    /// Phrase keys laid out for the per-text loop: the bigram slots of all phrases in one array,
    /// phrase `i`'s at `slots[bounds[i] ..< bounds[i + 1]]` (no per-phrase copies while matching).
    package struct PhraseTable: Sendable {
        package let names: [String]
        package let forms: [[UInt32]]
        package let slots: [Int]
        package let bounds: [Int]
        /// Whether a phrase is a single character (no bigram to filter by).
        package let hasPhraseWithoutBigrams: Bool
        /// The phrases grouped by the slot of their first bigram: group `g`'s slot is
        /// `firstSlots[g]`, its phrases `groupPhrases[groupBounds[g] ..< groupBounds[g + 1]]`. A
        /// text's bits are tested once per distinct first bigram (a few dozen phrases share a
        /// dozen), and a phrase's other bigrams only when its first is set.
        let firstSlots: [Int]
        let groupBounds: [Int]
        let groupPhrases: [Int]
        /// By bigram slot: the group whose phrases start with a bigram of that slot, or -1.
        let groupOfSlot: [Int32]
        /// The phrases without a bigram (a single character), possible in any text.
        let bigramless: [Int]
        /// The first test of an ASCII prompt; nil when the phrases cannot all be anchored.
        package let anchors: AnchorFilter?
        /// The test in front of the anchors; nil when a phrase has no word to need.
        package let gate: WordGate?

        package init(_ keys: [PhraseKey]) {
            hasPhraseWithoutBigrams = keys.contains { $0.bigrams.isEmpty }
            names = keys.map(\.name)
            forms = keys.map(\.form)
            slots = keys.flatMap(\.bigrams)
            var bounds = [0]
            for key in keys { bounds.append(bounds[bounds.count - 1] + key.bigrams.count) }
            self.bounds = bounds
            var byFirst: [Int: [Int]] = [:]
            var bigramless: [Int] = []
            for (index, key) in keys.enumerated() {
                guard let first = key.bigrams.first else { bigramless.append(index); continue }
                byFirst[first, default: []].append(index)
            }
            self.bigramless = bigramless
            firstSlots = byFirst.keys.sorted()
            var groupBounds = [0]
            var groupPhrases: [Int] = []
            for slot in firstSlots {
                groupPhrases += byFirst[slot] ?? []
                groupBounds.append(groupPhrases.count)
            }
            self.groupBounds = groupBounds
            self.groupPhrases = groupPhrases
            var groupOfSlot = [Int32](repeating: -1, count: 4096)
            for (group, slot) in firstSlots.enumerated() { groupOfSlot[slot] = Int32(group) }
            self.groupOfSlot = groupOfSlot
            anchors = AnchorFilter(forms: forms)
            gate = anchors == nil ? nil : WordGate(forms: forms)
        }

        /// Whether every bigram of some phrase is set in `bits` (phrases without bigrams are
        /// not looked at: see ``hasPhraseWithoutBigrams``). `inout` only so the 512 bytes are lent,
        /// not copied, at every prompt; they are not changed.
        func mayHold(_ bits: inout InlineBits) -> Bool {
            var found = false
            eachPhrase(in: &bits) { _ in
                found = true
                return false
            }
            return found
        }

        /// Appends the phrases every bigram of which is set in `bits`, phrases without bigrams
        /// included (in no particular order). `bits` is lent, not changed (see ``mayHold(_:)``).
        func possible(_ bits: inout InlineBits, into phrases: inout [Int]) {
            phrases += bigramless
            eachPhrase(in: &bits) { phrase in
                phrases.append(phrase)
                return true
            }
        }

        /// Calls `body` with each phrase (with bigrams) every bigram of which is set in `bits`,
        /// group by group, until it returns false.
        @inline(__always)
        private func eachPhrase(in bits: inout InlineBits, _ body: (Int) -> Bool) {
            for group in firstSlots.indices where bits.contains(firstSlots[group]) {
                for member in groupBounds[group]..<groupBounds[group + 1] {
                    let phrase = groupPhrases[member]
                    var all = true
                    for position in (bounds[phrase] + 1)..<bounds[phrase + 1] where !bits.contains(slots[position]) {
                        all = false
                        break
                    }
                    if all, !body(phrase) { return }
                }
            }
        }
    }
}

/// `prompt.injection-normalized`: injection and jailbreak phrasings after normalisation.
package enum InjectionNormalized {
    package static let info = RuleInfo(
        id: RuleID.injectionNormalized, title: "Prompt injection or jailbreak phrasing after normalisation",
        level: "medium", atlas: ["AML.T0051", "AML.T0051.000", "AML.T0054", "AML.T0068", "AML.T0056"], kind: .llm,
        semantics: """
            LLM rows whose prompt, in any of its normalised forms, contains one of injection.normalized_phrases \
            on word boundaries, or one of injection.context_phrases (phrasings ordinary requests use too: \
            "ignore previous transactions", "pretend you are a customer", "no restrictions on withdrawals") \
            corroborated by a second context phrase, by a disguise (the phrase is found only after \
            normalisation), or by one of injection.context_words (instructions, rules, guidelines, filters, \
            restrictions, safety, password, secret, unfiltered, DAN, AI, …) elsewhere in the prompt, outside \
            the phrase. A phrase does not count when one of the three words before it cancels it (negation: not, never, \
            don't, didn't, shouldn't, won't, can't, cannot; reported speech: told, asked, says, said, warned; \
            the look-back stops at a sentence break). Level medium: a phrase list is not calibrated, \
            benign prompts use these phrasings too (prompt.injection-model is the calibrated detector). Forms: NFKD compatibility decomposition (fullwidth and mathematical letters → \
            ASCII) without combining marks, zero-width/invisible characters removed, Cyrillic and Greek \
            look-alikes mapped to Latin, simple case folding, whitespace collapsed; the same with leetspeak \
            folded (1→i 0→o 3→e 4→a 5→s 7→t @→a $→s); and the forms of base64 or hex segments (≥ 16 \
            characters) that decode to text. The phrase list keeps ambiguous single words (disregard, bypass, \
            jailbreak, system prompt) only in context ("disregard previous", "bypass your", "jailbreak mode", \
            "print your system prompt"), so innocent uses are not flagged. metrics: phrase (first in list \
            order), phrases, evasion ("plain" when a phrase is visible without normalisation, else "normalised"), \
            and for a context phrase alone its corroboration ("another phrase", "disguise", or "word: " and the word).
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("normalized_phrases", RuleCatalog.list(settings.normalizedPhrases)),
         ("context_phrases", RuleCatalog.list(settings.injectionContextPhrases)),
         ("context_words", RuleCatalog.list(settings.injectionContextWords))]
    }, body: run)

    /// Every phrase with its normal form: those enough on their own, then the context phrases.
    package static func phrases(_ settings: RuleSettings) -> [(String, [UInt32])] {
        Matcher.phraseNames(settings).map { ($0, PromptNormalizer.normalForm($0)) }
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        try LLMHits.eachText(info, column: "prompt", context: context, judge: judge(context.settings))
    }

    /// The rule's decision on one prompt, with the matcher of `settings` made once.
    package static func judge(_ settings: RuleSettings) -> LLMHits.Judge {
        let matcher = Matcher(settings)
        return { prompt in
            // Most prompts hold no phrase: ruled out from their bytes, without a String.
            switch PromptNormalizer.prefilter(prompt, phrases: matcher.table) {
            case .none: return nil
            case let .held(normal, leet): return matcher.metrics(prompt, held: normal, leet)
            case .undecided: return matcher.metrics(prompt.string, bytes: prompt)
            }
        }
    }

    /// The rule's decision on one prompt, with the phrase table and the corroborating words worked
    /// out once for many prompts.
    package struct Matcher: Sendable {
        package let table: PromptNormalizer.PhraseTable
        /// Phrases `0 ..< strongCount` of the table are enough alone; the others are context phrases.
        let strongCount: Int
        /// Each phrase case-folded, to tell a phrase visible in the plain text from a disguised one.
        let folded: [[UInt32]]
        /// Whether a phrase's case folding is its normal form (not so for a name with a run of
        /// spaces, an accent, a look-alike): then, in a text whose case folding is its normal form,
        /// the phrase is visible wherever it is found.
        let foldedIsForm: [Bool]
        let words: PromptNormalizer.WordSet

        /// The phrases enough alone, then the context phrases not among them.
        static func phraseNames(_ settings: RuleSettings) -> [String] {
            let strong = Set(settings.normalizedPhrases)
            return settings.normalizedPhrases + settings.injectionContextPhrases.filter { !strong.contains($0) }
        }

        package init(_ settings: RuleSettings) {
            let names = Self.phraseNames(settings)
            table = PromptNormalizer.PhraseTable(names.map { PromptNormalizer.PhraseKey(name: $0, form: PromptNormalizer.normalForm($0)) })
            strongCount = settings.normalizedPhrases.count
            folded = names.map(FoldedText.folded)
            foldedIsForm = zip(folded, table.forms).map { $0 == $1 }
            words = PromptNormalizer.WordSet(Set(settings.injectionContextWords.map(PromptNormalizer.normalForm).filter { !$0.isEmpty }))
        }

        /// The hit's metrics for `text`, nil when it is not a hit.
        package func metrics(_ text: String) -> [String: HitValue]? {
            metrics(text, forms: PromptNormalizer.forms(text))
        }

        /// ``metrics(_:)`` of a prompt read from the store as `bytes` (`text` is their string).
        package func metrics(_ text: String, bytes: ByteView) -> [String: HitValue]? {
            metrics(text, forms: PromptNormalizer.forms(text, normal: PromptNormalizer.normalForm(text, bytes: bytes)))
        }

        /// ``metrics(_:)`` of an ASCII text without a run of 16 base64 characters, whose forms may
        /// hold only the phrases `normal` (its normal form) and `leet` (its leetspeak folding; nil
        /// when it has no leetspeak character), from ``PromptNormalizer/prefilter(_:phrases:)``:
        /// the same forms are made (no decoded segment: none is long enough), and only those phrases
        /// are looked for.
        package func metrics(_ text: String, held normal: PromptNormalizer.AnchorFilter.PhraseSet,
                             _ leet: PromptNormalizer.AnchorFilter.PhraseSet?) -> [String: HitValue]? {
            text.withByteView { metrics($0, held: normal, leet) }
        }

        /// ``metrics(_:held:_:)`` of a prompt's bytes, read without making a `String` of them (the
        /// case-folded text that tells a visible phrase from a disguised one is made from the bytes
        /// too, and only when a phrase is found).
        package func metrics(_ prompt: ByteView, held normal: PromptNormalizer.AnchorFilter.PhraseSet,
                             _ leet: PromptNormalizer.AnchorFilter.PhraseSet?) -> [String: HitValue]? {
            if leet == nil, isUncorroborated(prompt, held: normal) { return nil }
            guard let form = PromptNormalizer.asciiNormalForm(prompt) else { return metrics(prompt.string, bytes: prompt) }
            var forms = [form]
            var candidates: [[Int]?] = [normal.indices]
            if PromptNormalizer.hasLeet(form) {
                forms.append(PromptNormalizer.leetFolded(form))
                // Held phrases for the folding come with a leetspeak character; without them, any.
                candidates.append(leet?.indices)
            }
            return metrics(plain: { FoldedText.folded(prompt) }, forms: forms,
                           found: PromptNormalizer.matchedIndices(forms: forms, candidates: candidates, phrases: table))
        }

        /// Whether a prompt (ASCII, no leetspeak character, so its one form is its normal form)
        /// whose anchors hold only context phrases is surely not a hit, decided from its bytes: a
        /// context phrase needs another phrase found, a disguise or a context word to count.
        /// - Another phrase: at most one of the held phrases occurs in the prompt's bytes, case
        ///   folded (found on word boundaries, a phrase occurs there).
        /// - A disguise: when the prompt has no control byte, DEL or run of spaces, its case folding
        ///   is its normal form (leading and trailing spaces aside, which bound no word), so a phrase
        ///   whose case folding is its own normal form is visible wherever it is found.
        /// - A context word: no word of the prompt has a slot of the context words' filter.
        ///
        /// Benign prompts that use a context phrase ("pretend you are a customer…") took the whole
        /// matcher only to be let go: a form, its case folding, the phrases searched, every word
        /// looked up.
        private func isUncorroborated(_ prompt: ByteView, held: PromptNormalizer.AnchorFilter.PhraseSet) -> Bool {
            var previousSpace = false
            for index in 0..<prompt.count {
                let byte = prompt[index]
                if byte < 0x20 || byte >= 0x7F { return false }
                let isSpace = byte == 0x20
                if isSpace && previousSpace { return false }
                previousSpace = isSpace
            }
            // The one held phrase that occurs, if any.
            var lone: [UInt32]?
            for phrase in held.indices {
                guard phrase >= strongCount, foldedIsForm[phrase] else { return false }
                let form = table.forms[phrase]
                guard PromptNormalizer.occurs(form, inCaseFolded: prompt) else { continue }
                if lone != nil { return false }
                lone = form
            }
            return !words.holdsWord(inASCII: prompt, outside: lone)
        }

        private func metrics(_ text: String, forms: [[UInt32]]) -> [String: HitValue]? {
            metrics(plain: { FoldedText.folded(text) }, forms: forms, found: PromptNormalizer.matchedIndices(forms: forms, phrases: table))
        }

        /// The metrics of a text, whose `forms` hold the phrases `found` (indices, ascending);
        /// `plain` makes the text case-folded.
        private func metrics(plain folding: () -> [UInt32], forms: [[UInt32]], found: [Int]) -> [String: HitValue]? {
            guard let first = found.first else { return nil }
            let plain = folding()
            let visible = found.filter { PromptNormalizer.containsWord(plain, folded[$0]) }
            // Indices ascend: the first is a context phrase only when all are. Decided before any
            // metric is made: most prompts with a context phrase alone are not hits.
            var corroboration: String?
            if first >= strongCount {
                if found.count > 1 {
                    corroboration = "another phrase"
                } else if visible.isEmpty {
                    corroboration = "disguise"
                } else if let word = PromptNormalizer.firstWord(in: forms, of: words, outside: found.map { table.forms[$0] }) {
                    corroboration = "word: " + String(String.UnicodeScalarView(word.compactMap(Unicode.Scalar.init)))
                } else {
                    return nil
                }
            }
            var metrics: [String: HitValue] = [
                "phrase": .string(table.names[first]), "phrases": .strings(found.map { table.names[$0] }),
                "evasion": .string(visible.isEmpty ? "normalised" : "plain"),
            ]
            if let corroboration { metrics["corroboration"] = .string(corroboration) }
            return metrics
        }

        /// Whether the rule flags `text`.
        package func flags(_ text: String) -> Bool { metrics(text) != nil }
    }
}
