@testable import FathomCore
import GRDB
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

/// The parts of the sweep that need no process: finding identity and growth, the configuration,
/// the v3 migration, and ingest's recognition of copies and altered files.
@Suite struct SweepTrackerTests {
    static let hour: Int64 = 3_600_000_000_000
    static let rule = RuleInfo(id: "extraction.volume", title: "t", level: "high", atlas: [], kind: .inference, semantics: "")
    static let event = RuleInfo(id: "prompt.injection-phrase", title: "t", level: "medium", atlas: [], kind: .llm, semantics: "")

    static func aggregate(_ start: Int64, _ end: Int64, count: Int64, ip: String = "198.51.100.23",
                          extra: [String: HitValue] = [:]) -> Hit {
        Hit(rule: rule, window: HitWindow(start: start * hour, end: end * hour), key: ["src_ip": .string(ip)],
            metrics: ["query_count": .int(count)].merging(extra) { $1 },
            evidence: .aggregate(first: EvidenceRef(archive: "a", member: "", line: 1),
                                 last: EvidenceRef(archive: "a", member: "", line: 2)))
    }

    static func stored(_ hit: Hit, id: Int64 = 1) -> StoredFinding {
        StoredFinding(id: id, identity: FindingTracker.identity(of: hit), rule: hit.rule, key: hit.keyText, time: hit.time?.nanoseconds,
                      window: hit.window, metrics: hit.metrics, firstSweep: 1, lastSweep: 1)
    }

    /// Reported: 1200 queries in [10:00, 11:00). What does a later sweep make of each hit?
    @Test(arguments: [
        (aggregate(10, 11, count: 1200), "unchanged"),
        (aggregate(10, 11, count: 1600), "updated"),
        (aggregate(10, 11, count: 900), "unchanged"),
        (aggregate(9, 11, count: 1200), "updated"),
        (aggregate(10, 12, count: 1200), "updated"),
        (aggregate(10, 11, count: 1200, extra: ["budget": .int(9000)]), "unchanged"),
        (aggregate(11, 12, count: 1200), "new"),
        (aggregate(10, 11, count: 1200, ip: "203.0.113.9"), "new"),
    ])
    func aggregateVerdicts(hit: Hit, expected: String) {
        var tracker = FindingTracker(stored: [Self.stored(Self.aggregate(10, 11, count: 1200, extra: ["budget": .int(5000)]))])
        let verdict = tracker.classify(hit)
        switch verdict {
        case .new: #expect(expected == "new")
        case .updated: #expect(expected == "updated")
        case .unchanged: #expect(expected == "unchanged")
        }
    }

    @Test func eventHitsAreReportedOnce() {
        let hit = Hit(rule: Self.event, time: Timestamp(nanoseconds: 5 * Self.hour), key: ["principal": .string("u1")],
                      evidence: .event(EvidenceRef(archive: "llm.jsonl", member: "", line: 7)))
        var other = hit
        other.evidence = .event(EvidenceRef(archive: "llm.jsonl", member: "", line: 8))
        var tracker = FindingTracker(stored: [Self.stored(hit)])
        #expect(tracker.classify(hit) == .unchanged)
        guard case let .new(identity) = tracker.classify(other) else {
            Issue.record("another line is another finding")
            return
        }
        #expect(identity.hasSuffix("llm.jsonl#:8"))
        #expect(tracker.classify(other) == .unchanged, "the same event twice in one sweep is one finding")
    }

    /// Log text can make two hits that do not sort level share an identity (here a rule id and a
    /// key name with the separator in them): classified in sorted order, the second is still a
    /// finding of its own, under an identity no other finding of the sweep has.
    @Test func identitiesAlikeAcrossRunsStayUnique() {
        let place = EvidenceRef(archive: "llm.jsonl", member: "", line: 7)
        let first = Hit(rule: RuleInfo(id: "a", title: "t", level: "high", atlas: [], kind: .llm, semantics: ""),
                        time: Timestamp(nanoseconds: 5), key: ["b|k": .string("v")], evidence: .event(place))
        let second = Hit(rule: RuleInfo(id: "a|b", title: "t", level: "high", atlas: [], kind: .llm, semantics: ""),
                         time: Timestamp(nanoseconds: 5), key: ["k": .string("v")], evidence: .event(place))
        #expect(FindingTracker.identity(of: first) == FindingTracker.identity(of: second))
        var tracker = FindingTracker(stored: [])
        let verdicts = [first, second].sorted(by: Hit.precedes).map { tracker.classify($0) }
        #expect(verdicts == [.new(identity: FindingTracker.identity(of: first)), .new(identity: FindingTracker.identity(of: first) + "#2")])
    }

    @Test func aStoredFindingMatchesOneHitOfASweep() {
        // A merged window that a later sweep sees as two: the first grows the stored one, the
        // second is new.
        var tracker = FindingTracker(stored: [Self.stored(Self.aggregate(10, 14, count: 3000))])
        #expect(tracker.classify(Self.aggregate(10, 12, count: 3100)) != .new(identity: ""))
        guard case .new = tracker.classify(Self.aggregate(13, 15, count: 1500)) else {
            Issue.record("the second hit is a new finding")
            return
        }
    }
}

@Suite struct SweepConfigTests {
    @Test func fullConfigurationParsesWithPathsResolvedAgainstItsFolder() throws {
        let config = try SweepConfig(yaml: """
            store: state/store
            output: /srv/reports
            watch:
              - path: drops/gateway
                patterns:
                  inference: ["gateway-*.jsonl.zst", "**/nginx-*.log.gz"]
                  any: ["*.json"]
              - /abs/storage
            lookback:
              default: 12h
              pipeline: 14d
            rules:
              settings: settings.yaml
              sigma: rules
              only: [extraction.volume]
            case:
              classification: INTERNAL
              internal_networks: [10.0.0.0/8]
            case_prefix: NIGHTLY
            jobs: 1
            """, origin: "sweep.yaml", folder: "/etc/fathom")
        #expect(config.store == "/etc/fathom/state/store")
        #expect(config.output == "/srv/reports")
        #expect(config.watches.map(\.path) == ["/etc/fathom/drops/gateway", "/abs/storage"])
        #expect(config.watches[0].patterns.map(\.kind) == [.inference, nil])
        #expect(config.watches[0].patterns[0].globs == ["gateway-*.jsonl.zst", "**/nginx-*.log.gz"])
        #expect(config.lookback(for: .inference) == 12 * 3600)
        #expect(config.lookback(for: .pipeline) == Int64(14 * 86_400))
        #expect(config.settingsPath == "/etc/fathom/settings.yaml")
        #expect(config.sigmaDirectory == "/etc/fathom/rules")
        #expect(config.ruleIDs == ["extraction.volume"])
        #expect(config.caseFile?.classification == "INTERNAL")
        #expect(config.caseFile?.internalNetworks == ["10.0.0.0/8"])
        #expect(config.casePrefix == "NIGHTLY")
        #expect(config.jobs == 1)
        #expect(config.results.isEmpty)
    }

    @Test func resultsFoldersAloneAreEnoughAndResolveAgainstTheFile() throws {
        let config = try SweepConfig(yaml: "results: [spark/nightly, /abs/results]\n", origin: "sweep.yaml", folder: "/etc/fathom")
        #expect(config.watches.isEmpty)
        #expect(config.results == ["/etc/fathom/spark/nightly", "/abs/results"])
        let single = try SweepConfig(yaml: "results: spark\nwatch: [drops]\n", origin: "sweep.yaml", folder: "/x")
        #expect(single.results == ["/x/spark"])
        #expect(single.watches.map(\.path) == ["/x/drops"])
    }

    @Test(arguments: [
        ("watch: [a]\nfrequency: daily\n", "unknown key 'frequency'"),
        ("store: s\n", "'watch' or 'results' must name at least one folder"),
        ("watch:\n  - path: a\n    patterns:\n      logs: ['*']\n", "unknown source kind 'logs'"),
        ("watch: [a]\nlookback: {default: soon}\n", "'lookback.default' must be a duration"),
        ("watch: [a]\ncase: {id: X}\ncase_file: c.yaml\n", "either 'case' or 'case_file'"),
        ("watch: [a]\ncase: {colour: red}\n", "unknown key 'colour'"),
        ("watch: [a]\njobs: 0\n", "'jobs' must be a whole number"),
    ])
    func problemsAreNamed(yaml: String, expected: String) {
        #expect(throws: SweepError.self) { try SweepConfig(yaml: yaml, origin: "sweep.yaml", folder: "/x") }
        do {
            _ = try SweepConfig(yaml: yaml, origin: "sweep.yaml", folder: "/x")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}

@Suite struct SweepLookbackTests {
    @Test func rulesJudgingSingleRecordsReadOnlyTheNewData() throws {
        let config = try SweepConfig(yaml: "watch: [a]\nlookback: {default: 2d, pipeline: 14d}\n", origin: "s", folder: "/x")
        let lookback = Dictionary(uniqueKeysWithValues: RuleCatalog.builtIn.map {
            ($0.info.id, SweepDetection.lookback(of: $0.info, config: config, isBuiltIn: true))
        })
        for rule in ["llm.sensitive-output", "artifact.external-access", "prompt.injection-normalized", "prompt.injection-phrase"] {
            #expect(lookback[rule] == 0, "\(rule)")
        }
        #expect(lookback["extraction.volume"] == Int64(2 * 86_400))
        #expect(lookback["extraction.sliding-window"] == Int64(2 * 86_400))
        #expect(lookback["registry.change"] == Int64(2 * 86_400), "rollbacks are told by the versions before them")
        #expect(lookback["pipeline.burst"] == Int64(14 * 86_400))
    }
}

@Suite struct SweepCatalogTests {
    /// v6 moves the findings' unique index from the identity to 16 bytes of its SHA-256: a v5
    /// catalog's findings keep their ids, identities and reports, and an identity stays unique.
    @Test func v6KeysTheFindingsByTheirIdentitysHash() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("catalog.sqlite")
        let identities = ["extraction.volume|src_ip=203.0.113.7|window:1|/evidence/gateway.jsonl.zst#:12",
                          "prompt.injection-phrase|principal=u_1|time:5|/evidence/llm.jsonl.zst#a.jsonl:7", "caf\u{E9}|\u{0}|x"]
        do {
            let old = try Catalog(path: path, migratingUpTo: "v5-findings-times")
            try old.write { db in
                try db.execute(sql: "INSERT INTO sweeps (id, started_at, status) VALUES (1, 0, 'complete'), (2, 1, 'complete')")
                for (index, identity) in identities.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO findings (id, identity, rule, key, time, window_start, window_end, metrics, hit, first_sweep, last_sweep, status, incident)
                        VALUES (?, ?, 'r', ?, ?, NULL, NULL, '{"n":1}', '{}', 1, 2, 'updated', 'SWEEP-1')
                        """, arguments: [10 + index * 7, identity, "k\(index)", 100 + index])
                    try db.execute(sql: "INSERT INTO finding_reports (sweep_id, finding_id, status, metrics) VALUES (2, ?, 'updated', '{}')",
                                   arguments: [10 + index * 7])
                }
            }
        }
        let current = try Catalog(path: path)
        #expect(try current.appliedMigrations().last == "v6-findings-identity-key")
        let rows = try current.read { db in
            try Row.fetchAll(db, sql: "SELECT id, identity, identity_key, key, time, incident, status FROM findings ORDER BY id")
        }
        #expect(rows.map { $0["id"] as Int64 } == [10, 17, 24])
        // A `String` is bound as text that ends at a NUL: the key is of what the catalog keeps.
        #expect(try current.read { db in try Data.fetchAll(db, sql: "SELECT CAST(identity AS BLOB) FROM findings ORDER BY id") }
            == identities.map { Data($0.utf8.prefix { $0 != 0 }) })
        #expect(Catalog.identityKey(identities[2]) == Catalog.identityKey("caf\u{E9}|"))
        #expect(rows.map { $0["identity_key"] as Data } == identities.map(Catalog.identityKey))
        #expect(rows.map { $0["key"] as String } == ["k0", "k1", "k2"] && rows.map { $0["time"] as Int64 } == [100, 101, 102])
        #expect(rows.allSatisfy { ($0["incident"] as String) == "SWEEP-1" && ($0["status"] as String) == "updated" })
        // The key is the SHA-256's first 16 bytes (of "abc": ba7816bf8f01cfea414140de5dae2223…).
        #expect(Catalog.identityKey("abc") == Data([0xBA, 0x78, 0x16, 0xBF, 0x8F, 0x01, 0xCF, 0xEA, 0x41, 0x41, 0x40, 0xDE, 0x5D, 0xAE, 0x22, 0x23]))
        try current.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM finding_reports JOIN findings ON findings.id = finding_id") == 3)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            // The old table's pages were given back.
            #expect(try Int.fetchOne(db, sql: "PRAGMA freelist_count") == 0)
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings' ORDER BY name")
            #expect(indexes == ["findings_rule_key", "findings_rule_times", "sqlite_autoindex_findings_1"])
        }
        // An identity is still unique: a second finding with the same key is refused.
        #expect(throws: (any Error).self) {
            try current.write { db in
                try db.execute(sql: """
                    INSERT INTO findings (identity, identity_key, rule, key, metrics, hit, first_sweep, last_sweep, status)
                    VALUES (?, ?, 'r', 'k', '{}', '{}', 1, 1, 'new')
                    """, arguments: [identities[0], Catalog.identityKey(identities[0])])
            }
        }
    }

    @Test func v3KeepsAnEarlierCatalogsArchivesAsUnswept() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("catalog.sqlite")
        do {
            let old = try Catalog(path: path, migratingUpTo: "v2-filtered-records")
            try old.write { db in
                try db.execute(sql: """
                    INSERT INTO archives (path, size, mtime_ns, sha256, status, rows, rejected, started_at, first_time, last_time)
                    VALUES ('a.log', 10, 1, 'abc', 'complete', 7, 1, 0, 100, 200);
                    INSERT INTO segments (archive_id, path, kind, rows, min_time, max_time, bytes, checksum)
                    VALUES (1, 'segments/inference/1-1.seg', 'inference', 7, 100, 200, 64, 'ff');
                    """)
            }
        }
        let current = try Catalog(path: path)
        #expect(try current.appliedMigrations().last == "v6-findings-identity-key")
        #expect(try current.unsweptArchives().map(\.path) == ["a.log"])
        #expect(try current.findingCount() == 0)
        // Pruning keeps the archive and notes the pruned rows.
        let dropped = try current.pruneSegments(olderThan: 201, at: 999)
        #expect(dropped.map(\.rows) == [7])
        #expect(try current.archives().map(\.path) == ["a.log"])
        #expect(try current.segmentPaths().isEmpty)
        let archive = try #require(try current.archives().first)
        #expect(archive.prunedAt == 999 && archive.prunedRows == 7)
    }

    /// The nightly sweep reads only the stored findings a hit of its span can match: events at a time
    /// inside it, windows reaching into it (an empty window by its start), findings with neither.
    @Test func storedFindingsAreReadForTheSpanOnly() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog(path: directory.path("catalog.sqlite"))
        try catalog.write { db in
            try db.execute(sql: "INSERT INTO sweeps (id, started_at, status) VALUES (1, 0, 'complete')")
            let rows: [(String, String, Int64?, Int64?, Int64?)] = [
                ("event-before", "r", 99, nil, nil), ("event-first", "r", 100, nil, nil), ("event-last", "r", 200, nil, nil),
                ("event-after", "r", 201, nil, nil), ("event-other-rule", "q", 150, nil, nil),
                ("window-ends-at-from", "r", nil, 50, 100), ("window-ends-before", "r", nil, 50, 99),
                ("window-inside", "r", nil, 120, 130), ("window-around", "r", nil, 0, 1000), ("window-starts-at-to", "r", nil, 200, 300),
                ("window-after", "r", nil, 201, 300), ("empty-window-inside", "r", nil, 150, 150), ("neither", "r", nil, nil, nil),
            ]
            for (identity, rule, time, start, end) in rows {
                try db.execute(sql: """
                    INSERT INTO findings (identity, identity_key, rule, key, time, window_start, window_end, metrics, hit, first_sweep, last_sweep, status, incident)
                    VALUES (?, ?, ?, 'k', ?, ?, ?, '{}', '{}', 1, 1, 'new', '')
                    """, arguments: [identity, Catalog.identityKey(identity), rule, time, start, end])
            }
        }
        let found = try catalog.findings(rules: ["r"], touching: 100, 200).map(\.identity)
        #expect(found == ["event-first", "event-last", "window-ends-at-from", "window-inside", "window-around",
                          "window-starts-at-to", "empty-window-inside", "neither"])
        // The times are tested in the index: the rows of the rule that do not match are not read.
        let plan = try catalog.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Catalog.storedFindingsSQL(rules: 1), arguments: ["r", 100, 200, 200, 100])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX findings_rule_times") }, "\(plan)")
    }
}

@Suite struct KnownIdentityTests: StoreReading {
    static let lines = (0..<50).map { #"{"timestamp":"2026-03-02T10:00:\#($0 < 10 ? "0" : "")\#($0)Z","client_ip":"10.0.0.1","path":"/v1/predict","status":200}"# }
        .joined(separator: "\n") + "\n"

    @Test func copiesTouchedAndAlteredFilesAreRecognisedBeforeReading() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        let original = try directory.write("in/a.jsonl", Self.lines, modified: Date(timeIntervalSince1970: 1_000_000))
        let first = try ingest([original], store: store, kind: .inference)
        #expect(first.files.map(\.status) == [.ingested])
        let sha = first.files[0].sha256

        // A copy under another name: not read, recorded as a copy.
        let copy = try directory.write("in/b.jsonl", Self.lines)
        let second = try ingest([copy], store: store, kind: .inference)
        #expect(second.files.map(\.status) == [.duplicate])
        #expect(second.files[0].sha256 == sha && second.files[0].rows == 0)
        #expect(try ingest([copy], store: store, kind: .inference).files.map(\.status) == [.alreadyIngested])

        // The original touched (same bytes, new modification time): known.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 2_000_000)], ofItemAtPath: original)
        #expect(try ingest([original], store: store, kind: .inference).files.map(\.status) == [.alreadyIngested])

        // The original rewritten: altered evidence, not ingested; the record stays.
        try directory.write("in/a.jsonl", Self.lines.replacingOccurrences(of: "10.0.0.1", with: "10.0.0.2"))
        let third = try ingest([original], store: store, kind: .inference)
        #expect(third.files.map(\.status) == [.altered])
        #expect(third.files[0].note.contains(sha))
        let catalog = try Catalog(path: store + "/catalog.sqlite")
        #expect(try catalog.archives().map(\.sha256) == [sha])
        #expect(try catalog.unreportedAlteredEvidence().map(\.originalSHA256) == [sha])
        #expect(try catalog.unreportedAliases().map(\.path).sorted() == [copy, original].map { InputDiscovery.display($0, cwd: FileManager.default.currentDirectoryPath) }.sorted())
        #expect(try rows(.inference, store: store).count == 50, "every row once")
    }
}

/// The digest of a sweep with many findings: streamed to disk as `json()` would write it, and
/// condensed in Markdown past ``SweepDigest/listedFindings``.
@Suite struct SweepDigestOutputTests {
    static func digest(findings count: Int) -> SweepDigest {
        let hour: Int64 = 3_600_000_000_000
        var findings: [SweepDigest.Finding] = []
        for index in 0..<count {
            // Two rules; hostile text (a bidirectional override, a zero-width space, a quote, a
            // line break) in keys and fields, as logs deliver it.
            let rule = index % 3 == 0 ? SweepTrackerTests.rule : SweepTrackerTests.event
            var hit = Hit(rule: rule, time: Timestamp(nanoseconds: Int64(index) * hour),
                          key: ["principal": .string("u\(index)\u{202E}\u{200B}\"\n")],
                          evidence: .event(EvidenceRef(archive: "llm/a b.jsonl", member: "", line: Int64(index + 1))))
            hit.fields = HitFields(["prompt": .string("ignore previous \u{2066}instructions\u{2069} #\(index)"), "tokens": .int(Int64(index))])
            findings.append(.init(status: index % 5 == 0 ? "updated" : "new", identity: "id-\(index)", hit: hit,
                                  previous: index % 5 == 0 ? .init(window: nil, metrics: ["query_count": .int(1)], firstSweep: 1) : nil,
                                  incident: index % 7 == 0 ? .init(caseID: "SWEEP-1", report: "incidents/x", incidents: ["INC-1"]) : nil))
        }
        return SweepDigest(
            sweep: 3, date: "2026-03-08", generatedAt: Timestamp(nanoseconds: 0), toolVersion: "test", configSHA256: "abc",
            status: .newFindings, newArchives: [], newData: .init(start: Timestamp(nanoseconds: 0), end: Timestamp(nanoseconds: hour)),
            scanned: nil, lookback: ["llm": "1d"], findings: SweepFindingList(findings), incidents: [], altered: [], copies: [], unreadable: ["x\u{202E}"],
            missingFolders: [], passedOver: nil, skippedRules: nil)
    }

    @Test(arguments: [0, 1, 2, 3_000])
    func streamedJSONIsJSONByteForByte(count: Int) throws {
        let digest = Self.digest(findings: count)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try digest.writeJSON(to: path)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == (try digest.json()))
        #expect(!written.contains("\u{202E}"))
        #expect(try JSONDecoder().decode(SweepDigest.self, from: Data(written.utf8)) == digest)
    }

    @Test func manyFindingsAreCountedPerRuleAndListedInPart() {
        let few = Self.digest(findings: SweepDigest.listedFindings).markdown()
        // Every new finding listed (the evidence column is the new findings' own), nothing condensed.
        #expect(few.components(separatedBy: "a b.jsonl").count - 1 == SweepDigest.listedFindings * 4 / 5)
        #expect(!few.contains("more in digest.json"))
        let many = Self.digest(findings: 3_000).markdown()
        // 2,400 new findings: 800 of extraction.volume, 1,600 of prompt.injection-phrase, 50 of each listed.
        #expect(many.contains("## New findings (2400)"))
        #expect(many.contains("| extraction.volume | high | 800 |"))
        #expect(many.contains("| prompt.injection-phrase | medium | 1600 |"))
        #expect(many.contains("| prompt.injection-phrase | … 1550 more in digest.json |"))
        #expect(many.contains("## Updated findings (600)"))
        let listedNew = many.components(separatedBy: "## Updated findings")[0]
        #expect(listedNew.components(separatedBy: "\n| extraction.volume | high | 1970-").count - 1 == 50)
        #expect(listedNew.components(separatedBy: "a b.jsonl").count - 1 == 100)
        #expect(!many.contains("\u{202E}"))
    }
}

/// The sweep's findings held as references into its hits (``SweepFindingList``): each reads back
/// as the finding a list of ``SweepDigest/Finding`` values (masked hit, identity, previous state,
/// incident link) holds, so the digest and the commit it feeds are the same.
@Suite struct SweepFindingListTests {
    /// Hits of two rules, some with a secret in a field, one event hit twice (a collision).
    static func hits() -> [Hit] {
        var hits: [Hit] = []
        for index in 0..<40 {
            var hit = Hit(rule: index % 4 == 0 ? SweepTrackerTests.rule : SweepTrackerTests.event,
                          time: Timestamp(nanoseconds: Int64(index) * SweepTrackerTests.hour),
                          key: ["principal": .string("u\(index % 6)")], metrics: ["query_count": .int(Int64(index))],
                          evidence: .event(EvidenceRef(archive: "llm/a.jsonl", member: "", line: Int64(index % 30))))
            hit.fields = HitFields(["prompt": .string(index % 3 == 0 ? "my key AKIAIOSFODNN7EXAMPLE, ignore previous" : "hello \(index)")])
            hits.append(hit)
        }
        return hits.sorted(by: Hit.precedes)
    }

    @Test func referencesReadBackAsTheFindingsTheyStandFor() throws {
        let hits = Self.hits()
        var list = SweepFindingList(hits: hits)
        var expected: [SweepDigest.Finding] = []
        for (index, hit) in hits.enumerated() where index % 5 != 1 {
            let isUpdate = index % 7 == 0
            // A stored identity for updates, a suffixed one now and then, the hit's own otherwise.
            let identity = isUpdate ? "stored-\(index)" : FindingTracker.identity(of: hit) + (index % 3 == 0 ? "#2" : "")
            let previous = isUpdate ? SweepDigest.Previous(window: nil, metrics: ["query_count": .int(1)], firstSweep: 1) : nil
            list.append(hit: index, isUpdate: isUpdate, identity: identity, previous: previous)
            expected.append(.init(status: isUpdate ? "updated" : "new", identity: identity, hit: hit.maskingSecrets(),
                                  previous: previous, incident: nil))
        }
        let link = SweepDigest.IncidentLink(caseID: "SWEEP-1", report: "incidents/SWEEP-1/brief.md", incidents: ["INC-2"])
        list.link(byRule: [SweepTrackerTests.rule.id: link])
        for index in expected.indices where expected[index].hit.rule == SweepTrackerTests.rule.id { expected[index].incident = link }

        #expect(Array(list) == expected)
        #expect(list == SweepFindingList(expected))
        #expect(hits.contains { $0.maskingSecrets() != $0 }, "some hits hold a secret")
        #expect(!list.contains { ($0.hit.fields?["prompt"]?.description ?? "").contains("AKIAIOSFODNN7EXAMPLE") }, "secrets masked")
        let decoded = try JSONDecoder().decode(SweepFindingList.self, from: try JSONEncoder().encode(list))
        #expect(decoded == list)
    }

    /// The digest made from references writes the same `digest.json` and `digest.md` as the one
    /// made from the same findings as values.
    @Test func digestFromReferencesIsTheDigestFromValues() throws {
        let hits = Self.hits()
        var list = SweepFindingList(hits: hits)
        for (index, hit) in hits.enumerated() {
            list.append(hit: index, isUpdate: index % 9 == 0, identity: FindingTracker.identity(of: hit),
                        previous: index % 9 == 0 ? .init(window: nil, metrics: [:], firstSweep: 2) : nil)
        }
        var byReference = SweepDigestOutputTests.digest(findings: 0)
        byReference.findings = list
        var byValue = byReference
        byValue.findings = SweepFindingList(Array(list))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try byReference.writeJSON(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == (try byValue.json()))
        #expect(byReference.markdown() == byValue.markdown())
    }

    /// The catalog's metrics text is `JSONEncoder`'s compact, key-sorted encoding.
    @Test(arguments: [[:], ["query_count": .int(3), "distinct_inputs": .int(2)],
                      ["phrase": .string("a/b \"c\"\n\u{1}"), "phrases": .strings(["x", "y/z"]), "mean": .double(2.5), "none": .null]]
          as [[String: HitValue]])
    func metricsTextIsTheEncoders(metrics: [String: HitValue]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(SweepJSON.metricsText(metrics) == String(decoding: try encoder.encode(metrics), as: UTF8.self))
    }
}
