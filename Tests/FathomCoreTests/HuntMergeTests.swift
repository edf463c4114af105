import Testing
import FathomSupport
import FathomStore
@testable import FathomDetect
import FathomSimulator

/// `Hunt.merge`: the runs' hits in the order a stable sort of the runs end to end gives them,
/// whether the runs keep to their own rules (end to end) or share rules (sorted as a whole).
@Suite struct HuntMergeTests {
    static let rules = [ExtractionBeyond.slidingInfo, ExtractionBeyond.networkInfo, InjectionNormalized.info, InjectionPhrase.info]

    /// A hit with a coarse time and key, so many hits tie in `Hit.precedes`; `n` tells them apart.
    static func hit(_ n: Int, _ generator: inout SplitMix64) -> Hit {
        let rule = rules[Int(generator.next() % UInt64(rules.count))]
        return Hit(rule: rule, time: Timestamp(nanoseconds: Int64(generator.next() % 5)), key: ["principal": .string("u\(generator.next() % 3)")],
                   metrics: ["n": .int(Int64(n))], evidence: .event(EvidenceRef(archive: "a", member: "", line: Int64(generator.next() % 2))))
    }

    static func numbers(_ hits: [Hit]) -> [HitValue?] { hits.map { $0.metrics["n"] } }

    static func stablySorted(_ runs: [[Hit]]) -> [Hit] {
        let all = runs.flatMap { $0 }
        return all.indices.sorted { Hit.precedes(all[$0], all[$1]) || (!Hit.precedes(all[$1], all[$0]) && $0 < $1) }.map { all[$0] }
    }

    @Test func runsOfTheirOwnRulesGoEndToEnd() {
        var generator = SplitMix64(seed: 7)
        for round in 0..<50 {
            let hits = (0..<Int(generator.next() % 200)).map { Self.hit($0, &generator) }
            // One run per rule, sorted where it ran, in an order unrelated to the rule ids.
            var runs = Self.rules.map { rule in hits.filter { $0.rule == rule.id }.sorted(by: Hit.precedes) }
            if round % 2 == 1 { runs.reverse() }
            runs.insert([], at: Int(generator.next() % UInt64(runs.count + 1)))
            #expect(Self.numbers(Hunt.merge(runs)) == Self.numbers(Self.stablySorted(runs)))
        }
    }

    @Test func runsSharingRulesOrUnsortedAreSortedAsAWhole() {
        var generator = SplitMix64(seed: 11)
        for round in 0..<50 {
            let hits = (0..<Int(generator.next() % 200)).map { Self.hit($0, &generator) }
            // Cut anywhere: runs share rules, and hits that tie sit in different runs.
            var runs: [[Hit]] = [[]]
            for hit in hits {
                if generator.next() % 8 == 0 { runs.append([]) }
                runs[runs.count - 1].append(hit)
            }
            if round % 2 == 0 { runs = runs.map { $0.sorted(by: Hit.precedes) } }
            #expect(Self.numbers(Hunt.merge(runs)) == Self.numbers(Self.stablySorted(runs)))
        }
    }

    /// A rule's hits are sorted only when they are not in order already (``Hunt/isSorted(_:)``),
    /// and a single run out of order has nothing else to be sorted with: the test must be exact.
    @Test func aRunIsSortedExactlyWhenItIsOutOfOrder() {
        var generator = SplitMix64(seed: 13)
        for _ in 0..<200 {
            let hits = (0..<Int(generator.next() % 40)).map { Self.hit($0, &generator) }
            let inOrder = zip(hits, hits.dropFirst()).allSatisfy { !Hit.precedes($1, $0) }
            #expect(Hunt.isSorted(hits) == inOrder)
            #expect(Hunt.isSorted(hits.sorted(by: Hit.precedes)))
            #expect(Self.numbers(Hunt.merge([hits])) == Self.numbers(Self.stablySorted([hits])))
        }
    }
}
