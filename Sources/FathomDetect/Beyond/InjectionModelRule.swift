import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// `prompt.injection-model`: the trained, calibrated prompt-injection detector (``InjectionModel``).
package enum InjectionModelRule {
    package static let info = RuleInfo(
        id: RuleID.injectionModel, title: "Prompt injection or jailbreak (trained detector)",
        level: "high", atlas: ["AML.T0051", "AML.T0051.000", "AML.T0054", "AML.T0056"], kind: .llm,
        semantics: """
            LLM rows whose prompt (the decoded text; for OpenAI-style messages, the last user message) the \
            trained detector scores at or above injection.model_threshold (default: the model's own threshold, \
            chosen on its validation split for a false-positive rate of at most 0.3 %). The detector is a \
            logistic regression over hashed character 4-grams and word unigrams and bigrams of the prompt's \
            bytes (ASCII lower-cased; whitespace, '-' and '_' as one space), trained by \
            Training/injection/train.py on public labelled corpora (Training/injection/PROVENANCE.md). \
            metrics: score (probability, 4 decimals), threshold, model_sha256, features (the five features \
            that raised the score most, with their share of the logit). Its measured precision and recall \
            are in `fathom rules show` and the reports. It reads the prompt as written: obfuscated \
            phrasings (zero-width, confusables, leetspeak, base64) are prompt.injection-normalized's.
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        let model = InjectionModel.shipped
        let test = model.metadata.test
        return [
            ("model_threshold", String(settings.modelThreshold ?? model.threshold)),
            ("model_sha256", model.sha256),
            ("held-back test split", "recall \(format(test.recall)), false-positive rate \(format(test.fpr)), "
                + "precision \(format(test.precision)) (\(test.positives) attacks, \(test.negatives) benign)"),
        ]
    }, body: run)

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }

    /// The metrics of a prompt the model flags, or nil.
    package static func judge(_ prompt: ByteView, model: InjectionModel, threshold: Double) -> [String: HitValue]? {
        let score = model.score(prompt)
        guard score >= threshold else { return nil }
        let features = model.strongestFeatures(prompt.string).map { "\($0.feature) +\(TextCodecs.fixed($0.weight, digits: 2))" }
        return [
            "score": .double((score * 10_000).rounded() / 10_000),
            "threshold": .double((threshold * 10_000).rounded() / 10_000),
            "model_sha256": .string(model.sha256),
            "features": .strings(features),
        ]
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        try LLMHits.eachText(info, column: "prompt", context: context, judge: judge(context.settings))
    }

    /// The rule's decision on one prompt, with the shipped model and the threshold of `settings`.
    package static func judge(_ settings: RuleSettings) -> LLMHits.Judge {
        let model = InjectionModel.shipped
        let threshold = settings.modelThreshold ?? model.threshold
        return { prompt in judge(prompt, model: model, threshold: threshold) }
    }
}
