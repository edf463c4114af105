import Foundation
import FathomStore

/// The trained prompt-injection detector: a logistic regression over hashed character 4-grams and
/// word unigrams and bigrams of the normalised prompt bytes, trained by
/// `Training/injection/train.py` (whose `features.py` is the reference for every step here).
///
/// Normalisation, on UTF-8 bytes: ASCII letters lower-cased; tab, line feed, vertical tab, form
/// feed, carriage return, space, `-` and `_` are one space, runs collapse, and the text is framed
/// by one space on each side; every other byte is kept. Group C is the character 4-grams of that
/// stream; group W is its words (maximal runs of `[a-z0-9]` or bytes ≥ 0x80, keyed by FNV-1a 64)
/// and adjacent word pairs. A key goes to bucket `(key &* 0x9E3779B97F4A7C15) >> (64 − bits)`.
/// `logit = bias + scale · (ΣC / √nC + ΣW / √nW)` over int8 weights, so the sums are exact.
///
/// The model file (little-endian), embedded in ``embeddedBase64``:
/// ```
/// 0        8       12      16        20        28       36             36+m
/// +--------+-------+-------+---------+---------+--------+--------------+----------------+
/// |FTHMINJ1|version| bits  | m (JSON)|  scale  |  bias  | JSON metadata| 2^bits × Int8  |
/// +--------+-------+-------+---------+---------+--------+--------------+----------------+
/// ```
/// The metadata holds the decision threshold and the measured validation and test figures.
public struct InjectionModel: Sendable {
    /// The decision threshold and the figures measured when it was chosen.
    public struct Metadata: Sendable, Codable, Equatable {
        public var threshold: Double
        public var targetValidationFPR: Double
        public var features: String
        public var validation: Evaluation
        public var test: Evaluation

        enum CodingKeys: String, CodingKey {
            case threshold, features, validation, test
            case targetValidationFPR = "target_validation_fpr"
        }
    }

    /// Precision, recall and false-positive rate on one labelled split at the threshold.
    public struct Evaluation: Sendable, Codable, Equatable {
        public var positives: Int
        public var negatives: Int
        public var truePositives: Int
        public var falsePositives: Int
        public var recall: Double
        public var precision: Double
        public var fpr: Double

        enum CodingKeys: String, CodingKey {
            case positives, negatives, recall, precision, fpr
            case truePositives = "true_positives"
            case falsePositives = "false_positives"
        }
    }

    public let bits: Int
    public let scale: Double
    public let bias: Double
    public let metadata: Metadata
    /// SHA-256 of the model bytes (lowercase hex): recorded in findings and the evidence report.
    public let sha256: String
    let weights: [Int8]
    /// The weights as the scoring loop reads them: by a feature key's top ``bits`` bits.
    let table: KeyedByteTable

    public var threshold: Double { metadata.threshold }

    static let magic = Array("FTHMINJ1".utf8)

    /// Reads a model file; throws on anything malformed.
    public init(bytes: [UInt8]) throws(DetectError) {
        func fail(_ detail: String) -> DetectError { .model(detail: detail) }
        guard bytes.count >= 36, Array(bytes[0..<8]) == Self.magic else { throw fail("not a Fathom injection model (bad magic)") }
        func u32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        func f64(_ at: Int) -> Double {
            var raw: UInt64 = 0
            for index in 0..<8 { raw |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
            return Double(bitPattern: raw)
        }
        guard u32(8) == 1 else { throw fail("model version \(u32(8)), expected 1") }
        let bits = u32(12)
        guard (8...24).contains(bits) else { throw fail("model has \(bits) hash bits, expected 8 to 24") }
        let metaLength = u32(16)
        let weightsStart = 36 + metaLength
        guard weightsStart + (1 << bits) == bytes.count else {
            throw fail("model is \(bytes.count) bytes, expected \(weightsStart + (1 << bits))")
        }
        let metadata: Metadata
        do { metadata = try JSONDecoder().decode(Metadata.self, from: Data(bytes[36..<weightsStart])) } catch {
            throw fail("model metadata is not the expected JSON: \(error)")
        }
        self.bits = bits
        scale = f64(20)
        bias = f64(28)
        self.metadata = metadata
        weights = bytes[weightsStart...].map { Int8(bitPattern: $0) }
        table = KeyedByteTable(weights)
        var hasher = SHA256Stream()
        hasher.update(bytes)
        sha256 = hasher.finalize()
    }

    /// The model compiled into Fathom.
    public static let shipped: InjectionModel = {
        guard let data = Data(base64Encoded: embeddedBase64, options: .ignoreUnknownCharacters) else {
            preconditionFailure("the embedded injection model is not base64")
        }
        do { return try InjectionModel(bytes: Array(data)) } catch {
            preconditionFailure("the embedded injection model does not load: \(error)")
        }
    }()

    // MARK: Scoring

    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15
    static let seedChar: UInt64 = 0x243F_6A88_85A3_08D3
    static let seedUnigram: UInt64 = 0x1319_8A2E_0370_7344
    static let seedBigram: UInt64 = 0xA409_3822_299F_31D0
    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x100_0000_01B3
    static let space: UInt8 = 0x20

    /// Each byte's normal form: 0x20 for the separators, lower case for ASCII letters. Of fixed
    /// size and read by a byte: no bounds check, and no register held for it in the byte loop.
    static let normalTable: InlineArray<256, UInt8> = {
        var table = InlineArray<256, UInt8>(repeating: 0)
        for value in 0..<256 {
            switch value {
            case 9...13, 0x20, 0x2D, 0x5F: table[value] = 0x20
            case 0x41...0x5A: table[value] = UInt8(value + 0x20)
            default: table[value] = UInt8(value)
            }
        }
        return table
    }()

    /// Whether a normalised byte belongs to a word.
    @inline(__always)
    static func isWord(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }

    /// The logit of a prompt's bytes. Allocation-free: one pass over the bytes, hashing as it goes.
    ///
    /// The normalised stream is the opening separator, then every mapped byte but a separator right
    /// after another (or after the opening one), then a closing separator unless a trailing one was
    /// emitted already (for an empty text the second separator would complete no feature): the
    /// framed, collapsed stream of the definition above.
    ///
    /// Letters, separators and punctuation alternate with no pattern a branch predictor could
    /// learn, so the loop is written not to branch on them: a dropped separator is masked out of
    /// the 4-gram sums, and the word hash is extended or kept by a select. The one branch written
    /// is a word's end, once a word, where its unigram and bigram weights are read. The compiler
    /// makes branches of some of the selects all the same; a form with explicit masks and one table
    /// load for a byte's class kept more values live than there are registers and was slower (the
    /// detector alone 0.29 → 0.42 CPU-s on the 4 GB benchmark store, thirty-fifth pass).
    ///
    /// - Complexity: O(n) in the bytes, one weight read per byte and two per word.
    @inline(__always)
    public func logit<Bytes: ScoredBytes>(_ text: Bytes) -> Double {
        let table = self.table
        // The opening separator: the window holds it, no 4-gram is complete, no word is open.
        //
        // The loop keeps no state the window already holds. The window's low byte is the last
        // byte kept, and a separator is dropped only after a separator, so the last byte *seen*
        // was a separator exactly when that byte is one; and it was a word byte exactly when that
        // byte is one (a dropped byte is a separator, and so is the byte kept before it). A
        // previous word exists once a word has been counted. Holding "last was a separator", "in
        // a word" and "has a previous word" apart, as the loop did, kept more values live than
        // there are registers: the 4-gram sum lived on the stack, one load and store a byte.
        var window = UInt32(Self.space)
        var emitted = 1
        var charSum = 0
        var wordSum = 0
        var wordCount = 0
        var wordHash: UInt64 = 0
        var previousWord: UInt64 = 0
        /// Emits one mapped byte (a separator after a separator is dropped).
        @inline(__always)
        func step(_ byte: UInt8) {
            let last = UInt8(truncatingIfNeeded: window)
            let keep = !(byte == Self.space && last == Self.space)
            let next = window << 8 | UInt32(byte)
            window = keep ? next : window
            emitted &+= keep ? 1 : 0
            let counted = keep && emitted >= 4
            let charKey = (UInt64(window) ^ Self.seedChar) &* Self.golden
            let weight = table.value(forKey: charKey)
            charSum &+= counted ? weight : 0
            // A dropped separator neither extends nor ends a word: none is open after a separator.
            let inWord = Self.isWord(last)
            let isWordByte = Self.isWord(byte)
            if inWord && !isWordByte {
                wordSum &+= table.value(forKey: (wordHash ^ Self.seedUnigram) &* Self.golden)
                if wordCount > 0 {
                    let key = (previousWord &* Self.fnvPrime) ^ wordHash ^ Self.seedBigram
                    wordSum &+= table.value(forKey: key &* Self.golden)
                    wordCount &+= 1
                }
                wordCount &+= 1
                previousWord = wordHash
            }
            let open = inWord ? wordHash : Self.fnvOffset
            let extended = (open ^ UInt64(byte)) &* Self.fnvPrime
            wordHash = isWordByte ? extended : wordHash
        }
        let count = text.count
        var index = 0
        while index < count {
            step(Self.normalTable[Int(text[index])])
            index += 1
        }
        // The closing separator, unless a trailing one was emitted.
        if UInt8(truncatingIfNeeded: window) != Self.space { step(Self.space) }
        // Every emitted byte from the fourth completed a 4-gram (the count is not kept per byte:
        // one running value fewer in the loop).
        let charCount = max(0, emitted - 3)
        var total = 0.0
        if charCount > 0 { total += Double(charSum) / Double(charCount).squareRoot() }
        if wordCount > 0 { total += Double(wordSum) / Double(wordCount).squareRoot() }
        return bias + scale * total
    }

    /// The probability that a prompt is an injection or jailbreak attempt.
    public func score<Bytes: ScoredBytes>(_ text: Bytes) -> Double {
        1 / (1 + Foundation.exp(-logit(text)))
    }

    public func score(_ text: String) -> Double { score(Array(text.utf8)) }
    public func logit(_ text: String) -> Double { logit(Array(text.utf8)) }

    // MARK: Explanation

    /// A feature of a prompt and what it added to the logit.
    public struct Contribution: Sendable, Equatable {
        public var feature: String
        public var weight: Double
    }

    /// The features that pushed `text` towards "injection" most, strongest first (for a hit:
    /// allocates, unlike ``logit(_:)``). Character 4-grams are shown in quotes, words bare. A
    /// feature counts once for each time it occurs; features whose texts are equal (`String`
    /// equality: canonical equivalence, invalid bytes repaired) are one.
    ///
    /// Until the thirty-eighth pass every feature was made a `String` and summed in a dictionary
    /// keyed by it: 0.34 ms a hit on long jailbreak prompts, 81 % of the rule's time on a log of
    /// attacks. Now a feature of ASCII bytes is keyed by its bytes, in small tables (two ASCII
    /// texts are equal only when their bytes are), and only a feature with a byte beyond ASCII is
    /// made a `String` to be keyed by it (``strongestFeaturesByText(_:limit:)`` keys them all so).
    /// The two kinds never meet: a text beyond ASCII equals an ASCII one only when each of its
    /// scalars decomposes canonically to one ASCII scalar, which only U+037E (`;`), U+1FEF
    /// (`` ` ``) and U+212A (`K`) do (``asciiEquivalents``). A 4-gram beyond ASCII then has fewer
    /// than four scalars, and a word beyond ASCII holds `;`, `` ` `` or `K`, none of which is in an
    /// ASCII word of the normalised bytes. Totals are summed occurrence by occurrence in order (the
    /// same doubles), and the features that tie with or beat the `limit`-th are ordered as before;
    /// `InjectionModelTests` holds the two paths to the same answers.
    ///
    /// - Complexity: O(n) in the bytes, and O(k log k) in the k features with a positive weight.
    public func strongestFeatures(_ text: String, limit: Int = 5) -> [Contribution] {
        let normal = Self.normalBytes(text)
        guard limit > 0 else { return [] }
        /// A distinct feature, by where it first occurs: a 4-gram or a word at `start ..< end`; a
        /// word pair's second word at `secondStart ..< secondEnd` (empty for the others).
        struct Feature {
            var start: Int
            var end: Int
            var secondStart: Int
            var secondEnd: Int
            var quoted: Bool
            var total: Double
        }
        func shown(_ feature: Feature) -> String {
            let first = String(decoding: normal[feature.start..<feature.end], as: UTF8.self)
            if feature.quoted { return "\"" + first + "\"" }
            guard feature.secondEnd > feature.secondStart else { return first }
            return first + " " + String(decoding: normal[feature.secondStart..<feature.secondEnd], as: UTF8.self)
        }
        var features: [Feature] = []
        features.reserveCapacity(normal.count * 2)
        // Features beyond ASCII, by text.
        var byText: [String: Int] = [:]
        /// Adds `term` to the feature `candidate` is an occurrence of, keyed by text.
        func addByText(_ candidate: Feature, _ term: Double) {
            let key = shown(candidate)
            if let slot = byText[key] {
                features[slot].total += term
            } else {
                byText[key] = features.count
                features.append(candidate)
            }
        }
        // An open-addressing table of feature slots (+1; 0 is empty) by 64-bit key, at half load
        // at most: a text of n bytes has fewer than n 4-grams, and fewer than n words and pairs.
        var capacityBits = 4
        while 1 << capacityBits < normal.count * 2 { capacityBits += 1 }
        let mask = (1 << capacityBits) - 1
        let tableShift = UInt64(64 - capacityBits)
        var slots = [Int32](repeating: 0, count: 1 << capacityBits)
        var keys = [UInt64](repeating: 0, count: 1 << capacityBits)

        let charNorm = Double(max(normal.count - 3, 1)).squareRoot()
        // Every occurrence of an ASCII feature adds the same term, so one whose weight does not
        // raise the logit never has a positive total, and is not kept (most weights are 0). The
        // 4-grams kept are listed first by where they end, in a loop without a branch on the
        // weights (against the same test written as a branch, a small gain at most). The weights
        // are read from ``table``, as the score read them just before: the entries it brought into
        // the cache (the array copy of the weights was a second 256 KB competing for it).
        let raisedBy: (positive: Int, negative: Int) = (scale > 0 ? 1 : 0, scale < 0 ? 1 : 0)
        var kept = [Int32](repeating: 0, count: normal.count)
        var keptCount = 0
        var window: UInt32 = 0
        for index in normal.indices {
            window = window << 8 | UInt32(normal[index])
            let weight = table.value(forKey: (UInt64(window) ^ Self.seedChar) &* Self.golden)
            kept[keptCount] = Int32(truncatingIfNeeded: index)
            let raises = (weight > 0 ? raisedBy.positive : 0) | (weight < 0 ? raisedBy.negative : 0)
            let beyondASCII = window & 0x8080_8080 != 0 ? 1 : 0
            keptCount &+= index >= 3 ? raises | beyondASCII : 0
        }
        for index in kept[0..<keptCount].lazy.map(Int.init) {
            window = UInt32(normal[index - 3]) << 24 | UInt32(normal[index - 2]) << 16 | UInt32(normal[index - 1]) << 8
                | UInt32(normal[index])
            let term = scale * Double(table.value(forKey: (UInt64(window) ^ Self.seedChar) &* Self.golden)) / charNorm
            let ascii = window & 0x8080_8080 == 0
            let occurrence = Feature(start: index - 3, end: index + 1, secondStart: 0, secondEnd: 0, quoted: true, total: term)
            guard ascii else {
                addByText(occurrence, term)
                continue
            }
            // The 4 bytes are the key (tagged apart from the words' keys, which the next table holds).
            let key = UInt64(window)
            var probe = Int(truncatingIfNeeded: (key &* Self.golden) >> tableShift)
            while true {
                let slot = Int(slots[probe])
                if slot == 0 {
                    slots[probe] = Int32(features.count + 1)
                    keys[probe] = key
                    features.append(occurrence)
                    break
                }
                if keys[probe] == key {
                    features[slot - 1].total += term
                    break
                }
                probe = (probe + 1) & mask
            }
        }
        // Words and pairs of adjacent words: (start, end, second start, second end, key, whether all
        // their bytes are ASCII).
        typealias Word = (start: Int, end: Int, secondStart: Int, secondEnd: Int, hash: UInt64, ascii: Bool)
        var words: [Word] = []
        // A word and its pair with the one before take two bytes at least (a byte and a separator).
        words.reserveCapacity(normal.count)
        var previous: (hash: UInt64, start: Int, end: Int, ascii: Bool)?
        var wordStart: Int?
        var wordASCII = true
        var hash = Self.fnvOffset
        for index in normal.indices {
            let byte = normal[index]
            if Self.isWord(byte) {
                if wordStart == nil { wordStart = index; hash = Self.fnvOffset; wordASCII = true }
                hash = (hash ^ UInt64(byte)) &* Self.fnvPrime
                wordASCII = wordASCII && byte < 0x80
            } else if let first = wordStart {
                words.append((first, index, 0, 0, hash ^ Self.seedUnigram, wordASCII))
                if let previous {
                    let pair = (previous.hash &* Self.fnvPrime) ^ hash ^ Self.seedBigram
                    words.append((previous.start, previous.end, first, index, pair, previous.ascii && wordASCII))
                }
                previous = (hash, first, index, wordASCII)
                wordStart = nil
            }
        }
        slots = [Int32](repeating: 0, count: 1 << capacityBits)
        let wordNorm = Double(max(words.count, 1)).squareRoot()
        /// Whether two occurrences are of the same word or pair, by their bytes.
        func same(_ feature: Feature, _ word: Word) -> Bool {
            feature.end - feature.start == word.end - word.start
                && feature.secondEnd - feature.secondStart == word.secondEnd - word.secondStart
                && normal[feature.start..<feature.end].elementsEqual(normal[word.start..<word.end])
                && normal[feature.secondStart..<feature.secondEnd].elementsEqual(normal[word.secondStart..<word.secondEnd])
        }
        for word in words {
            let term = scale * Double(table.value(forKey: word.hash &* Self.golden)) / wordNorm
            // As for the 4-grams: an ASCII word or pair that does not raise the logit is not kept.
            if word.ascii, !(term > 0) { continue }
            let occurrence = Feature(start: word.start, end: word.end, secondStart: word.secondStart,
                                     secondEnd: word.secondEnd, quoted: false, total: term)
            guard word.ascii else {
                addByText(occurrence, term)
                continue
            }
            var probe = Int(truncatingIfNeeded: (word.hash &* Self.golden) >> tableShift)
            while true {
                let slot = Int(slots[probe])
                if slot == 0 {
                    slots[probe] = Int32(features.count + 1)
                    keys[probe] = word.hash
                    features.append(occurrence)
                    break
                }
                // Equal keys with other bytes (a collision of the 64-bit hashes) probe on.
                if keys[probe] == word.hash, same(features[slot - 1], word) {
                    features[slot - 1].total += term
                    break
                }
                probe = (probe + 1) & mask
            }
        }
        // The features at or above the `limit`-th largest positive total, as texts, ordered as
        // ``strongestFeaturesByText(_:limit:)`` orders them.
        // The cut: the `limit`-th largest positive total, kept in a short sorted list (largest
        // first) as the totals go by; sorting all of them took a sixth of the rule's time.
        var top: [Double] = []
        top.reserveCapacity(min(limit, 64) + 1)
        var positives = 0
        for feature in features where feature.total > 0 {
            positives += 1
            let total = feature.total
            if top.count == limit, let last = top.last, total <= last { continue }
            var index = top.count
            while index > 0, top[index - 1] < total { index -= 1 }
            top.insert(total, at: index)
            if top.count > limit { top.removeLast() }
        }
        guard positives > 0, let cut = top.last else { return [] }
        var strongest: [(key: String, value: Double)] = []
        for feature in features where feature.total > 0 && feature.total >= cut {
            strongest.append((shown(feature), feature.total))
        }
        strongest.sort { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return strongest.prefix(limit).map { Contribution(feature: $0.key, weight: $0.value) }
    }

    /// The scalars beyond ASCII whose canonical decomposition is ASCII (GREEK QUESTION MARK → `;`,
    /// GREEK VARIA → `` ` ``, KELVIN SIGN → `K`), as UTF-8, with the ASCII byte each equals: the
    /// only way a text beyond ASCII is equal to an ASCII one (``strongestFeatures(_:limit:)``).
    package static let asciiEquivalents: [(utf8: [UInt8], ascii: UInt8)] = [
        ([0xCD, 0xBE], 0x3B), ([0xE1, 0xBF, 0xAF], 0x60), ([0xE2, 0x84, 0xAA], 0x4B),
    ]

    /// ``strongestFeatures(_:limit:)`` with every feature keyed by its text: the definition the
    /// ASCII path is held to.
    package func strongestFeaturesByText(_ text: String, limit: Int = 5) -> [Contribution] {
        strongestFeatures(normal: Self.normalBytes(text), limit: limit)
    }

    /// The normalised bytes of `text`, framed by a space on each side (the type's definition).
    static func normalBytes(_ text: String) -> [UInt8] {
        text.withByteView(normalBytes)
    }

    /// ``normalBytes(_:)`` of a text's UTF-8. Written into an array of the most bytes it can take
    /// (the text's and the two frames), then cut: appending byte by byte checked the array's
    /// capacity, and grew and copied it, for each byte of a prompt.
    static func normalBytes(_ text: ByteView) -> [UInt8] {
        var normal = [UInt8](repeating: Self.space, count: text.count + 2)
        var count = 1
        var pendingSpace = false
        // The table is read in place, as ``logit(_:)`` reads it: bound to a local first, or read
        // in a loop over `String.UTF8View`, its 256 bytes were copied (`memcpy`) for every byte.
        for index in 0..<text.count {
            let byte = Self.normalTable[Int(text[index])]
            if byte == Self.space { pendingSpace = true; continue }
            // The space is there already: `normal` starts as spaces, and is written in order.
            if pendingSpace && count > 1 { count += 1 }
            pendingSpace = false
            normal[count] = byte
            count += 1
        }
        // The closing space (already in place).
        normal.removeLast(normal.count - count - 1)
        return normal
    }

    /// The features of the normalised bytes `normal`, each keyed by its `String`.
    private func strongestFeatures(normal: [UInt8], limit: Int) -> [Contribution] {
        let shift = UInt64(64 - bits)
        func bucket(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* Self.golden) >> shift) }
        var chars: [(String, Int)] = []
        var window: UInt32 = 0
        for (index, byte) in normal.enumerated() {
            window = window << 8 | UInt32(byte)
            if index >= 3 {
                let gram = String(decoding: normal[(index - 3)...index], as: UTF8.self)
                chars.append(("\"" + gram + "\"", bucket(UInt64(window) ^ Self.seedChar)))
            }
        }
        var words: [(String, Int)] = []
        var previous: (hash: UInt64, word: String)?
        var start: Int?
        var hash = Self.fnvOffset
        for (index, byte) in normal.enumerated() {
            if Self.isWord(byte) {
                if start == nil { start = index; hash = Self.fnvOffset }
                hash = (hash ^ UInt64(byte)) &* Self.fnvPrime
            } else if let first = start {
                let word = String(decoding: normal[first..<index], as: UTF8.self)
                words.append((word, bucket(hash ^ Self.seedUnigram)))
                if let previous {
                    words.append((previous.word + " " + word, bucket((previous.hash &* Self.fnvPrime) ^ hash ^ Self.seedBigram)))
                }
                previous = (hash, word)
                start = nil
            }
        }
        var totals: [String: Double] = [:]
        for (group, norm) in [(chars, Double(max(chars.count, 1)).squareRoot()), (words, Double(max(words.count, 1)).squareRoot())] {
            for (feature, index) in group { totals[feature, default: 0] += scale * Double(weights[index]) / norm }
        }
        return totals.filter { $0.value > 0 }
            .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(limit).map { Contribution(feature: $0.key, weight: $0.value) }
    }
}

/// Bytes the detector can score: a segment's lent text or an array.
public protocol ScoredBytes {
    var count: Int { get }
    subscript(_ index: Int) -> UInt8 { get }
}

extension ByteView: ScoredBytes {}
extension Array: ScoredBytes where Element == UInt8 {}
