import FathomStore
import Testing
@testable import FathomDetect

/// ``PromptNormalizer/mightMatch(_:phrases:)`` is a filter in front of
/// ``PromptNormalizer/matches(_:phrases:)``: it may say "maybe" for a prompt without a phrase, never
/// "no" for a prompt with one. Checked on the default phrase list over seeded prompts built from
/// the phrases themselves (spaced, case-mixed, leetspeak, split, negated), filler words, base64
/// runs and non-ASCII text.
@Suite struct NormalizerFilterTests {
    @Test func theFilterNeverRulesOutAMatch() {
        let phrases = InjectionNormalized.phrases(RuleSettings())
        let table = PromptNormalizer.PhraseTable(phrases.map { PromptNormalizer.PhraseKey(name: $0.0, form: $0.1) })
        let words = ["please", "the", "account", "ignore", "previous", "all", "rules", "you", "are", "now", "pretend",
                     "don't", "system", "prompt", "print", "your", "1gn0r3", "pr3v10us", "instructions", "new", "\t", "  ",
                     "QUJDREVGR0hJSktMTU5PUA==", "é", "Ｉｇｎｏｒｅ", "@ll", "ru1es", ".", "?", "jailbreak", "mode"]
        var generator = SeededGenerator(seed: 21)
        var prompts = phrases.map(\.0) + phrases.map { "  " + $0.0.uppercased() + "  " } + ["", " ", "a", "ignore"]
        for _ in 0..<6_000 {
            let count = Int.random(in: 0...14, using: &generator)
            var text = (0..<count).map { _ in words.randomElement(using: &generator) ?? "" }
                .joined(separator: Bool.random(using: &generator) ? " " : "  ")
            if Int.random(in: 0..<4, using: &generator) == 0, let phrase = phrases.randomElement(using: &generator) {
                text += " " + phrase.0
            }
            prompts.append(text)
        }
        var ruledOut = 0
        for prompt in prompts {
            let found = PromptNormalizer.matches(prompt, phrases: table)
            var copy = prompt
            let maybe = copy.withUTF8 { bytes in
                unsafe PromptNormalizer.mightMatch(ByteView(unsafeStart: bytes.baseAddress, count: bytes.count), phrases: table)
            }
            if !maybe {
                ruledOut += 1
                #expect(found.isEmpty, "ruled out but matches \(found): \(prompt)")
            }
        }
        // The filter does its job: most phrase-free prompts never reach the full test.
        #expect(ruledOut > prompts.count / 4)
    }
}
