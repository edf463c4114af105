@testable import FathomDetect
import FathomStore
import Foundation
import Testing

/// The byte-level phrase search of `prompt.injection-phrase` against folding the text into scalars
/// (the reference): the same phrases found, or a hand-over to the reference.
@Suite struct ASCIIPhraseMatcherTests {
    /// Only `ſ` and the Kelvin sign fold into ASCII: the matcher's exactness rests on it.
    @Test func onlyTwoScalarsFoldIntoASCII() {
        var foldsToASCII: [UInt32] = []
        for value in UInt32(0x80)...0x10FFFF where Unicode.Scalar(value) != nil && FoldedText.fold(value) < 0x80 {
            foldsToASCII.append(value)
        }
        #expect(foldsToASCII == [0x17F, 0x212A])
    }

    @Test func agreesWithTheFoldedScalars() {
        var rng = SeededGenerator(seed: 0xA5C11)
        let phraseSets: [[String]] = [
            RuleSettings().injectionPhrases,
            ["ab", "b", "aab", "ABA", "ba", "ab"],
            ["sk", "ks", "s", "k", "mask", "kiss"],
            ["x"], ["hello world", "world", "o w"],
            // Three characters or more (the skip search): shared starts, a phrase inside another,
            // phrases across a space, repeated pairs, and phrases of exactly the shortest length.
            ["mask", "maskmask", "MASKS", "kiss", "ss k", "sk k"],
            ["hello world", "worl", "o wo", "hellO"],
            ["ssk", "sks", "kkk", "a b", "ask"],
        ]
        let pieces = ["a", "b", "A", "B", "s", "k", "S", "K", "ſ", "\u{212A}", " ", "é", "日本", "’", "\u{FF21}",
                      "ignore", "IGNORE previous", "System Prompt", "you are NOW", "disregard", "BYPASS", "jailbreak",
                      "dan mode", "developer mode", "reveal your instructions", "mask", "kiss", "hello", "world", "o",
                      "MASKMASK", "sk", "ss", "kk", "a b", "ask"]
        let invalid: [[UInt8]] = [[0xFF], [0xC5], [0xE2, 0x84], [0x80], [0xC5, 0xBF], [0xE2, 0x84, 0xAA], [0xF0, 0x9F]]
        var handedOver = 0
        for round in 0..<14_000 {
            let phrases = phraseSets[round % phraseSets.count]
            let matcher = ASCIIPhraseMatcher(phrases)!
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...14, using: &rng) {
                if Int.random(in: 0..<10, using: &rng) == 0 {
                    bytes += invalid.randomElement(using: &rng)!
                } else {
                    bytes += Array(pieces.randomElement(using: &rng)!.utf8)
                }
            }
            let folded = FoldedText.folded(String(decoding: bytes, as: UTF8.self))
            let expected = phrases.indices.filter { FoldedText.contains(folded, FoldedText.folded(phrases[$0])) }
            let found = bytes.withUnsafeBytes { raw in
                matcher.matches(ByteView(unsafeStart: raw.baseAddress, count: raw.count))
            }
            guard let found else {
                handedOver += 1
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.unicodeScalars.contains { $0.value == 0x17F || $0.value == 0x212A }, "handed over without a reason")
                continue
            }
            #expect(phrases.indices.filter { found >> UInt64($0) & 1 == 1 } == expected, "\(bytes) with \(phrases)")
        }
        #expect(handedOver > 100, "texts with ſ or K are handed to the folded scalars")
        // Which search each list takes: the skip search only where every phrase has three characters.
        #expect(phraseSets.map { ASCIIPhraseMatcher($0)!.searchesBySkipping } == [true, false, false, false, true, true, true, true])
        #expect(ASCIIPhraseMatcher(["ok", ""]) == nil && ASCIIPhraseMatcher(["naïve"]) == nil)
        #expect(ASCIIPhraseMatcher((0..<65).map { "p\($0)" }) == nil && ASCIIPhraseMatcher((0..<64).map { "p\($0)" }) != nil)
    }
}
