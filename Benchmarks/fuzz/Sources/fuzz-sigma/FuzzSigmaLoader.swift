@testable import FathomCore
import FathomStore
import FuzzSupport
#if canImport(FathomDetect)
// Fathom split into layer targets: the Sigma internals used here (rule bodies, SigmaEngine) are
// `package` declarations of FathomDetect.
@testable import FathomDetect
#endif

// Fuzz target: the Sigma rule loader (`SigmaLoader.load(sources:)`: Yams, the Sigma parser,
// correlation resolution), then what the hunt does with a loaded rule without a store: compile its
// condition over its searches (`SigmaEngine.compile`, which indexes the searches by the
// condition's numbers) and evaluate it, and match its globs, CIDRs, comparisons and hashes
// (`SigmaEngine.matches`) against a few texts. Regexes are compiled by the loader but not run
// (ICU's backtracking on a rule's own regex is the rule author's business).
//
// Input: YAML text (invalid UTF-8 is repaired, as `load(directory:)` reads files); a line
// `#---file---` splits it into two files, to exercise correlations across files.
//
// Checked: no crash, no memory error; every rule's condition refers to existing searches.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSigmaLoader(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 0)
    let text = String(decoding: input.body, as: UTF8.self)
    let parts = text.components(separatedBy: "#---file---\n")
    let sources = parts.prefix(2).enumerated().map { ("fuzz-\($0.offset).yml", $0.element) }
    let result = SigmaLoader.load(sources: sources)
    let texts = ["", "a", "10.1.2.3", "::1", "2026-03-04T08:15:00Z", "/v1/predict", String(text.prefix(200))]
    for rule in result.rules {
        _ = RulesOutput.describe(rule.info)
        switch rule.body {
        case let .detection(detection):
            exercise(detection, texts: texts)
        case let .correlation(correlation):
            for case let .detection(detection) in correlation.rules.map(\.body) {
                exercise(detection, texts: texts)
            }
            for value in [Int64.min, -1, 0, 1, 1000, Int64.max] { _ = correlation.holds(value) }
        }
    }
    return 0
}

private func exercise(_ detection: SigmaDetection, texts: [String]) {
    for pattern in 0..<4 {
        let searches: [SigmaEngine.RowTest] = detection.searches.indices.map { index in { row in (index + row + pattern) % 3 == 0 } }
        check(detection.condition, searchCount: searches.count)
        let test = SigmaEngine.compile(detection.condition, searches: searches)
        _ = test(0)
        _ = test(1)
    }
    for search in detection.searches {
        match(search, texts: texts)
    }
}

/// Every search index in a condition must exist (the engine indexes an array with them).
private func check(_ condition: ConditionNode, searchCount: Int) {
    switch condition {
    case let .search(index):
        if !(0..<searchCount).contains(index) { fuzzFailure("condition refers to search \(index) of \(searchCount)") }
    case let .not(inner):
        check(inner, searchCount: searchCount)
    case let .and(items), let .or(items):
        for item in items { check(item, searchCount: searchCount) }
    case let .oneOf(indices), let .allOf(indices):
        for index in indices where !(0..<searchCount).contains(index) {
            fuzzFailure("condition refers to search \(index) of \(searchCount)")
        }
    }
}

private func match(_ search: SearchNode, texts: [String]) {
    switch search {
    case let .all(items), let .any(items):
        for item in items { match(item, texts: texts) }
    case let .test(test):
        for matcher in test.matchers { match(matcher, texts: texts) }
    case let .keywords(matchers):
        for matcher in matchers { match(matcher, texts: texts) }
    }
}

private func match(_ matcher: ValueMatcher, texts: [String]) {
    if case .regex = matcher { return }
    for text in texts { _ = SigmaEngine.matches(matcher, text: text) }
}
