import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// A user rule in Sigma's YAML format, parsed and checked (see RULES.md).
public struct SigmaRule: Sendable {
    public var info: RuleInfo
    /// Sigma's `name` (what correlations refer to) and `id`.
    public var name: String?
    public var sigmaID: String?
    /// Whether the rule's own matches are hits: false for a detection that a correlation uses
    /// (Sigma's `generate: false`, the default).
    public var generatesHits = true
    package var body: Body

    package enum Body: Sendable {
        case detection(SigmaDetection)
        case correlation(SigmaCorrelation)
    }
}

/// The `detection` section of a Sigma rule: named searches and the condition over them.
package struct SigmaDetection: Sendable {
    package var source: SigmaLogSource
    package var kind: SourceKind { source.kind }
    package var searches: [SearchNode]
    package var names: [String]
    package var condition: ConditionNode
}

package indirect enum SearchNode: Sendable {
    case all([SearchNode])
    case any([SearchNode])
    case test(FieldTest)
    /// Keywords: any string column contains one of the values.
    case keywords([ValueMatcher])

    /// Whether evaluating the search reads the original record (slower than a column).
    package var readsRecord: Bool {
        switch self {
        case let .all(items), let .any(items): items.contains { $0.readsRecord }
        case let .test(test):
            test.recordPath != nil || [test.fieldReference?.0, test.fieldReference?.1].contains {
                if case .record? = $0 { return true } else { return false }
            }
        case .keywords: true
        }
    }
}

package struct FieldTest: Sendable {
    package var column: CanonicalColumn
    package var matchers: [ValueMatcher]
    /// `|all`: every value must match (else any one).
    package var requireAll: Bool
    /// For a field of the original record (audit rows): its dotted path, read from the `record`
    /// column (``RecordFields``); nil for a column.
    package var recordPath: String? = nil
    /// For a field standing for part of a column's text (`cs-uri-query`): which part.
    package var part: TextPart? = nil
    /// `fieldref`: the field and the field it must equal, in place of `matchers`.
    package var fieldReference: (SigmaLogSource.Field, SigmaLogSource.Field)? = nil
}

/// One value test of a field.
package enum ValueMatcher: Sendable {
    /// The field is null or empty.
    case isNull
    case exists(Bool)
    /// A glob over folded (or, with `cased`, raw) scalars.
    case glob(Glob)
    case regex(SigmaRegex)
    case cidr(CIDR)
    case compare(ComparisonOperator, Double)
    case compareTime(ComparisonOperator, Int64)
    case hash(Hash128)
    /// Any of the variants one value expands into (`windash`, `base64offset`): with `all`, each
    /// value must match in one of its variants, not every variant.
    case anyOf([ValueMatcher])
}

package enum ComparisonOperator: String, Sendable {
    case lt, lte, gt, gte

    package func holds<T: Comparable>(_ value: T, _ bound: T) -> Bool {
        switch self {
        case .lt: value < bound
        case .lte: value <= bound
        case .gt: value > bound
        case .gte: value >= bound
        }
    }
}

package struct SigmaRegex: @unchecked Sendable {
    package let source: String
    package let regex: NSRegularExpression

    package func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// A Sigma wildcard pattern: `*` any run, `?` one scalar, `\*` `\?` `\\` literals.
package struct Glob: Sendable, Equatable {
    package enum Token: Sendable, Equatable {
        case literal(UInt32)
        case any
        case one
    }

    package var tokens: [Token]
    package var isCased: Bool

    package init(_ pattern: String, cased: Bool, prefixAny: Bool = false, suffixAny: Bool = false) {
        var tokens: [Token] = prefixAny ? [.any] : []
        var scalars = Array(pattern.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            switch scalar {
            case "\\":
                if let next = scalars.first, next == "*" || next == "?" || next == "\\" {
                    scalars.removeFirst()
                    tokens.append(.literal(cased ? next.value : FoldedText.fold(next.value)))
                } else {
                    tokens.append(.literal(0x5C))
                }
            case "*": if tokens.last != .any { tokens.append(.any) }
            case "?": tokens.append(.one)
            default: tokens.append(.literal(cased ? scalar.value : FoldedText.fold(scalar.value)))
            }
        }
        if suffixAny, tokens.last != .any { tokens.append(.any) }
        self.tokens = tokens
        self.isCased = cased
    }

    /// Whether the whole of `text` matches.
    ///
    /// - Complexity: O(text × pattern) worst case (the classic backtracking-to-last-star algorithm).
    package func matches(_ text: [UInt32]) -> Bool {
        var t = 0, p = 0
        var star = -1, mark = 0
        while t < text.count {
            if p < tokens.count {
                switch tokens[p] {
                case .any:
                    star = p
                    mark = t
                    p += 1
                    continue
                case .one:
                    t += 1
                    p += 1
                    continue
                case let .literal(value) where value == text[t]:
                    t += 1
                    p += 1
                    continue
                default:
                    break
                }
            }
            guard star >= 0 else { return false }
            p = star + 1
            mark += 1
            t = mark
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }

    package func matches(_ text: String) -> Bool {
        matches(isCased ? text.unicodeScalars.map(\.value) : FoldedText.folded(text))
    }
}

/// A Sigma filter (a document with `filter:`): its condition is ANDed to the condition of each
/// rule it names, for rules of the same source kind.
package struct SigmaFilter: Sendable {
    package var id: String
    package var references: [String]
    package var source: SigmaLogSource
    package var kind: SourceKind { source.kind }
    package var searches: [SearchNode]
    package var names: [String]
    package var condition: ConditionNode
    package var file: String
    package var line: Int

    /// `detection` with this filter applied: the filter's searches appended, its condition
    /// (shifted to their indices) ANDed to the detection's.
    package func applied(to detection: SigmaDetection) -> SigmaDetection {
        var result = detection
        let offset = detection.searches.count
        result.searches += searches
        result.names += names.map { "\(id):\($0)" }
        result.condition = .and([detection.condition, condition.shifted(by: offset)])
        return result
    }
}

/// The condition of a detection, over the searches' indices.
package indirect enum ConditionNode: Sendable {
    case search(Int)
    case not(ConditionNode)
    case and([ConditionNode])
    case or([ConditionNode])
    case oneOf([Int])
    case allOf([Int])

    /// The same condition over search indices moved by `offset`.
    package func shifted(by offset: Int) -> ConditionNode {
        switch self {
        case let .search(index): .search(index + offset)
        case let .not(inner): .not(inner.shifted(by: offset))
        case let .and(items): .and(items.map { $0.shifted(by: offset) })
        case let .or(items): .or(items.map { $0.shifted(by: offset) })
        case let .oneOf(indices): .oneOf(indices.map { $0 + offset })
        case let .allOf(indices): .allOf(indices.map { $0 + offset })
        }
    }
}

/// A Sigma correlation rule (event_count, value_count, temporal, temporal_ordered, value_sum,
/// value_avg, value_median, value_percentile).
package struct SigmaCorrelation: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        case eventCount = "event_count", valueCount = "value_count", temporal, temporalOrdered = "temporal_ordered"
        case valueSum = "value_sum", valueAvg = "value_avg", valueMedian = "value_median", valuePercentile = "value_percentile"

        /// The types that aggregate the numeric values of `condition.field`.
        package var aggregatesValues: Bool { [.valueSum, .valueAvg, .valueMedian, .valuePercentile].contains(self) }
        /// The types that need `condition.field`.
        package var needsField: Bool { self == .valueCount || aggregatesValues }
    }

    package var type: Kind
    /// The referenced rules' names, as written.
    package var references: [String]
    /// The referenced detections, resolved by the loader.
    package var rules: [SigmaRule] = []
    package var groupBy: [String]
    package var timespanSeconds: Int64
    package var conditions: [(ComparisonOperator, Int64)]
    package var equals: Int64?
    package var field: String?
    /// `condition.percentile` of a value_percentile correlation (1…100).
    package var percentile: Int? = nil
    package var generate: Bool

    package func holds(_ value: Int64) -> Bool {
        if let equals, value != equals { return false }
        return conditions.allSatisfy { $0.0.holds(value, $0.1) }
    }

    package func holds(_ value: Double) -> Bool {
        if let equals, value != Double(equals) { return false }
        return conditions.allSatisfy { $0.0.holds(value, Double($0.1)) }
    }

    /// The aggregate of `values` this correlation compares (nil for the other types or no values):
    /// the sum, the mean, the median (mean of the middle two for an even count) or the
    /// nearest-rank percentile (the smallest value with at least `percentile` % of the values at
    /// or below it).
    package func aggregate(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        switch type {
        case .valueSum: return values.reduce(0, +)
        case .valueAvg: return values.reduce(0, +) / Double(values.count)
        case .valueMedian:
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        case .valuePercentile:
            let sorted = values.sorted()
            let rank = Int((Double(percentile ?? 50) / 100 * Double(sorted.count)).rounded(.up))
            return sorted[min(max(rank, 1), sorted.count) - 1]
        case .eventCount, .valueCount, .temporal, .temporalOrdered: return nil
        }
    }
}
