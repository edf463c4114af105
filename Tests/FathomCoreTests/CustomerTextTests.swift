@testable import FathomSimulator
import FathomStore
import FathomDetect
import Foundation
import Testing

/// The simulator's new everyday LLM text (`--unique-prompts`): distinct, of a customer's length, and
/// harmless to every LLM rule, so that it changes what the rules read, never what they find.
@Suite struct CustomerTextTests {
    @Test func newTextIsDistinctAndHarmless() {
        var rng = Xoshiro256(seed: 0xC0FFEE)
        let prompts = (0..<6_000).map { _ in CustomerText.prompt(&rng) }
        let responses = (0..<6_000).map { _ in CustomerText.response(&rng) }
        #expect(Double(Set(prompts).count) / Double(prompts.count) > 0.97, "prompts nearly all distinct")
        #expect(Double(Set(responses).count) / Double(responses.count) > 0.97, "responses nearly all distinct")
        for text in prompts + responses {
            #expect((40...400).contains(text.utf8.count), "\(text.utf8.count) bytes: \(text)")
        }
        let settings = RuleSettings()
        let judges = [("phrase", InjectionPhrase.judge(settings)), ("normalized", InjectionNormalized.judge(settings)),
                      ("model", InjectionModelRule.judge(settings))]
        var flagged: [String] = []
        for prompt in prompts {
            prompt.withByteView { view in
                for (name, judge) in judges where judge(view) != nil { flagged.append("\(name): \(prompt)") }
            }
        }
        for response in responses {
            response.withByteView { view in
                if !SensitiveData.findings(in: view).isEmpty { flagged.append("sensitive: \(response)") }
            }
        }
        #expect(flagged.isEmpty, "\(flagged.count) flagged, first: \(flagged.prefix(5))")
    }

    /// The knob draws no random number while it is 0: the default scenario stays byte-identical.
    @Test func theDefaultShapeDrawsNoNewText() {
        #expect(TrafficShape().uniquePrompts == 0)
        #expect(TrafficShape.highCardinality().uniquePrompts == 0.9)
        #expect(TrafficShape.highCardinality().options.contains("--unique-prompts 0.9"))
        var shape = TrafficShape()
        shape.uniquePrompts = 1.5
        #expect(shape.problems == ["--unique-prompts must be between 0 and 1, got 1.5."])
    }
}
