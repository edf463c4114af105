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

    /// The filter is exact on the forms it streams: for a prompt it can stream (no long base64 run,
    /// valid UTF-8, no kept combining mark) it says "maybe" exactly when every bigram of some
    /// phrase is in the normal form or in its leetspeak folding, as worked out from
    /// ``PromptNormalizer/forms(_:)``; for any other prompt it says "maybe". Fails if the grouping
    /// by first bigram or the second, leetspeak pass dropped or invented a phrase.
    @Test func theFilterIsExactOnTheFormsItStreams() {
        let phrases = InjectionNormalized.phrases(RuleSettings())
        let keys = phrases.map { PromptNormalizer.PhraseKey(name: $0.0, form: $0.1) }
        let table = PromptNormalizer.PhraseTable(keys)
        let pieces = ["ignore", "1gn0r3", "previous", "pr3v10us", "all", "@ll", "rules", "ru1es", "you are now", "dan",
                      "m0de", "mode", "jailbreak", "bypass", "by pass", "your", "y0ur", "filter", "f1lter", "the", "$afety",
                      "safety", "Ｉｇｎｏｒｅ", "ıgnore", "forget", "f0rget", "everything", "3v3rything", "é", "日本", "12345",
                      "a", "\u{200B}", "pretend", "you", "are", "roleplay", "as", "no", "restrictions", "r3strictions"]
        var generator = SeededGenerator(seed: 5)
        var streamed = 0, maybes = 0, leetOnly = 0
        for _ in 0..<8_000 {
            let count = Int.random(in: 1...9, using: &generator)
            let prompt = (0..<count).map { _ in pieces.randomElement(using: &generator) ?? "" }.joined(separator: " ")
            var copy = prompt
            let (maybe, visited, values) = copy.withUTF8 { buffer in
                let view = unsafe ByteView(unsafeStart: buffer.baseAddress, count: buffer.count)
                var collector = PromptNormalizer.FormCollector()
                let visited = PromptNormalizer.visitNormalForm(view, into: &collector)
                return (PromptNormalizer.mightMatch(view, phrases: table), visited, collector.values)
            }
            guard visited else {
                #expect(maybe, "not streamable, so maybe: \(prompt)")
                continue
            }
            streamed += 1
            let normal = PromptNormalizer.normalForm(prompt)
            #expect(values == normal, "\(prompt)")
            let forms = [normal, PromptNormalizer.leetFolded(normal)]
            let bigrams = forms.map { form in Set(form.indices.dropLast().map { PromptNormalizer.PhraseKey.slot(form[$0], form[$0 + 1]) }) }
            let expected = keys.contains { key in bigrams.contains { Set(key.bigrams).isSubset(of: $0) } }
            #expect(maybe == expected, "\(prompt)")
            if expected { maybes += 1 }
            if expected && !keys.contains(where: { Set($0.bigrams).isSubset(of: bigrams[0]) }) { leetOnly += 1 }
        }
        // The prompts exercise both answers and the leetspeak pass.
        #expect(streamed > 4_000 && maybes > 500 && streamed - maybes > 500 && leetOnly > 50,
                "streamed \(streamed), maybe \(maybes), leetspeak only \(leetOnly)")
    }

    /// The constant masks of leetspeak keys are ``PromptNormalizer/leet``'s keys.
    @Test func theLeetMasksAreTheLeetTable() {
        for value in UInt32(0)..<0x300 {
            #expect(PromptNormalizer.isLeetKey(value) == (PromptNormalizer.leet[value] != nil), "\(value)")
        }
    }

    /// A word set finds each of its words in a text, and no other word.
    @Test func theWordSetFindsItsWordsOnly() {
        let words = RuleSettings().injectionContextWords.map(PromptNormalizer.normalForm).filter { !$0.isEmpty }
        let set = PromptNormalizer.WordSet(Set(words))
        for word in words {
            let text = [UInt32(0x20)] + word + [0x20]
            #expect(set.member(text[1..<(text.count - 1)]) == word)
        }
        let others = ["account", "balance", "instruct", "rule", "safe", "passwords", "a", "d", "transfer", "aii"]
        for other in others {
            let form = PromptNormalizer.normalForm(other)
            #expect(set.member(form[...]) == nil, "\(other)")
        }
    }
}

