import FathomStore
import FathomSupport
import FathomCatalog

/// `prompt.injection-phrase`: the playbook's "prompt injection patterns in LLM logs" query.
package enum InjectionPhrase {
    package static let info = RuleInfo(
        id: RuleID.injectionPhrase, title: "Prompt injection phrase in an LLM prompt", level: "medium",
        atlas: ["AML.T0051", "AML.T0051.000", "AML.T0054"], kind: .llm, isPlaybook: true,
        semantics: """
            LLM rows whose prompt (the decoded text; for OpenAI-style messages, the last user message) \
            contains one of the phrases, case-insensitively: ignore previous instructions, ignore above, \
            system prompt, you are now, disregard, bypass, jailbreak, DAN mode, developer mode, reveal your \
            instructions. Plain substring match (like KQL has_any/contains): no word boundaries, no Unicode \
            normalisation; case folding is simple folding per Unicode scalar. metrics.phrase is the first \
            matching phrase in list order, metrics.phrases all of them. The rule flags innocent uses too \
            ("bypass a clogged drain"); prompt.injection-normalized is the sharper rule. One hit per row.
            """,
        kql: """
            LLMGatewayLogs
            | where Prompt has_any ("ignore previous instructions", "ignore above", "system prompt",
                "you are now", "disregard", "bypass", "jailbreak", "DAN mode", "developer mode",
                "reveal your instructions")
            // has_any matches whole terms; Fathom matches substrings, as `contains` would, so
            // "bypassed" is a hit too. Use `Prompt contains "…" or …` to reproduce it exactly.
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("phrases", RuleCatalog.list(settings.injectionPhrases))]
    }, body: run)

    /// The phrases of `phrases` that occur in `prompt` (folded), in list order.
    package static func matches(_ prompt: [UInt32], phrases: [(String, [UInt32])]) -> [String] {
        phrases.compactMap { FoldedText.contains(prompt, $0.1) ? $0.0 : nil }
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        try LLMHits.eachText(info, column: "prompt", context: context, judge: judge(context.settings))
    }

    /// The rule's decision on one prompt, its phrases folded once. ASCII phrases (the default
    /// list) are looked for in the prompt's bytes; the prompt is folded into scalars only when it
    /// holds one of the two non-ASCII scalars that fold to ASCII, or when a phrase is not ASCII.
    package static func judge(_ settings: RuleSettings) -> LLMHits.Judge {
        let phrases = settings.injectionPhrases.map { ($0, FoldedText.folded($0)) }
        @Sendable func metrics(_ found: [String]) -> [String: HitValue]? {
            guard let first = found.first else { return nil }
            return ["phrase": .string(first), "phrases": .strings(found)]
        }
        guard let matcher = ASCIIPhraseMatcher(settings.injectionPhrases) else {
            return { prompt in metrics(matches(FoldedText.folded(prompt), phrases: phrases)) }
        }
        // The matcher is captured unwrapped: bound from an optional inside the closure, it was
        // copied for every prompt (a retain and a release of each of its tables).
        return { prompt in
            guard let bits = matcher.matches(prompt) else {
                return metrics(matches(FoldedText.folded(prompt), phrases: phrases))
            }
            guard bits != 0 else { return nil }
            return metrics(phrases.indices.filter { bits >> UInt64($0) & 1 == 1 }.map { phrases[$0].0 })
        }
    }
}
