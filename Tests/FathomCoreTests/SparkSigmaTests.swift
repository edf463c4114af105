@testable import FathomCore
import Foundation
import Testing
import FathomSupport
import FathomDetect

/// Sigma rules compiled to Spark SQL (`SparkSigma`): the expression of each construct, the
/// escaping of untrusted rule text in SQL literals, and the constructs left to the native engine.
/// `.ci/spark-equivalence` runs the compiled rules in pyspark against `fathom hunt`, and
/// `.ci/sigma-spark-conformance` against pySigma's Databricks backend.
@Suite struct SparkSigmaTests {
    static func compile(_ detection: String, kind: String = "storage", logsource: String? = nil) throws -> SparkSigma.RuleSet {
        var text = DetectSigmaTests.rule(detection, kind: kind)
        if let logsource {
            text = text.replacingOccurrences(of: "logsource:\n  product: fathom\n  service: \(kind)", with: "logsource:\n" + logsource)
        }
        let loaded = SigmaLoader.load(sources: [("t.yml", text)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        return SparkSigma.compile(loaded.rules)
    }

    static func condition(_ detection: String, kind: String = "storage", logsource: String? = nil) throws -> String {
        let set = try compile(detection, kind: kind, logsource: logsource)
        #expect(set.skipped.isEmpty, "\(set.skipped)")
        return try #require(set.rules.first).condition
    }

    static let folded = "fathom_fold(coalesce(`key`, ''))"

    static let expressions: [(String, String)] = [
        // Plain values: equality of the folded text (FoldedText, not lower()).
        ("sel:\n  operation: rest.get.OBJECT\ncondition: sel", "(fathom_fold(coalesce(`operation`, '')) = 'rest.get.object')"),
        ("sel:\n  operation|cased: REST.get\ncondition: sel", "(coalesce(`operation`, '') = 'REST.get')"),
        ("sel:\n  key|contains: FRAUD\ncondition: sel", "(\(folded) LIKE '%fraud%')"),
        ("sel:\n  key|startswith: models/\ncondition: sel", "(\(folded) LIKE 'models/%')"),
        ("sel:\n  key|endswith: .PT\ncondition: sel", "(\(folded) LIKE '%.pt')"),
        // Sigma wildcards → LIKE; LIKE's own %, _ and \ escaped; Sigma's escapes honoured.
        ("sel:\n  key: 'models/*/v1?.*'\ncondition: sel", "(\(folded) LIKE 'models/%/v1_.%')"),
        ("sel:\n  key: 'data/train\\*.csv'\ncondition: sel", "(\(folded) = 'data/train*.csv')"),
        ("sel:\n  key: '50%_off*'\ncondition: sel", "(\(folded) LIKE '50\\u005C%\\u005C_off%')"),
        ("sel:\n  key: 'a\\b*'\ncondition: sel", "(\(folded) LIKE 'a\\u005C\\u005Cb%')"),
        ("sel:\n  key|contains|all:\n    - fraud\n    - v13\ncondition: sel", "((\(folded) LIKE '%fraud%') AND (\(folded) LIKE '%v13%'))"),
        ("sel:\n  key|contains:\n    - v13\n    - train\ncondition: sel", "((\(folded) LIKE '%v13%') OR (\(folded) LIKE '%train%'))"),
        // Regular expressions: Java's engine with Unicode classes (as ICU), flags from the modifiers.
        ("sel:\n  key|re: '^models/.*\\.(pt|safetensors)$'\ncondition: sel",
         "(coalesce(`key`, '') RLIKE '(?U)^models/.*\\u005C.(pt|safetensors)\\u0024')"),
        ("sel:\n  key|re|i|m|s: '^MODELS/'\ncondition: sel", "(coalesce(`key`, '') RLIKE '(?Uiums)^MODELS/')"),
        ("sel:\n  src_ip|cidr:\n    - 10.0.0.0/8\n    - 2001:db8::/32\ncondition: sel",
         "(fathom_cidr(coalesce(`src_ip`, ''), '10.0.0.0/8') OR fathom_cidr(coalesce(`src_ip`, ''), '2001:db8::/32'))"),
        // base64: the encoding, matched cased; base64offset: its three variants.
        ("sel:\n  key|base64: ignore previous\ncondition: sel", "(coalesce(`key`, '') = 'aWdub3JlIHByZXZpb3Vz')"),
        ("sel:\n  key|base64offset|contains: previous\ncondition: sel",
         "((coalesce(`key`, '') LIKE '%cHJldmlvdX%') OR (coalesce(`key`, '') LIKE '%ByZXZpb3Vz%') OR (coalesce(`key`, '') LIKE '%wcmV2aW91c%'))"),
        // Numbers: the native null (Int64.min) is not a value; comparisons as doubles.
        ("sel:\n  status|gte: 400\ncondition: sel",
         "((`status` IS NOT NULL AND `status` <> CAST('-9223372036854775808' AS BIGINT)) AND CAST(`status` AS DOUBLE) >= CAST('400.0' AS DOUBLE))"),
        ("sel:\n  status: 202\ncondition: sel",
         "((`status` IS NOT NULL AND `status` <> CAST('-9223372036854775808' AS BIGINT)) AND (CAST(`status` AS STRING) = '202'))"),
        ("sel:\n  time|gte: '2026-03-02T10:10:00Z'\ncondition: sel",
         "((`time` IS NOT NULL AND `time` <> CAST('-9223372036854775808' AS BIGINT)) AND `time` >= CAST('1772446200000000000' AS BIGINT))"),
        ("sel:\n  bytes: null\ncondition: sel", "(NOT (`bytes` IS NOT NULL AND `bytes` <> CAST('-9223372036854775808' AS BIGINT)))"),
        // A null text column is '' natively: null, '' and exists read it so.
        ("sel:\n  user_agent: null\ncondition: sel", "(coalesce(`user_agent`, '') = '')"),
        ("sel:\n  user_agent|exists: false\ncondition: sel", "(coalesce(`user_agent`, '') = '')"),
        ("sel:\n  user_agent|exists: true\ncondition: sel", "(coalesce(`user_agent`, '') <> '')"),
        // Conditions.
        ("a:\n  bucket: models\nb:\n  status: 403\ncondition: a and not b",
         "((fathom_fold(coalesce(`bucket`, '')) = 'models') AND (NOT ((`status` IS NOT NULL AND `status` <> CAST('-9223372036854775808' AS BIGINT)) AND (CAST(`status` AS STRING) = '403'))))"),
        ("sel_1:\n  bucket: a\nsel_2:\n  bucket: b\ncondition: 1 of sel_*",
         "((fathom_fold(coalesce(`bucket`, '')) = 'a') OR (fathom_fold(coalesce(`bucket`, '')) = 'b'))"),
        ("sel_1:\n  bucket: a\nsel_2:\n  key: b\ncondition: all of sel_*",
         "((fathom_fold(coalesce(`bucket`, '')) = 'a') AND (\(folded) = 'b'))"),
        ("x:\n  - bucket: a\n  - key: b\ncondition: x", "((fathom_fold(coalesce(`bucket`, '')) = 'a') OR (\(folded) = 'b'))"),
        // Keywords: any text column but member, as natively.
        ("keywords:\n  - curl\ncondition: keywords",
         "((fathom_fold(coalesce(`src_ip`, '')) LIKE '%curl%') OR (fathom_fold(coalesce(`principal`, '')) LIKE '%curl%') OR "
            + "(fathom_fold(coalesce(`operation`, '')) LIKE '%curl%') OR (fathom_fold(coalesce(`action`, '')) LIKE '%curl%') OR "
            + "(fathom_fold(coalesce(`bucket`, '')) LIKE '%curl%') OR (\(folded) LIKE '%curl%') OR "
            + "(fathom_fold(coalesce(`user_agent`, '')) LIKE '%curl%'))"),
    ]

    @Test(arguments: expressions)
    func expressionOfEachConstruct(_ testCase: (String, String)) throws {
        let (detection, expected) = testCase
        #expect(try Self.condition(detection) == expected, "\(detection)")
    }

    @Test func webFieldsReadTheirPartOfThePath() throws {
        let web = "  category: webserver"
        let whole = "coalesce(`path`, '')"
        #expect(try Self.condition("sel:\n  cs-uri-stem: /predict\ncondition: sel", kind: "inference", logsource: web)
                == "(fathom_fold(substring_index(\(whole), '?', 1)) = '/predict')")
        #expect(try Self.condition("sel:\n  cs-uri-query|contains: id=\ncondition: sel", kind: "inference", logsource: web)
                == "(fathom_fold((CASE WHEN instr(\(whole), '?') > 0 THEN substr(\(whole), instr(\(whole), '?') + 1) ELSE '' END)) LIKE '%id=%')")
        let last = "substring_index(substring_index(\(whole), '?', 1), '/', -1)"
        #expect(try Self.condition("sel:\n  c-uri-extension: php\ncondition: sel", kind: "inference", logsource: web)
                == "(fathom_fold((CASE WHEN instr(\(last), '.') > 0 THEN substring_index(\(last), '.', -1) ELSE '' END)) = 'php')")
        #expect(try Self.condition("sel:\n  c-useragent|fieldref: cs-referer\ncondition: sel", kind: "inference", logsource: web)
                == "(coalesce(`user_agent`, '') <> '' AND coalesce(`referer`, '') <> '' AND "
                + "fathom_fold(coalesce(`user_agent`, '')) = fathom_fold(coalesce(`referer`, '')))")
    }

    @Test func auditRulesReadTheirOwnLogsRows() throws {
        let condition = try Self.condition("sel:\n  eventName: StopLogging\ncondition: sel", kind: "audit",
                                           logsource: "  product: aws\n  service: cloudtrail")
        #expect(condition == "((coalesce(`source`, '') = 'cloudtrail') AND (fathom_fold(coalesce(`action`, '')) = 'stoplogging'))")
    }

    /// Rule text is untrusted: a value cannot end the literal, escape from it, start a comment or
    /// ask Spark for `${…}` substitution, and non-ASCII text survives as UTF-16 escapes.
    @Test func hostileTextStaysInsideItsLiteral() throws {
        #expect(SparkSigma.literal("it's") == "'it\\u0027s'")
        #expect(SparkSigma.literal("a\\' OR TRUE --") == "'a\\u005C\\u0027 OR TRUE --'")
        #expect(SparkSigma.literal("${spark.sql.x}") == "'\\u0024{spark.sql.x}'")
        #expect(SparkSigma.literal("\"`\n\t") == "'\\u0022\\u0060\\u000A\\u0009'")
        #expect(SparkSigma.literal("K\u{212A}😀") == "'K\\u212A\\uD83D\\uDE00'")
        for hostile in ["'); DROP TABLE t; --", "\\\\'", "\u{0}", "%_\\", "${a}$", "/* x */"] {
            let literal = SparkSigma.literal(hostile)
            let inner = literal.dropFirst().dropLast()
            // Inside: only printable ASCII, no quote, backslash only as the start of \uXXXX.
            #expect(!inner.contains("'") && !inner.contains("$") && !inner.contains("\""))
            #expect(inner.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) })
            #expect(Self.unescape(String(inner)) == hostile)
        }
        let condition = try Self.condition("sel:\n  key|contains: \"x') OR TRUE OR ('\"\ncondition: sel")
        #expect(condition == "(\(Self.folded) LIKE '%x\\u0027) or true or (\\u0027%')")
    }

    /// Spark's unescaping of the \uXXXX escapes the literals use (ParserUtils.unescapeSQLString).
    static func unescape(_ text: String) -> String? {
        var units: [UInt16] = []
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if scalar == "\\" {
                guard scalars.popFirst() == "u", scalars.count >= 4,
                      let unit = UInt16(String(String.UnicodeScalarView(scalars.prefix(4))), radix: 16) else { return nil }
                scalars.removeFirst(4)
                units.append(unit)
            } else {
                units.append(UInt16(scalar.value))
            }
        }
        return String(decoding: units, as: UTF16.self)
    }

    static let refused: [(String, String, String)] = [
        ("sel:\n  input_hash: abc\ncondition: sel", "inference", "hash"),
        ("sel:\n  principal|gt: 5\ncondition: sel", "storage", "number comparison of a text column"),
        ("sel:\n  key|re: '[[a-z]&&[def]]'\ncondition: sel", "storage", "ICU (native) and Java (Spark)"),
        ("sel:\n  key|re: '\\p{L}+'\ncondition: sel", "storage", "'\\p'"),
        ("sel:\n  latency_ms: 5\ncondition: sel", "inference", "floating-point"),
        ("sel:\n  time: '2026*'\ncondition: sel", "storage", "time column"),
    ]

    @Test(arguments: refused)
    func constructsWithoutTheSameSemanticsAreLeftToTheNativeEngine(_ testCase: (String, String, String)) throws {
        let (detection, kind, reason) = testCase
        let set = try Self.compile(detection, kind: kind)
        #expect(set.rules.isEmpty)
        #expect(set.skipped.first?.id == "t")
        #expect(set.skipped.first?.reason.contains(reason) == true, "\(set.skipped)")
    }

    @Test func recordFieldsAndCorrelationsAreLeftToTheNativeEngine() throws {
        let record = try Self.compile("sel:\n  objectRef.resource: pods\ncondition: sel", kind: "audit",
                                      logsource: "  product: kubernetes\n  service: audit")
        #expect(record.rules.isEmpty)
        #expect(record.skipped.first?.reason.contains("original record") == true)
        let correlation = """
            title: base
            name: base
            logsource: {product: fathom, service: storage}
            detection: {sel: {bucket: models}, condition: sel}
            ---
            title: many
            name: many
            correlation: {type: event_count, rules: [base], group-by: [src_ip], timespan: 1h, condition: {gte: 3}}
            """
        let loaded = SigmaLoader.load(sources: [("c.yml", correlation)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let set = SparkSigma.compile(loaded.rules)
        #expect(set.rules.isEmpty)
        #expect(Set(set.skipped.map(\.id)) == ["base", "many"])
    }

    /// The spec carries the compiled rules only when the job is written with --rules.
    @Test func specCarriesTheCompiledRules() throws {
        let plain = try #require(try JSONSerialization.jsonObject(with: try SparkSpec(settings: RuleSettings()).json()) as? [String: Any])
        #expect(plain["sigma"] == nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparksigma-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try SparkJob.write(SparkJob.Request(outputDirectory: folder.path, rulesDirectory: Fixtures.path("sigma-spark/rules")))
        let spec = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("fathom-spec.json")))
            as? [String: Any])
        let sigma = try #require(spec["sigma"] as? [String: Any])
        let rules = try #require(sigma["rules"] as? [[String: Any]])
        let skipped = try #require(sigma["skipped"] as? [[String: Any]])
        #expect(rules.count == 5)
        #expect(skipped.count == 1)
        #expect(sigma["functions"] as? [String] == ["fathom_fold", "fathom_cidr"])
        // The hash the job records as its manifest's spec_sha256 is the built-in rules' spec, the
        // one analyze --from-results and the sweep compute from their settings: with Sigma rules in
        // the spec, the job's built-in hits are still taken.
        #expect(spec["detection_sha256"] as? String == (try SparkSpec.sha256(settings: RuleSettings())))
        var custom = RuleSettings()
        custom.maxQueries += 1
        #expect(spec["detection_sha256"] as? String != (try SparkSpec.sha256(settings: custom)))
    }

    /// `hunt --from-results`: the manifest decides whose hits count — the job's for the Sigma rules
    /// it computed (even where the loaded store would say otherwise), the native engine's for the
    /// rules it left, and every rule natively with a time range.
    @Test func huntFromResultsTakesTheJobsHitsForTheRulesItComputed() throws {
        let store = try DetectStore()
        try store.add(.storage, DetectSigmaTests.storageRows)
        let rules = SigmaLoader.load(sources: [
            ("a.yml", DetectSigmaTests.rule("sel:\n  status: 403\ncondition: sel").replacingOccurrences(of: "name: t", with: "name: computed")),
            ("b.yml", DetectSigmaTests.rule("sel:\n  status: 202\ncondition: sel").replacingOccurrences(of: "name: t", with: "name: native")),
        ])
        #expect(rules.problems.isEmpty, "\(rules.problems)")
        let results = store.directory.path("results")
        let manifest = #"{"spec_version": \#(SparkSpec.version), "tool_version": "x", "inputs": [], "rules": [], "sigma_rules": ["computed"], "#
            + #""sigma_skipped": [{"id": "native", "reason": "test"}]}"#
        _ = try store.directory.write("results/manifest/part-00000.txt", manifest)
        _ = try store.directory.write("results/hits/part-00000.txt", "")
        // The job's hit of `computed`, on a line the native engine would not pick.
        let jobHit = #"{"atlas": [], "evidence": {"archive": "from-the-job", "line": 99, "member": ""}, "fields": {}, "key": {}, "#
            + #""kind": "storage", "level": "medium", "metrics": {}, "rule": "computed", "title": "test"}"#
        _ = try store.directory.write("results/sigma-hits/part-00000.txt", jobHit + "\n")
        var request = HuntRequest(storeDirectory: store.store, includeBuiltIn: false, sigmaRules: rules.rules, jobs: 1)
        let outcome = try SparkHunt.run(resultsDirectory: results, request: request)
        #expect(outcome.rulesFromSpark == ["computed"])
        #expect(outcome.result.hits.map { "\($0.rule):\($0.evidence.line ?? 0)" } == ["computed:99", "native:4"])
        request.from = 0
        let ranged = try SparkHunt.run(resultsDirectory: results, request: request)
        #expect(ranged.rulesFromSpark.isEmpty)
        #expect(ranged.result.hits.map { "\($0.rule):\($0.evidence.line ?? 0)" } == ["computed:3", "native:4"])
    }
}
