import FathomStore
import Foundation
import Yams
import FathomSupport
import FathomCatalog

/// Reads Sigma rules from YAML, reporting every construct it cannot honour with file:line.
package struct SigmaParser {
    package let file: String
    package var problems: [RuleProblem] = []
    /// The Sigma filters read so far (documents with `filter:`), applied by the loader.
    package var filters: [SigmaFilter] = []
    /// The id of the rule being parsed, named in its problems.
    private var rule: String?

    package init(file: String) { self.file = file }

    package mutating func problem(_ node: Node?, _ message: String) {
        problems.append(RuleProblem(file: file, line: node?.mark?.line ?? 1, rule: rule, message: message))
    }

    package static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain else { return false }
        return ["null", "Null", "NULL", "~", ""].contains(scalar.string)
    }

    /// Parses one YAML document into a rule (nil with problems when it cannot be used).
    package mutating func parse(_ root: Node, index: Int) -> SigmaRule? {
        guard let mapping = root.mapping else {
            problem(root, "a Sigma rule must be a YAML mapping")
            return nil
        }
        let before = problems.count
        var fields: [String: Node] = [:]
        var keyNodes: [String: Node] = [:]
        for (key, value) in mapping {
            if let name = key.string {
                fields[name] = value
                keyNodes[name] = key
            }
        }
        let name = fields["name"]?.string
        let sigmaID = fields["id"]?.string
        let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let ruleID = name ?? sigmaID ?? (index == 0 ? stem : "\(stem)#\(index + 1)")
        rule = ruleID
        defer { rule = nil }
        let title = fields["title"]?.string ?? ""
        if title.isEmpty { problem(root, "the rule has no 'title'") }
        let level = fields["level"]?.string ?? "medium"
        if !["informational", "low", "medium", "high", "critical"].contains(level) {
            problem(fields["level"], "unknown level '\(level)' (expected informational, low, medium, high or critical)")
        }
        var atlas: [String] = []
        for tag in fields["tags"]?.sequence ?? [] {
            guard let text = tag.string?.lowercased() else { continue }
            let stripped = text.hasPrefix("atlas.") ? String(text.dropFirst(6)) : text
            if stripped.hasPrefix("aml.t") { atlas.append(stripped.uppercased()) }
        }
        let description = fields["description"]?.string ?? ""
        for unsupported in ["timeframe"] where fields[unsupported] != nil {
            problem(keyNodes[unsupported], "'\(unsupported)' (Sigma 1.0 aggregation) is not supported; write a correlation rule")
        }
        if let correlation = fields["correlation"] {
            guard let parsed = parseCorrelation(correlation) else { return nil }
            let info = RuleInfo(id: ruleID, title: title, level: level, atlas: atlas, kind: .inference, origin: file,
                                semantics: description.isEmpty ? "Sigma correlation rule (\(parsed.type.rawValue))." : description)
            guard problems.count == before else { return nil }
            return SigmaRule(info: info, name: name, sigmaID: sigmaID, body: .correlation(parsed))
        }
        let isFilter = fields["filter"] != nil
        guard let logsource = fields["logsource"]?.mapping else {
            problem(fields["logsource"] ?? root, "the \(isFilter ? "filter" : "rule") has no 'logsource' mapping")
            return nil
        }
        var source: [String: String] = [:]
        for (key, value) in logsource { if let key = key.string, let value = value.string { source[key] = value } }
        guard let logSource = SigmaLogSource.of(product: source["product"], service: source["service"], category: source["category"]) else {
            problem(keyNodes["logsource"], "logsource \(source.keys.sorted().map { "\($0)=\(source[$0] ?? "")" }.joined(separator: " ")) "
                + "maps onto no log Fathom reads (see SIGMA.md; or use product: fathom, service: "
                + SourceKind.allCases.map(\.rawValue).joined(separator: "|") + ")")
            return nil
        }
        let kind = logSource.kind
        if let filterNode = fields["filter"] {
            // A Sigma filter: its condition is ANDed to the referenced rules' (applied by the loader).
            guard filterNode.mapping != nil else { problem(filterNode, "'filter' must be a mapping"); return nil }
            var references: [String] = []
            if let node = filterNode.mapping?["rules"] {
                references = node.string.map { [$0] } ?? (node.sequence ?? []).compactMap(\.string)
            }
            if references.isEmpty { problem(filterNode, "the filter names no 'rules'") }
            guard let body = parseDetectionBody(filterNode, source: logSource, skipping: ["rules"], before: before) else { return nil }
            filters.append(SigmaFilter(id: ruleID, references: references, source: logSource, searches: body.searches,
                                       names: body.names, condition: body.condition, file: file,
                                       line: root.mark?.line ?? 1))
            return nil
        }
        guard let detectionNode = fields["detection"], detectionNode.mapping != nil else {
            problem(fields["detection"] ?? root, "the rule has no 'detection' mapping")
            return nil
        }
        guard let body = parseDetectionBody(detectionNode, source: logSource, skipping: [], before: before) else { return nil }
        let info = RuleInfo(id: ruleID, title: title, level: level, atlas: atlas, kind: kind, origin: file,
                            semantics: description.isEmpty ? "Sigma rule." : description)
        return SigmaRule(info: info, name: name, sigmaID: sigmaID,
                         body: .detection(SigmaDetection(source: logSource, searches: body.searches, names: body.names,
                                                         condition: body.condition)))
    }

    /// The searches and the condition of a `detection` (or `filter`) mapping; nil with problems
    /// when they cannot be used (or when problems were found since `before`).
    private mutating func parseDetectionBody(_ node: Node, source: SigmaLogSource, skipping: Set<String>,
                                             before: Int) -> (names: [String], searches: [SearchNode], condition: ConditionNode)? {
        var names: [String] = []
        var searches: [SearchNode] = []
        var conditionNode: Node?
        for (key, value) in node.mapping ?? [:] {
            guard let searchName = key.string, !skipping.contains(searchName) else { continue }
            if searchName == "condition" { conditionNode = value; continue }
            if searchName == "timeframe" {
                problem(value, "'timeframe' (Sigma 1.0 aggregation) is not supported; write a correlation rule")
                continue
            }
            names.append(searchName)
            searches.append(parseSearch(value, source: source))
        }
        guard let conditionNode else {
            problem(node, "the detection has no 'condition'")
            return nil
        }
        var conditionTexts: [String] = []
        if let text = conditionNode.string {
            conditionTexts = [text]
        } else if let list = conditionNode.sequence {
            conditionTexts = list.compactMap(\.string)
        }
        var conditions: [ConditionNode] = []
        for text in conditionTexts {
            var parser = ConditionParser(text: text, names: names)
            do { conditions.append(try parser.parse()) } catch {
                problem(conditionNode, "condition '\(text)': \(error.message)")
            }
        }
        guard problems.count == before, !conditions.isEmpty else {
            if conditions.isEmpty && problems.count == before { problem(conditionNode, "the condition is empty") }
            return nil
        }
        return (names, searches, conditions.count == 1 ? conditions[0] : .or(conditions))
    }

    /// A search identifier's value: a map (AND of fields), a list of maps (OR) or keywords.
    package mutating func parseSearch(_ node: Node, source: SigmaLogSource) -> SearchNode {
        if let mapping = node.mapping {
            var tests: [SearchNode] = []
            for (key, value) in mapping {
                guard let fieldSpec = key.string else { problem(key, "a field name must be a string"); continue }
                if fieldSpec.hasPrefix("|") {
                    if let keywords = parseKeywordModifiers(fieldSpec, value, at: key) { tests.append(keywords) }
                    continue
                }
                if let test = parseFieldTest(fieldSpec, value, source: source, at: key) { tests.append(.test(test)) }
            }
            return .all(tests)
        }
        if let sequence = node.sequence {
            if sequence.allSatisfy({ $0.mapping != nil }) {
                return .any(sequence.map { parseSearch($0, source: source) })
            }
            var keywords: [ValueMatcher] = []
            for item in sequence {
                guard let text = item.string, item.mapping == nil, item.sequence == nil else {
                    problem(item, "a list mixing maps and keywords is not supported")
                    continue
                }
                keywords.append(.glob(Glob(text, cased: false, prefixAny: true, suffixAny: true)))
            }
            return .keywords(keywords)
        }
        if let text = node.string {
            return .keywords([.glob(Glob(text, cased: false, prefixAny: true, suffixAny: true))])
        }
        problem(node, "unsupported search value")
        return .any([])
    }

    /// Keywords with modifiers and no field (`'|all': [a, b]`): every keyword must appear
    /// somewhere in the record. `all` is the only modifier keywords take.
    package mutating func parseKeywordModifiers(_ spec: String, _ value: Node, at key: Node) -> SearchNode? {
        let modifiers = spec.split(separator: "|").map(String.init)
        guard modifiers == ["all"] else {
            problem(key, "keyword modifiers '\(spec)' are not supported (only '|all')")
            return nil
        }
        let items = value.sequence.map(Array.init) ?? [value]
        var keywords: [ValueMatcher] = []
        for item in items {
            guard let text = item.string, item.mapping == nil, item.sequence == nil else {
                problem(item, "'|all' takes a keyword or a list of keywords")
                return nil
            }
            keywords.append(.glob(Glob(text, cased: false, prefixAny: true, suffixAny: true)))
        }
        guard !keywords.isEmpty else {
            problem(value, "'|all' has an empty list of keywords")
            return nil
        }
        return .all(keywords.map { .keywords([$0]) })
    }

    /// Sigma's web server field names (its taxonomy for `category: webserver`/`proxy`, after the
    /// W3C extended log format; `c-uri` is the proxy taxonomy's request target, which SigmaHQ's
    /// rules match as a path) → the inference columns that hold the same thing. The parts of the
    /// request target are in ``webURIParts``.
    package static let webFieldNames: [String: String] = [
        "c-ip": "src_ip", "cs-method": "method", "cs-uri": "path", "c-uri": "path", "sc-status": "status",
        "c-useragent": "user_agent", "cs-user-agent": "user_agent", "cs-referer": "referer", "cs-referrer": "referer",
        "cs-username": "principal", "sc-bytes": "bytes", "cs-host": "host", "r-dns": "host",
    ]

    /// Web server field names for a part of the request target, read from the `path` column: the
    /// stem (`cs-uri-stem`, `c-uri-stem`: before `?`), the query (`cs-uri-query`, `c-uri-query`:
    /// after the first `?`, without it; null when there is none) and the extension
    /// (`c-uri-extension`: after the last `.` of the stem's last segment; null when none).
    package static let webURIParts: [String: TextPart] = [
        "cs-uri-stem": .uriStem, "c-uri-stem": .uriStem, "cs-uri-query": .uriQuery, "c-uri-query": .uriQuery,
        "c-uri-extension": .uriExtension,
    ]

    package static let supportedModifiers: Set<String> = [
        "contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "base64", "base64offset",
        "lt", "lte", "gt", "gte", "exists", "cased", "windash", "fieldref",
    ]

    package mutating func parseFieldTest(_ spec: String, _ value: Node, source: SigmaLogSource, at key: Node) -> FieldTest? {
        let parts = spec.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let fieldName = parts[0]
        let modifiers = Array(parts.dropFirst())
        let kind = source.kind
        let column: CanonicalColumn
        var recordPath: String?
        var part: TextPart?
        switch source.field(fieldName) {
        case let .column(name)?:
            guard let index = kind.schema.index(of: name) else { return nil }
            column = kind.schema.columns[index]
        case let .part(name, textPart)?:
            guard let index = kind.schema.index(of: name) else { return nil }
            column = kind.schema.columns[index]
            part = textPart
        case let .record(path)?:
            guard !path.isEmpty else {
                problem(key, "a field name must not be empty")
                return nil
            }
            column = CanonicalColumn("record", .text)
            recordPath = path
        case nil:
            problem(key, "field '\(fieldName)' is not a column of source kind '\(kind.rawValue)' (columns: "
                + kind.schema.columns.map(\.name).joined(separator: ", ") + ")")
            return nil
        }
        for modifier in modifiers where !SigmaParser.supportedModifiers.contains(modifier) {
            problem(key, "modifier '\(modifier)' is not supported (supported: "
                + SigmaParser.supportedModifiers.sorted().joined(separator: ", ") + ")")
            return nil
        }
        let set = Set(modifiers)
        if set.contains("fieldref") {
            // field|fieldref: other — the two fields of the same event are equal (ignoring case, as
            // Sigma compares strings); no other modifier combines with it here.
            guard set == ["fieldref"], let other = value.string, value.mapping == nil, value.sequence == nil else {
                problem(key, "'fieldref' takes one field name and no other modifier")
                return nil
            }
            guard let reference = source.field(other) else {
                problem(value, "field '\(other)' (fieldref) is not a field of source kind '\(kind.rawValue)'")
                return nil
            }
            guard let left = source.field(fieldName) else { return nil }
            return FieldTest(column: column, matchers: [], requireAll: false, recordPath: recordPath, part: part,
                             fieldReference: (left, reference))
        }
        var values: [Node] = []
        if let sequence = value.sequence { values = Array(sequence) } else { values = [value] }
        if values.isEmpty {
            problem(value, "field '\(fieldName)' has an empty list of values")
            return nil
        }
        var matchers: [ValueMatcher] = []
        for item in values {
            guard let matcher = parseValue(item, column: column, modifiers: set, fieldName: fieldName) else { return nil }
            matchers.append(contentsOf: matcher)
        }
        return FieldTest(column: column, matchers: matchers, requireAll: set.contains("all"), recordPath: recordPath, part: part)
    }

    /// The matchers of one value (base64offset yields three).
    package mutating func parseValue(_ item: Node, column: CanonicalColumn, modifiers: Set<String>, fieldName: String) -> [ValueMatcher]? {
        if item.mapping != nil || item.sequence != nil {
            problem(item, "the value of '\(fieldName)' must be a scalar or a list of scalars")
            return nil
        }
        if modifiers.contains("exists") {
            guard let flag = item.bool else { problem(item, "'exists' takes true or false"); return nil }
            return [.exists(flag)]
        }
        if SigmaParser.isNull(item) {
            if !modifiers.isEmpty { problem(item, "null cannot be combined with modifiers"); return nil }
            return [.isNull]
        }
        let text = item.string ?? ""
        for comparison in ["lt", "lte", "gt", "gte"] where modifiers.contains(comparison) {
            guard let op = ComparisonOperator(rawValue: comparison) else { continue }
            if column.name == "time" {
                guard let time = TimeParser.parse(text) else {
                    problem(item, "'\(text)' is not an RFC 3339 time for '\(fieldName)|\(comparison)'")
                    return nil
                }
                return [.compareTime(op, time)]
            }
            guard let number = Double(text) else {
                problem(item, "'\(comparison)' needs a number, got '\(text)'")
                return nil
            }
            return [.compare(op, number)]
        }
        if modifiers.contains("cidr") {
            guard let block = CIDR(text) else { problem(item, "'\(text)' is not a CIDR block"); return nil }
            return [.cidr(block)]
        }
        if modifiers.contains("re") {
            var options: NSRegularExpression.Options = []
            if modifiers.contains("i") { options.insert(.caseInsensitive) }
            if modifiers.contains("m") { options.insert(.anchorsMatchLines) }
            if modifiers.contains("s") { options.insert(.dotMatchesLineSeparators) }
            guard let regex = try? NSRegularExpression(pattern: text, options: options) else {
                problem(item, "'\(text)' is not a valid regular expression")
                return nil
            }
            return [.regex(SigmaRegex(source: text, regex: regex))]
        }
        if column.type == .hash128 {
            if modifiers.isEmpty { return [.hash(Hash128.of(text))] }
            problem(item, "'\(fieldName)' is stored as a hash: only equality, null and exists can test it")
            return nil
        }
        let cased = modifiers.contains("cased")
        var patterns = modifiers.contains("windash") ? SigmaParser.windashVariants(text) : [text]
        if modifiers.contains("base64") {
            patterns = patterns.map { Data($0.utf8).base64EncodedString() }
        } else if modifiers.contains("base64offset") {
            patterns = patterns.flatMap(SigmaParser.base64Offsets)
        }
        let contains = modifiers.contains("contains") || modifiers.contains("base64offset")
        let prefixAny = contains || modifiers.contains("endswith")
        let suffixAny = contains || modifiers.contains("startswith")
        let escape = modifiers.contains("base64") || modifiers.contains("base64offset")
        let variants = patterns.map { pattern -> ValueMatcher in
            let literal = escape ? pattern.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "*", with: "\\*").replacingOccurrences(of: "?", with: "\\?") : pattern
            return .glob(Glob(literal, cased: cased || escape, prefixAny: prefixAny, suffixAny: suffixAny))
        }
        return variants.count == 1 ? variants : [.anyOf(variants)]
    }

    /// The dashes `windash` puts in place of a `-` or `/` that starts a command-line flag: hyphen,
    /// slash, en dash, em dash and horizontal bar.
    package static let windashCharacters: [Character] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"]

    /// Sigma's `windash`: every combination of ``windashCharacters`` at each `-` or `/` that
    /// starts a word (preceded by a non-word character or the start, followed by a word
    /// character), as pySigma's `SigmaWindowsDashModifier` (regex `\B[-/]\b`) finds them.
    /// Capped at 4 such places (625 variants); beyond, only the first 4 vary.
    package static func windashVariants(_ text: String) -> [String] {
        let characters = Array(text)
        func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        var places: [Int] = []
        for (index, c) in characters.enumerated() where c == "-" || c == "/" {
            let before = index == 0 || !isWord(characters[index - 1])
            let after = index + 1 < characters.count && isWord(characters[index + 1])
            if before && after { places.append(index) }
        }
        var variants = [characters]
        for place in places.prefix(4) {
            variants = variants.flatMap { variant in
                windashCharacters.map { dash in
                    var copy = variant
                    copy[place] = dash
                    return copy
                }
            }
        }
        return variants.map { String($0) }
    }

    /// The three base64 encodings of `text` at byte offsets 0, 1 and 2, trimmed of the characters
    /// that depend on the surrounding bytes (as Sigma's `base64offset` defines).
    package static func base64Offsets(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        let startTrim = [0, 2, 3]
        let endTrim = [0, 3, 2]
        return (0..<3).map { offset in
            let encoded = Array(Data(Array(repeating: UInt8(ascii: " "), count: offset) + bytes).base64EncodedString())
            let trimEnd = endTrim[(bytes.count + offset) % 3]
            let upper = max(startTrim[offset], encoded.count - trimEnd)
            return String(encoded[startTrim[offset]..<upper])
        }
    }

    package mutating func parseCorrelation(_ node: Node) -> SigmaCorrelation? {
        guard let mapping = node.mapping else { problem(node, "'correlation' must be a mapping"); return nil }
        var fields: [String: Node] = [:]
        for (key, value) in mapping { if let name = key.string { fields[name] = value } }
        guard let typeText = fields["type"]?.string, let type = SigmaCorrelation.Kind(rawValue: typeText) else {
            problem(fields["type"] ?? node, "correlation type '\(fields["type"]?.string ?? "")' is not supported "
                + "(supported: " + SigmaCorrelation.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            return nil
        }
        var references: [String] = []
        if let text = fields["rules"]?.string { references = [text] } else {
            references = (fields["rules"]?.sequence ?? []).compactMap(\.string)
        }
        if references.isEmpty { problem(fields["rules"] ?? node, "the correlation names no 'rules'") }
        var groupBy: [String] = []
        if let text = fields["group-by"]?.string { groupBy = [text] } else {
            groupBy = (fields["group-by"]?.sequence ?? []).compactMap(\.string)
        }
        guard let span = fields["timespan"]?.string, let seconds = RuleSettings.seconds(span), seconds > 0 else {
            problem(fields["timespan"] ?? node, "the correlation needs a 'timespan' such as 5m, 1h or 1d")
            return nil
        }
        if fields["aliases"] != nil { problem(fields["aliases"], "correlation 'aliases' are not supported") }
        var conditions: [(ComparisonOperator, Int64)] = []
        var equals: Int64?
        var field: String?
        var percentile: Int?
        if let condition = fields["condition"]?.mapping {
            for (key, value) in condition {
                guard let name = key.string else { continue }
                if name == "field" { field = value.string; continue }
                if name == "percentile" {
                    guard let number = value.int, (1...100).contains(number) else {
                        problem(value, "correlation condition 'percentile' needs a whole number from 1 to 100")
                        continue
                    }
                    percentile = number
                    continue
                }
                guard let number = value.int.map(Int64.init) else {
                    problem(value, "correlation condition '\(name)' needs a whole number")
                    continue
                }
                if name == "eq" { equals = number; continue }
                guard let op = ComparisonOperator(rawValue: name) else {
                    problem(key, "correlation condition '\(name)' is not supported (gt, gte, lt, lte, eq, field, percentile)")
                    continue
                }
                conditions.append((op, number))
            }
        } else if type == .eventCount || type.needsField {
            problem(fields["condition"] ?? node, "a \(type.rawValue) correlation needs a 'condition' mapping such as {gte: 10}")
        }
        if type.needsField, field == nil {
            problem(fields["condition"] ?? node, "a \(type.rawValue) correlation needs 'condition.field'")
        }
        if type == .valuePercentile, percentile == nil {
            problem(fields["condition"] ?? node, "a value_percentile correlation needs 'condition.percentile'")
        }
        return SigmaCorrelation(type: type, references: references, groupBy: groupBy, timespanSeconds: seconds,
                                conditions: conditions, equals: equals, field: field, percentile: percentile,
                                generate: fields["generate"]?.bool ?? false)
    }
}

/// A parse error of a condition.
package struct ConditionError: Error {
    package var message: String
}

/// Parses Sigma conditions: `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `any of`,
/// `1 of them`, `all of them`. Aggregations after `|` are reported as unsupported.
package struct ConditionParser {
    package var tokens: [String]
    package var position = 0
    package let names: [String]
    /// Nesting of `not` and parentheses so far; past ``maxDepth`` the condition is refused rather
    /// than recursed into (200,000 `not`s overflowed the stack — found while fuzzing).
    private var depth = 0
    package static let maxDepth = 64

    private mutating func descend() throws(ConditionError) {
        depth += 1
        if depth > Self.maxDepth {
            throw ConditionError(message: "the condition nests 'not' and parentheses more than \(Self.maxDepth) deep")
        }
    }

    package init(text: String, names: [String]) {
        self.names = names
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == "(" || character == ")" || character == "|" {
                if !current.isEmpty { tokens.append(current); current = "" }
                tokens.append(String(character))
            } else if character.isWhitespace {
                if !current.isEmpty { tokens.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        self.tokens = tokens
    }

    package mutating func parse() throws(ConditionError) -> ConditionNode {
        if let pipe = tokens.firstIndex(of: "|") {
            throw ConditionError(message: "aggregation '| \(tokens[(pipe + 1)...].joined(separator: " "))' is not supported; write a correlation rule")
        }
        let node = try parseOr()
        if position < tokens.count { throw ConditionError(message: "unexpected '\(tokens[position])'") }
        return node
    }

    package func peek() -> String? { position < tokens.count ? tokens[position] : nil }

    package mutating func parseOr() throws(ConditionError) -> ConditionNode {
        var items = [try parseAnd()]
        while peek()?.lowercased() == "or" {
            position += 1
            items.append(try parseAnd())
        }
        return items.count == 1 ? items[0] : .or(items)
    }

    package mutating func parseAnd() throws(ConditionError) -> ConditionNode {
        var items = [try parseNot()]
        while peek()?.lowercased() == "and" {
            position += 1
            items.append(try parseNot())
        }
        return items.count == 1 ? items[0] : .and(items)
    }

    package mutating func parseNot() throws(ConditionError) -> ConditionNode {
        if peek()?.lowercased() == "not" {
            position += 1
            try descend()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    package mutating func parsePrimary() throws(ConditionError) -> ConditionNode {
        guard let token = peek() else { throw ConditionError(message: "the condition ends too early") }
        position += 1
        if token == "(" {
            try descend()
            defer { depth -= 1 }
            let inner = try parseOr()
            guard peek() == ")" else { throw ConditionError(message: "missing ')'") }
            position += 1
            return inner
        }
        let lowered = token.lowercased()
        if ["and", "or", ")"].contains(lowered) { throw ConditionError(message: "unexpected '\(token)'") }
        if peek()?.lowercased() == "of" {
            position += 1
            guard let target = peek() else { throw ConditionError(message: "'\(token) of' needs a target") }
            position += 1
            let indices: [Int]
            if target.lowercased() == "them" {
                indices = names.indices.filter { !names[$0].hasPrefix("_") }
            } else {
                let glob = Glob(target, cased: true)
                indices = names.indices.filter { glob.matches(names[$0].unicodeScalars.map(\.value)) }
            }
            if indices.isEmpty { throw ConditionError(message: "'\(target)' matches no search identifier") }
            switch lowered {
            case "1", "any": return .oneOf(indices)
            case "all": return .allOf(indices)
            default:
                throw ConditionError(message: "'\(token) of' is not supported (only '1 of', 'any of' and 'all of')")
            }
        }
        guard let index = names.firstIndex(of: token) else {
            throw ConditionError(message: "'\(token)' is not a search identifier of this detection")
        }
        return .search(index)
    }
}
