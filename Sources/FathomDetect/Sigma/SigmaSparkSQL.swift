import Foundation
import FathomSupport

/// Sigma detections compiled to Spark SQL: one boolean expression per rule over the canonical
/// columns of its source kind, which the Spark job evaluates (`F.expr`) over the rows of that kind.
///
/// The expression has the native engine's semantics (``SigmaEngine``), not a generic Sigma
/// backend's: a null text column is the empty string (so `null`, `''` and `exists` read it as the
/// native store does), case-insensitive matching folds both sides with `FoldedText`'s simple case
/// folding (`fathom_fold`, a function the job registers from the exported fold table — not
/// `lower()`, which folds differently outside ASCII), wildcards become `LIKE` patterns over Unicode
/// scalars (`_` one code point, `%` any run; `%`, `_` and `\` of the rule escaped), `cidr` runs the
/// native strict address parser (`fathom_cidr`), and numbers compare as doubles. A rule the
/// compiler cannot express with the same semantics is not compiled: it is listed with the reason,
/// and `fathom hunt --from-results` runs it natively over the loaded rows. `fathom spark-job
/// --rules` exports the result in `fathom-spec.json` (`SparkSpec.sigma`).
///
/// Rule text is untrusted: every string literal is written with only printable ASCII other than
/// `'`, `\`, `$`, `"` and `` ` `` as itself and every other scalar as a `\uXXXX` escape (UTF-16),
/// so no rule can close a literal, start a comment or trigger `${…}` variable substitution; column
/// names come from the schema, never from the rule, and are quoted with backticks.
public enum SparkSigma {
    /// One compiled rule, as `fathom-spec.json` carries it.
    public struct Rule: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var level: String
        public var atlas: [String]
        public var kind: String
        /// The Spark SQL boolean expression over the kind's columns.
        public var condition: String
    }

    /// A rule the compiler did not express, and why.
    public struct Skipped: Codable, Sendable, Equatable {
        public var id: String
        public var reason: String
    }

    public struct RuleSet: Codable, Sendable, Equatable {
        public var rules: [Rule]
        public var skipped: [Skipped]
        /// The functions the expressions call, which the job registers.
        public var functions: [String]
    }

    /// Why a construct is not compiled.
    package struct Unsupported: Error, Equatable {
        package var reason: String
        package init(_ reason: String) { self.reason = reason }
    }

    package static let foldFunction = "fathom_fold"
    package static let cidrFunction = "fathom_cidr"

    /// Compiles every rule that produces hits of its own: detections; correlations and the
    /// detections only a correlation uses (`generate: false`) are listed as skipped.
    public static func compile(_ rules: [SigmaRule]) -> RuleSet {
        var compiled: [Rule] = []
        var skipped: [Skipped] = []
        for rule in rules {
            switch rule.body {
            case .correlation:
                skipped.append(Skipped(id: rule.info.id, reason: "a correlation (grouping in time buckets) runs natively"))
            case let .detection(detection):
                guard rule.generatesHits else {
                    skipped.append(Skipped(id: rule.info.id, reason: "generates no hits of its own (used by a correlation)"))
                    continue
                }
                do {
                    compiled.append(Rule(id: rule.info.id, title: rule.info.title, level: rule.info.level, atlas: rule.info.atlas,
                                         kind: rule.info.kind.rawValue, condition: try condition(detection)))
                } catch {
                    skipped.append(Skipped(id: rule.info.id, reason: error.reason))
                }
            }
        }
        return RuleSet(rules: compiled, skipped: skipped, functions: [foldFunction, cidrFunction])
    }

    /// The Spark SQL expression of a detection.
    package static func condition(_ detection: SigmaDetection) throws(Unsupported) -> String {
        let searches = try detection.searches.map { search throws(Unsupported) in try expression(search, kind: detection.kind) }
        var result = expression(detection.condition, searches: searches)
        if let sources = detection.source.auditSources {
            // The rows of the logsource's own logs only (the `source` column, compared as is).
            let column = CanonicalColumn("source", .dictionary)
            let test = try expression(FieldTest(column: column, matchers: sources.map { .glob(Glob($0, cased: true)) },
                                                requireAll: false), kind: detection.kind)
            result = "(\(test) AND \(result))"
        }
        return result
    }

    static func expression(_ condition: ConditionNode, searches: [String]) -> String {
        switch condition {
        case let .search(index): return searches[index]
        case let .not(inner): return "(NOT \(expression(inner, searches: searches)))"
        case let .and(items): return joined(items.map { expression($0, searches: searches) }, all: true)
        case let .or(items): return joined(items.map { expression($0, searches: searches) }, all: false)
        case let .oneOf(indices): return joined(indices.map { searches[$0] }, all: false)
        case let .allOf(indices): return joined(indices.map { searches[$0] }, all: true)
        }
    }

    /// AND (or OR) of `terms`; TRUE (FALSE) for none, as `allSatisfy` (`contains`) on an empty list.
    static func joined(_ terms: [String], all: Bool) -> String {
        if terms.isEmpty { return all ? "TRUE" : "FALSE" }
        if terms.count == 1 { return terms[0] }
        return "(" + terms.joined(separator: all ? " AND " : " OR ") + ")"
    }

    static func expression(_ search: SearchNode, kind: SourceKind) throws(Unsupported) -> String {
        switch search {
        case let .all(items): return joined(try items.map { item throws(Unsupported) in try expression(item, kind: kind) }, all: true)
        case let .any(items): return joined(try items.map { item throws(Unsupported) in try expression(item, kind: kind) }, all: false)
        case let .test(test): return try expression(test, kind: kind)
        case let .keywords(matchers):
            // Any text column of the row (not `member`), as natively.
            let columns = kind.schema.columns.filter { ($0.type == .dictionary || $0.type == .text) && $0.name != "member" }
            return joined(try columns.map { column throws(Unsupported) in
                try expression(FieldTest(column: column, matchers: matchers, requireAll: false), kind: kind)
            }, all: false)
        }
    }

    static func expression(_ test: FieldTest, kind: SourceKind) throws(Unsupported) -> String {
        if let path = test.recordPath {
            throw Unsupported("field '\(path)' is read from the original record (dotted paths, arrays, case-insensitive keys), which the job does not compile")
        }
        if let (left, right) = test.fieldReference {
            return try fieldReference(left, right, kind: kind)
        }
        let column = test.column
        let quoted = "`\(column.name)`"
        switch column.type {
        case .dictionary, .text:
            let value = textValue(column.name, part: test.part)
            return joined(try test.matchers.map { matcher throws(Unsupported) in try textTest(matcher, value) }, all: test.requireAll)
        case .int64:
            let present = "(\(quoted) IS NOT NULL AND \(quoted) <> \(int64Min))"
            return joined(try test.matchers.map { matcher throws(Unsupported) in
                try int64Test(matcher, quoted, present: present, isTime: column.name == "time")
            }, all: test.requireAll)
        case .float64:
            let present = "(\(quoted) IS NOT NULL AND NOT isnan(\(quoted)))"
            return joined(try test.matchers.map { matcher throws(Unsupported) in
                try float64Test(matcher, quoted, present: present)
            }, all: test.requireAll)
        case .hash128:
            let present = "coalesce(\(quoted), '') <> ''"
            return joined(try test.matchers.map { matcher throws(Unsupported) in
                try hashTest(matcher, present: present, name: column.name)
            }, all: test.requireAll)
        }
    }

    /// Int64.min, the native null of an int64 column (no literal: 9223372036854775808 overflows).
    static let int64Min = "CAST('-9223372036854775808' AS BIGINT)"

    /// A text column (null read as ''), or the part of it a web field name stands for.
    static func textValue(_ name: String, part: TextPart?) -> String {
        let whole = "coalesce(`\(name)`, '')"
        let stem = "substring_index(\(whole), '?', 1)"
        switch part {
        case nil: return whole
        case .uriStem?: return stem
        case .uriQuery?: return "(CASE WHEN instr(\(whole), '?') > 0 THEN substr(\(whole), instr(\(whole), '?') + 1) ELSE '' END)"
        case .uriExtension?:
            let last = "substring_index(\(stem), '/', -1)"
            return "(CASE WHEN instr(\(last), '.') > 0 THEN substring_index(\(last), '.', -1) ELSE '' END)"
        }
    }

    static func textTest(_ matcher: ValueMatcher, _ value: String) throws(Unsupported) -> String {
        switch matcher {
        case .isNull: return "(\(value) = '')"
        case let .exists(flag): return "(\(value) \(flag ? "<>" : "=") '')"
        case let .glob(glob): return globTest(glob, value)
        case let .regex(regex): return "(\(value) RLIKE \(literal(try javaRegex(regex))))"
        case let .cidr(block): return "\(cidrFunction)(\(value), \(literal("\(block.network)/\(block.bits)")))"
        case .compare: throw Unsupported("a number comparison of a text column (Swift's and Spark's number parsing differ)")
        case .compareTime: throw Unsupported("a time comparison of a text column (the native time parser)")
        case .hash: throw Unsupported("a hash comparison of a text column")
        case let .anyOf(variants):
            return joined(try variants.map { variant throws(Unsupported) in try textTest(variant, value) }, all: false)
        }
    }

    /// A glob over the text (folded unless cased): `=` when it has no wildcard, else `LIKE`.
    static func globTest(_ glob: Glob, _ value: String) -> String {
        let subject = glob.isCased ? value : "\(foldFunction)(\(value))"
        var plain = ""
        var pattern = ""
        var hasWildcard = false
        for token in glob.tokens {
            switch token {
            case let .literal(scalar):
                let character = Unicode.Scalar(scalar).map(String.init) ?? "\u{FFFD}"
                plain += character
                pattern += ["%", "_", "\\"].contains(character) ? "\\" + character : character
            case .any:
                hasWildcard = true
                pattern += "%"
            case .one:
                hasWildcard = true
                pattern += "_"
            }
        }
        return hasWildcard ? "(\(subject) LIKE \(literal(pattern)))" : "(\(subject) = \(literal(plain)))"
    }

    static func int64Test(_ matcher: ValueMatcher, _ column: String, present: String, isTime: Bool) throws(Unsupported) -> String {
        switch matcher {
        case .isNull: return "(NOT \(present))"
        case let .exists(flag): return flag ? present : "(NOT \(present))"
        case let .compare(op, bound): return "(\(present) AND CAST(\(column) AS DOUBLE) \(symbol(op)) \(try double(bound)))"
        case let .compareTime(op, bound): return "(\(present) AND \(column) \(symbol(op)) CAST('\(bound)' AS BIGINT))"
        case let .glob(glob):
            if isTime { throw Unsupported("a wildcard test of the time column (the native time format)") }
            // The decimal digits of the value; they fold to themselves.
            return "(\(present) AND \(globTest(Glob(tokens: glob.tokens, cased: true), "CAST(\(column) AS STRING)")))"
        case let .regex(regex):
            if isTime { throw Unsupported("a regular expression over the time column (the native time format)") }
            return "(\(present) AND CAST(\(column) AS STRING) RLIKE \(literal(try javaRegex(regex))))"
        case .cidr: throw Unsupported("a CIDR test of a number column")
        case .hash: return "FALSE"
        case let .anyOf(variants):
            return joined(try variants.map { variant throws(Unsupported) in
                try int64Test(variant, column, present: present, isTime: isTime)
            }, all: false)
        }
    }

    static func float64Test(_ matcher: ValueMatcher, _ column: String, present: String) throws(Unsupported) -> String {
        switch matcher {
        case .isNull: return "(NOT \(present))"
        case let .exists(flag): return flag ? present : "(NOT \(present))"
        case let .compare(op, bound): return "(\(present) AND \(column) \(symbol(op)) \(try double(bound)))"
        case let .anyOf(variants):
            return joined(try variants.map { variant throws(Unsupported) in try float64Test(variant, column, present: present) }, all: false)
        default: throw Unsupported("a text test of a floating-point column (the native number format)")
        }
    }

    static func hashTest(_ matcher: ValueMatcher, present: String, name: String) throws(Unsupported) -> String {
        switch matcher {
        case .isNull: return "(NOT \(present))"
        case let .exists(flag): return flag ? present : "(NOT \(present))"
        case .hash: throw Unsupported("'\(name)' is a hash, and the job's hashes are not the native ones")
        case let .anyOf(variants):
            return joined(try variants.map { variant throws(Unsupported) in try hashTest(variant, present: present, name: name) }, all: false)
        default: return "FALSE"
        }
    }

    /// `fieldref` between two text fields: both present and equal once folded.
    static func fieldReference(_ left: SigmaLogSource.Field, _ right: SigmaLogSource.Field, kind: SourceKind) throws(Unsupported) -> String {
        func value(_ field: SigmaLogSource.Field) throws(Unsupported) -> String {
            let name: String
            var part: TextPart?
            switch field {
            case let .column(column): name = column
            case let .part(column, textPart): name = column; part = textPart
            case let .record(path): throw Unsupported("fieldref reads '\(path)' from the original record")
            }
            guard let index = kind.schema.index(of: name),
                  [.text, .dictionary].contains(kind.schema.columns[index].type) else {
                throw Unsupported("fieldref over '\(name)', which is not a text column")
            }
            return textValue(name, part: part)
        }
        let a = try value(left), b = try value(right)
        return "(\(a) <> '' AND \(b) <> '' AND \(foldFunction)(\(a)) = \(foldFunction)(\(b)))"
    }

    static func symbol(_ op: ComparisonOperator) -> String {
        switch op {
        case .lt: "<"
        case .lte: "<="
        case .gt: ">"
        case .gte: ">="
        }
    }

    /// A double as Spark reads it back bit for bit (the shortest round-tripping decimal).
    static func double(_ value: Double) throws(Unsupported) -> String {
        guard value.isFinite else { throw Unsupported("a comparison with \(value)") }
        return "CAST('\(value)' AS DOUBLE)"
    }

    /// The pattern for Java's engine (Spark's `RLIKE`) with the rule's flags, and Unicode character
    /// classes and case folding as ICU's (the native engine). Constructs whose meaning differs
    /// between the two engines are refused.
    static func javaRegex(_ regex: SigmaRegex) throws(Unsupported) -> String {
        let source = regex.source
        for construct in ["[[", "&&", "--", "\\N", "(?w", "\\h", "\\v", "\\R", "\\p", "\\P", "\\X"] where source.contains(construct) {
            throw Unsupported("regular expression '\(source.prefix(80))' uses '\(construct)', which ICU (native) and Java (Spark) read differently")
        }
        let options = regex.regex.options
        var flags = "U"
        if options.contains(.caseInsensitive) { flags += "iu" }
        if options.contains(.anchorsMatchLines) { flags += "m" }
        if options.contains(.dotMatchesLineSeparators) { flags += "s" }
        return "(?\(flags))" + source
    }

    /// A Spark SQL string literal holding exactly `text`.
    package static func literal(_ text: String) -> String {
        var result = "'"
        for unit in text.utf16 {
            let isPlain = (0x20...0x7E).contains(unit) && ![0x27, 0x5C, 0x24, 0x22, 0x60].contains(unit)
            if isPlain {
                result.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            } else {
                let hex = String(unit, radix: 16, uppercase: true)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return result + "'"
    }
}

extension Glob {
    /// The same tokens, matched as written (for the digits of a number column).
    package init(tokens: [Token], cased: Bool) {
        self.init("", cased: cased)
        self.tokens = tokens
    }
}
