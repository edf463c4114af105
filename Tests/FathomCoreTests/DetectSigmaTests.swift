@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Sigma: every supported construct and modifier, correlations, and unsupported constructs.
@Suite struct DetectSigmaTests {
    static func rule(_ detection: String, kind: String = "storage", extra: String = "") -> String {
        """
        title: test
        name: t
        logsource:
          product: fathom
          service: \(kind)
        detection:
        \(detection.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        \(extra)
        """
    }

    static var storageRows: [[String: Any]] { [
        ["timestamp": "2026-03-02T10:00:00Z", "src_ip": "198.51.100.201", "operation": "REST.GET.OBJECT",
         "bucket": "ml-artifacts", "key": "models/fraud/v13.safetensors", "status": 200, "bytes": 5000, "user_agent": "curl/8.0"],
        ["timestamp": "2026-03-02T10:10:00Z", "src_ip": "10.1.2.3", "operation": "REST.PUT.OBJECT",
         "bucket": "ml-artifacts", "key": "models/fraud/v14.pt", "status": 200, "bytes": 100, "user_agent": "aws-cli/2"],
        ["timestamp": "2026-03-02T10:20:00Z", "src_ip": "203.0.113.150", "operation": "GetBlob",
         "bucket": "models", "key": "data/train*.csv", "status": 403, "user_agent": "Azure-Storage/12 (python)"],
        ["timestamp": "2026-03-02T11:20:00Z", "src_ip": "2001:db8::5", "operation": "DeleteBlob",
         "bucket": "models", "key": "aWdub3JlIHByZXZpb3Vz", "status": 202],
    ] }

    static let cases: [(String, [Int])] = [
        ("sel:\n  src_ip: 198.51.100.201\ncondition: sel", [1]),
        ("sel:\n  operation: rest.get.OBJECT\ncondition: sel", [1]),
        ("sel:\n  operation|cased: rest.get.object\ncondition: sel", []),
        ("sel:\n  key|contains: FRAUD\ncondition: sel", [1, 2]),
        ("sel:\n  key|startswith: models/\ncondition: sel", [1, 2]),
        ("sel:\n  key|endswith: .PT\ncondition: sel", [2]),
        ("sel:\n  key: 'models/*/v1?.*'\ncondition: sel", [1, 2]),
        ("sel:\n  key: 'data/train\\*.csv'\ncondition: sel", [3]),
        ("sel:\n  key|contains|all:\n    - fraud\n    - v13\ncondition: sel", [1]),
        ("sel:\n  key|contains:\n    - v13\n    - train\ncondition: sel", [1, 3]),
        ("sel:\n  key|re: '^models/.*\\.(pt|safetensors)$'\ncondition: sel", [1, 2]),
        ("sel:\n  key|re: '^MODELS/'\ncondition: sel", []),
        ("sel:\n  key|re|i: '^MODELS/'\ncondition: sel", [1, 2]),
        ("sel:\n  src_ip|cidr:\n    - 10.0.0.0/8\n    - 2001:db8::/32\ncondition: sel", [2, 4]),
        ("sel:\n  key|base64: ignore previous\ncondition: sel", [4]),
        ("sel:\n  key|base64offset|contains: previous\ncondition: sel", [4]),
        ("sel:\n  status|gte: 400\ncondition: sel", [3]),
        ("sel:\n  status|lt: 203\ncondition: sel", [1, 2, 4]),
        ("sel:\n  bytes|gt: 100\ncondition: sel", [1]),
        ("sel:\n  bytes|lte: 100\ncondition: sel", [2]),
        ("sel:\n  time|gte: '2026-03-02T10:10:00Z'\n  time|lt: '2026-03-02T11:00:00Z'\ncondition: sel", [2, 3]),
        ("sel:\n  bytes: null\ncondition: sel", [3, 4]),
        ("sel:\n  user_agent|exists: false\ncondition: sel", [4]),
        ("sel:\n  status: 202\ncondition: sel", [4]),
        ("a:\n  bucket: models\nb:\n  status: 403\ncondition: a and not b", [4]),
        ("a:\n  bucket: models\nb:\n  status: 403\ncondition: not (a or b)", [1, 2]),
        ("sel_1:\n  status: 403\nsel_2:\n  bytes: 100\ncondition: 1 of sel_*", [2, 3]),
        ("sel_1:\n  bucket: ml-artifacts\nsel_2:\n  bytes: 100\ncondition: all of sel_*", [2]),
        ("x:\n  bucket: ml-artifacts\ny:\n  status: 200\ncondition: all of them", [1, 2]),
        ("x:\n  status: 403\ny:\n  status: 202\ncondition: 1 of them", [3, 4]),
        ("x:\n  - status: 403\n  - bytes: 100\ncondition: x", [2, 3]),
        ("keywords:\n  - python\n  - curl\ncondition: keywords", [1, 3]),
        // Keywords that must all appear, in any of the record's text fields.
        ("keywords:\n  '|all':\n    - python\n    - AZURE\ncondition: keywords", [3]),
        ("keywords:\n  '|all':\n    - curl\n    - v13\ncondition: keywords", [1]),
        ("keywords:\n  '|all':\n    - curl\n    - python\ncondition: keywords", []),
        ("x:\n  src_ip: 198.51.100.201\ny:\n  status: 403\nz:\n  bucket: models\ncondition: x or y and not z", [1]),
    ]

    @Test(arguments: cases)
    func detectionConstruct(_ testCase: (String, [Int])) throws {
        let (detection, lines) = testCase
        let store = try DetectStore()
        try store.add(.storage, Self.storageRows)
        let loaded = SigmaLoader.load(sources: [("t.yml", Self.rule(detection))])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let hits = try store.hunt([], sigma: loaded.rules)
        #expect(hits.compactMap(\.evidence.line).sorted() == lines.map(Int64.init), "\(detection)")
    }

    /// `windash` as pySigma expands it: each `-` or `/` that starts a flag becomes any of five
    /// dashes; a value's variants are alternatives, also under `all` (as `base64offset`'s are).
    @Test func windashAndMultiVariantValuesUnderAll() throws {
        #expect(SigmaParser.windashVariants("-enc x").count == 5)
        #expect(Set(SigmaParser.windashVariants("a -x /y")).count == 25)
        #expect(SigmaParser.windashVariants("models/fraud-v2") == ["models/fraud-v2"], "inside a word: not a flag")
        let store = try DetectStore()
        try store.add(.storage, [
            ["timestamp": "2026-03-02T10:00:00Z", "src_ip": "192.0.2.1", "operation": "Run", "bucket": "b",
             "key": "tool.exe \u{2013}enc ZQB4AA== /quiet"],
            ["timestamp": "2026-03-02T10:01:00Z", "src_ip": "192.0.2.2", "operation": "Run", "bucket": "b",
             "key": "tool.exe -quiet"],
            ["timestamp": "2026-03-02T10:02:00Z", "src_ip": "192.0.2.3", "operation": "Run", "bucket": "b",
             "key": "tool.exe enc quiet"],
        ])
        let cases: [(String, [Int64])] = [
            ("sel:\n  key|windash|contains: '-enc'\ncondition: sel", [1]),
            ("sel:\n  key|windash|contains:\n    - '-enc'\n    - '/quiet'\ncondition: sel", [1, 2]),
            ("sel:\n  key|windash|contains|all:\n    - '-enc'\n    - '-quiet'\ncondition: sel", [1]),
            ("sel:\n  key|contains: '-enc'\ncondition: sel", []),
        ]
        for (detection, lines) in cases {
            let loaded = SigmaLoader.load(sources: [("t.yml", Self.rule(detection))])
            #expect(loaded.problems.isEmpty, "\(loaded.problems)")
            let hits = try store.hunt([], sigma: loaded.rules)
            #expect(hits.compactMap(\.evidence.line).sorted() == lines, "\(detection)")
        }
        // base64offset under all: each value in any of its three encodings (the six encodings of
        // two values used to be required all at once, which never matches).
        let encoded = try DetectStore()
        try encoded.add(.storage, [["timestamp": "2026-03-02T10:00:00Z", "src_ip": "192.0.2.1", "operation": "Put",
                                    "bucket": "b", "key": Data("say ignore previous and then".utf8).base64EncodedString()]])
        let rule = Self.rule("sel:\n  key|base64offset|contains|all:\n    - ignore\n    - previous\ncondition: sel")
        let loaded = SigmaLoader.load(sources: [("t.yml", rule)])
        #expect(try encoded.hunt([], sigma: loaded.rules).count == 1)
    }

    /// `windash` against the reference implementation: the variants pySigma's
    /// `SigmaWindowsDashModifier` expands each input into (`Fixtures/sigma-conformance/windash.json`,
    /// written by `make-windash.py` with the pySigma version it records).
    @Test func windashMatchesPySigma() throws {
        struct Reference: Decodable {
            struct Case: Decodable { var input: String; var variants: [String] }
            var pysigma: String
            var cases: [Case]
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("sigma-conformance/windash.json")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.cases.count >= 10)
        for item in reference.cases {
            #expect(Set(SigmaParser.windashVariants(item.input)) == Set(item.variants), "\(item.input) (pySigma \(reference.pysigma))")
        }
    }

    /// A Sigma filter (another file of the set) ANDs its condition to the rules it names; a filter
    /// naming an unknown rule, or one of another source kind, is a problem.
    @Test func filtersNarrowTheRulesTheyName() throws {
        let store = try DetectStore()
        try store.add(.storage, Self.storageRows)
        let rule = Self.rule("sel:\n  bucket: models\ncondition: sel")
        let filter = """
            title: not the denied ones
            logsource: {product: fathom, service: storage}
            filter:
              rules:
                - t
              denied:
                status: 403
              condition: not denied
            """
        let loaded = SigmaLoader.load(sources: [("t.yml", rule), ("filter.yml", filter)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        #expect(loaded.rules.map(\.info.id) == ["t"], "a filter is not a rule of its own")
        let hits = try store.hunt([], sigma: loaded.rules)
        #expect(hits.compactMap(\.evidence.line) == [4], "row 3 (status 403) is filtered out")
        let unfiltered = try store.hunt([], sigma: SigmaLoader.load(sources: [("t.yml", rule)]).rules)
        #expect(unfiltered.compactMap(\.evidence.line).sorted() == [3, 4])

        let stray = filter.replacingOccurrences(of: "- t", with: "- nosuch")
            .replacingOccurrences(of: "service: storage", with: "service: inference")
        let problems = SigmaLoader.load(sources: [("t.yml", rule), ("filter.yml", stray)]).problems
        #expect(problems.contains { $0.message.contains("filter refers to unknown rule 'nosuch'") })
        let otherKind = filter.replacingOccurrences(of: "service: storage", with: "service: inference")
            .replacingOccurrences(of: "status: 403", with: "path: /x")
        #expect(SigmaLoader.load(sources: [("t.yml", rule), ("filter.yml", otherKind)]).problems
            .contains { $0.message.contains("is not rule 't''s (storage)") })
    }

    /// Fathom's engine against the reference implementation: for each detection of
    /// `Fixtures/sigma-conformance/sqlite-reference.json`, the events it selects are those that
    /// pySigma's SQLite backend's SQL selects over the same events (written by
    /// `make-sqlite-reference.py`), but for the differences below, each justified.
    @Test func sigmaMatchesPySigmaSQLite() throws {
        struct Reference: Decodable {
            struct Case: Decodable { var detection: String; var events: [Int64]; var sql: [String] }
            var pysigma: String
            var backend: String
            var events: [[String: HitValue]]
            var cases: [Case]
        }
        /// Detection → the events Fathom selects instead, and why.
        let differences: [String: ([Int64], String)] = [
            "sel:\n  operation: rest.get.OBJECT\ncondition: sel":
                ([1], "Sigma compares strings case-insensitively unless |cased; the SQLite backend emits `=`, which is case-sensitive"),
        ]
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("sigma-conformance/sqlite-reference.json")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.cases.count >= 30)
        let store = try DetectStore()
        try store.add(.storage, reference.events.enumerated().map { index, event in
            var row: [String: Any] = ["timestamp": at(Int64(index) * 60)]
            for (name, value) in event {
                switch value {
                case let .string(text): row[name] = text
                case let .int(number): row[name] = number
                default: break
                }
            }
            return row
        })
        var agreed = 0
        for item in reference.cases {
            let loaded = SigmaLoader.load(sources: [("t.yml", Self.rule(item.detection))])
            #expect(loaded.problems.isEmpty, "\(item.detection): \(loaded.problems)")
            let events = try store.hunt([], sigma: loaded.rules).compactMap(\.evidence.line).sorted()
            if let (expected, reason) = differences[item.detection] {
                #expect(events == expected, "\(item.detection) (\(reason))")
                #expect(item.events != expected, "no longer a difference: \(item.detection)")
            } else {
                #expect(events == item.events, "\(item.detection): pySigma (\(reference.pysigma), \(reference.backend)) selects \(item.events) with \(item.sql)")
                if events == item.events { agreed += 1 }
            }
        }
        #expect(agreed == reference.cases.count - differences.count)
    }

    static let unsupported: [(String, Int, String)] = [
        ("sel:\n  key|wide: x\ncondition: sel", 8, "modifier 'wide'"),
        ("sel:\n  nosuch: x\ncondition: sel", 8, "field 'nosuch'"),
        ("sel:\n  key: x\ncondition: sel | count() > 5", 9, "aggregation"),
        ("sel:\n  key: x\ncondition: sel and other", 9, "'other' is not a search identifier"),
        ("sel:\n  key|re: '('\ncondition: sel", 8, "not a valid regular expression"),
        ("sel:\n  src_ip|cidr: 10.0.0.0/33\ncondition: sel", 8, "not a CIDR block"),
        ("sel:\n  key: x\ntimeframe: 5m\ncondition: sel", 9, "timeframe"),
        ("sel:\n  key: x\ncondition: 2 of sel", 9, "'2 of'"),
        ("sel:\n  status|gt: many\ncondition: sel", 8, "needs a number"),
    ]

    @Test(arguments: unsupported)
    func unsupportedConstructsAreReportedWithLine(_ testCase: (String, Int, String)) {
        let (detection, line, message) = testCase
        let loaded = SigmaLoader.load(sources: [("rules/t.yml", Self.rule(detection))])
        #expect(loaded.rules.isEmpty)
        #expect(loaded.problems.count >= 1)
        #expect(loaded.problems.first?.file == "rules/t.yml")
        #expect(loaded.problems.first?.line == line, "\(loaded.problems)")
        #expect(loaded.problems.first?.message.contains(message) == true, "\(loaded.problems)")
    }

    @Test func unknownLogsourceAndBadCorrelationAreReported() {
        let text = """
            title: x
            logsource:
              product: windows
            detection:
              sel:
                key: x
              condition: sel
            ---
            title: c
            correlation:
              type: frequency
              rules: [x]
              timespan: 1h
            """
        let loaded = SigmaLoader.load(sources: [("c.yml", text)])
        #expect(loaded.problems.map(\.line) == [2, 11], "\(loaded.problems)")
    }

    @Test func lintsADirectory() throws {
        let directory = try TemporaryDirectory("fathom-sigma")
        try directory.write("ok/a.yml", Self.rule("sel:\n  key: x\ncondition: sel"))
        try directory.write("bad/b.yaml", Self.rule("sel:\n  key|utf16le: x\ncondition: sel").replacingOccurrences(of: "name: t", with: "name: u"))
        let loaded = SigmaLoader.load(directory: directory.path)
        #expect(loaded.rules.map(\.info.id) == ["t"])
        #expect(loaded.problems.map(\.description) == [directory.path + "/bad/b.yaml:8: rule 'u': modifier 'utf16le' is not supported "
            + "(supported: all, base64, base64offset, cased, cidr, contains, endswith, exists, fieldref, gt, gte, i, lt, lte, m, re, s, startswith, windash)"])
    }

    func correlationStore() throws -> DetectStore {
        let store = try DetectStore()
        var rows: [[String: Any]] = []
        for index in 0..<6 {
            rows.append(["timestamp": "2026-03-02T10:0\(index):00Z", "src_ip": "203.0.113.7", "path": "/predict",
                         "api_key": "k\(index % 3)", "request_body": "b\(index % 2)"])
        }
        rows.append(["timestamp": "2026-03-02T11:00:00Z", "src_ip": "203.0.113.7", "path": "/predict", "api_key": "k9"])
        rows.append(["timestamp": "2026-03-02T10:30:00Z", "src_ip": "198.51.100.9", "path": "/health"])
        try store.add(.inference, rows)
        try store.add(.storage, [["timestamp": "2026-03-02T10:45:00Z", "src_ip": "203.0.113.7", "operation": "GetObject",
                                  "key": "model.pt"]])
        return store
    }

    static let base = """
        title: q
        name: query
        logsource: {product: fathom, service: inference}
        detection:
          sel:
            path|contains: /predict
          condition: sel
        ---
        title: s
        name: steal
        logsource: {product: fathom, service: storage}
        detection:
          sel:
            key|endswith: .pt
          condition: sel
        ---
        """

    @Test(arguments: [
        ("type: event_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 1h\n  condition: {gte: 6}", 1, "event_count", 6),
        ("type: event_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 1h\n  condition: {gt: 6}", 0, "event_count", 0),
        ("type: event_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 2h\n  condition: {gt: 6}", 1, "event_count", 7),
        ("type: value_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 1h\n  condition: {field: principal, gte: 3}", 1, "value_count", 3),
        ("type: value_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 1h\n  condition: {field: input_hash, gt: 2}", 0, "value_count", 0),
        ("type: value_count\n  rules: [query]\n  group-by: [src_ip]\n  timespan: 1h\n  condition: {field: input_hash, eq: 2}", 1, "value_count", 2),
        ("type: temporal\n  rules: [query, steal]\n  group-by: [src_ip]\n  timespan: 1h", 1, "rules", 0),
        ("type: temporal_ordered\n  rules: [steal, query]\n  group-by: [src_ip]\n  timespan: 1h", 0, "rules", 0),
        ("type: temporal_ordered\n  rules: [query, steal]\n  group-by: [src_ip]\n  timespan: 1h", 1, "rules", 0),
    ])
    func correlation(_ body: String, _ count: Int, _ metric: String, _ value: Int) throws {
        let store = try correlationStore()
        let text = Self.base + "\ntitle: corr\nname: corr\ncorrelation:\n  \(body)\n"
        let loaded = SigmaLoader.load(sources: [("c.yml", text)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let all = try store.hunt([], sigma: loaded.rules)
        #expect(!all.contains { $0.rule == "query" }, "a referenced rule generates no hits by default")
        let hits = all.filter { $0.rule == "corr" }
        #expect(hits.count == count, "\(body) → \(hits)")
        if count == 1, metric != "rules" { #expect(hits[0].metrics[metric] == .int(Int64(value))) }
        if count == 1 { #expect(hits[0].key == ["src_ip": .string("203.0.113.7")]) }
    }

    /// value_sum, value_avg, value_median and value_percentile over a numeric field (latencies of
    /// 10, 20, 30, 40 and 100 ms from one address in one hour; a row without latency takes no part).
    @Test(arguments: [
        ("value_sum", "{field: latency_ms, gte: 200}", 200.0),
        ("value_sum", "{field: latency_ms, gt: 200}", nil),
        ("value_avg", "{field: latency_ms, gt: 39}", 40.0),
        ("value_median", "{field: latency_ms, eq: 30}", 30.0),
        ("value_percentile", "{field: latency_ms, percentile: 80, gte: 40}", 40.0),
        ("value_percentile", "{field: latency_ms, percentile: 100, gte: 100}", 100.0),
        ("value_percentile", "{field: latency_ms, percentile: 80, gt: 40}", nil),
    ] as [(String, String, Double?)])
    func valueAggregations(_ type: String, _ condition: String, _ expected: Double?) throws {
        let store = try DetectStore()
        var rows: [[String: Any]] = [10, 20, 30, 40, 100].enumerated().map { index, latency in
            ["timestamp": "2026-03-02T10:0\(index):00Z", "src_ip": "203.0.113.7", "path": "/predict", "latency_ms": latency]
        }
        rows.append(["timestamp": "2026-03-02T10:30:00Z", "src_ip": "203.0.113.7", "path": "/predict"])
        try store.add(.inference, rows)
        let text = Self.base + "\ntitle: corr\nname: corr\ncorrelation:\n  type: \(type)\n  rules: [query]\n"
            + "  group-by: [src_ip]\n  timespan: 1h\n  condition: \(condition)\n"
        let loaded = SigmaLoader.load(sources: [("c.yml", text)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let hits = try store.hunt([], sigma: loaded.rules).filter { $0.rule == "corr" }
        #expect(hits.count == (expected == nil ? 0 : 1), "\(type) \(condition) → \(hits)")
        if let expected, let hit = hits.first {
            #expect(hit.metrics[type] == .double(expected))
            #expect(hit.metrics["values"] == .int(5))
        }
    }

    @Test func valuePercentileNeedsItsPercentile() {
        let text = Self.base + "\ntitle: corr\nname: corr\ncorrelation:\n  type: value_percentile\n  rules: [query]\n"
            + "  timespan: 1h\n  condition: {field: latency_ms, gt: 5}\n"
        let loaded = SigmaLoader.load(sources: [("c.yml", text)])
        #expect(loaded.problems.contains { $0.message.contains("needs 'condition.percentile'") })
    }

    @Test func playbookSigmaFilesMatchTheBuiltInRules() throws {
        let store = try DetectStore()
        try store.add(.inference, inferenceRows(1001, distinct: false) + inferenceRows(600, ip: "2001:db8::1"))
        try store.add(.storage, DetectPlaybookTests.artifactCases.enumerated().map { index, item in
            ["timestamp": at(Int64(index)), "src_ip": item.0, "operation": item.1, "key": item.2]
        })
        try store.add(.llm, DetectPlaybookTests.promptCases.enumerated().map { index, item in
            ["timestamp": at(Int64(index)), "user": "u", "prompt": item.0.replacingOccurrences(of: #"\u0049"#, with: "I")
                .replacingOccurrences(of: #"\u200b"#, with: "\u{200B}")]
        })
        try store.add(.registry, [
            ["timestamp": at(0), "model": "m", "version": "v1", "event": "register_version"],
            ["timestamp": at(1), "model": "m", "version": "v1", "event": "deploy", "status": "409"],
            ["timestamp": at(2), "model": "m", "version": "v1", "event": "scale", "status": "200"],
            ["timestamp": at(3), "model": "m", "version": "v0", "event": "rollback", "status": "201"],
        ])
        let loaded = SigmaLoader.load(sources: SigmaLibrary.files.map { ($0.name, $0.text) })
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let sigma = try store.hunt([], sigma: loaded.rules)
        let builtIn = try store.hunt(["extraction.volume", "artifact.external-access", "prompt.injection-phrase", "registry.change"])
        func lines(_ hits: [Hit], _ kind: SourceKind) -> [String] {
            hits.filter { $0.kind == kind }.map {
                "\($0.evidence.line ?? $0.evidence.first?.line ?? 0) \($0.window?.start.nanoseconds ?? 0) \($0.keyText)"
            }.sorted()
        }
        for kind in [SourceKind.storage, .llm, .registry] {
            #expect(lines(sigma, kind) == lines(builtIn.map { var hit = $0; hit.key = [:]; return hit }, kind), "\(kind)")
        }
        #expect(lines(sigma, .inference).count == 2, "1001 queries from one address, 600 distinct inputs from another")
        #expect(lines(builtIn, .inference) == lines(sigma, .inference))
        #expect(lines(sigma, .storage).count == DetectPlaybookTests.artifactCases.filter(\.3).count)
    }

    /// `fathom rules export --settings`: the exported files carry the settings' thresholds and
    /// endpoint patterns, and find what the built-in rule finds with the same settings.
    @Test func exportedSigmaHonoursTheSettings() throws {
        let store = try DetectStore()
        try store.add(.inference, inferenceRows(150, path: "/v2/score", distinct: false))
        var settings = RuleSettings()
        settings.endpointPatterns = ["/score"]
        settings.maxQueries = 100
        let files = SigmaLibrary.files(settings: settings)
        #expect(files.first { $0.name == "extraction-volume.yml" }?.text.contains("gt: 100\n") == true)
        let loaded = SigmaLoader.load(sources: files.map { ($0.name, $0.text) })
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let sigma = try store.hunt([], sigma: loaded.rules).filter { $0.kind == .inference }
        let builtIn = try store.hunt(["extraction.volume"], settings: settings)
        #expect(sigma.count == 1 && builtIn.count == 1, "\(sigma) \(builtIn)")
        #expect(sigma.first?.window == builtIn.first?.window)
        // With the defaults neither the path nor the count qualifies.
        let defaults = SigmaLoader.load(sources: SigmaLibrary.files.map { ($0.name, $0.text) })
        #expect(try store.hunt([], sigma: defaults.rules).filter { $0.kind == .inference }.isEmpty)
    }
}
