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

/// The analysis rules on small, hand-made cases: windows per incident type, rollbacks, missing
/// registry events or decision logs, and a case file the logs contradict.
@Suite struct AnalysisTests {
    /// A registry event line in the generic JSON shape.
    static func registry(_ time: String, _ version: String, event: String = "patch", environment: String = "ml-prod",
                         status: String = "success") -> String {
        #"{"timestamp":"\#(time)","model":"fraud","version":"\#(version)","event":"\#(event)","to_stage":"deployed","environment":"\#(environment)","status":"\#(status)","principal":"ci"}"#
    }

    static func decision(_ time: String, _ version: String, _ decision: String, _ id: String) -> String {
        #"{"timestamp":"\#(time)","model":"fraud","model_version":"\#(version)","request_id":"\#(id)","decision":"\#(decision)","score":0.5}"#
    }

    static func gateway(_ time: String, ip: String = "198.51.100.9", body: String = "x", status: Int = 200) -> String {
        #"{"timestamp":"\#(time)","client_ip":"\#(ip)","api_key":"k","method":"POST","path":"/v1/models/fraud/predict","status":\#(status),"request_body":"\#(body)","model":"fraud"}"#
    }

    func analyze(_ files: [String: [String]], caseFile: CaseFile? = nil) throws -> AnalysisResult {
        let directory = try TemporaryDirectory("analysis")
        for (name, lines) in files { try directory.write("in/" + name, lines.joined(separator: "\n") + "\n") }
        let request = AnalyzeRequest(paths: [directory.path("in")], storeDirectory: directory.path("store"),
                                     caseFile: caseFile, reportsDirectory: directory.path("Reports"),
                                     now: "2026-03-10T00:00:00Z", jobs: 2)
        return try AnalysisEngine.run(request).result
    }

    @Test func rollbackTwiceSpansBothServicePeriods() throws {
        let result = try analyze([
            "registry.jsonl": [
                Self.registry("2026-03-01T00:00:00Z", "v1"),
                Self.registry("2026-03-02T00:00:00Z", "v2", environment: "ml-staging"),
                Self.registry("2026-03-02T10:00:00Z", "v2"),
                Self.registry("2026-03-02T12:00:00Z", "v1", event: "rollback"),
                Self.registry("2026-03-02T14:00:00Z", "v2"),
                Self.registry("2026-03-02T15:59:00Z", "v1", status: "failure"),
                Self.registry("2026-03-02T16:00:00Z", "v1", event: "rollback"),
            ],
            "decisions.jsonl": [
                Self.decision("2026-03-02T09:00:00Z", "v1", "approve", "r0"),
                Self.decision("2026-03-02T10:30:00Z", "v2", "approve", "r1"),
                Self.decision("2026-03-02T11:00:00Z", "v2", "decline", "r2"),
                Self.decision("2026-03-02T13:00:00Z", "v1", "approve", "r3"),
                Self.decision("2026-03-02T15:00:00Z", "v2", "approve", "r4"),
                Self.decision("2026-03-02T16:00:30Z", "v2", "approve", "r5"),
            ],
        ])
        let affected = try #require(result.affectedDecisions)
        #expect(affected.compromisedVersion == "v2")
        #expect(affected.lastKnownGoodVersion == "v1")
        #expect(affected.window.start.time == "2026-03-02T10:00:00Z", "the staging deploy does not start the window")
        #expect(affected.window.end?.time == "2026-03-02T16:00:00Z", "the failed rollback does not end it")
        #expect(result.registry?.rollbacks == ["2026-03-02T12:00:00Z", "2026-03-02T16:00:00Z"])
        #expect(affected.exact)
        #expect(affected.total.value == 3)
        #expect(affected.byDecision == ["approve": 2, "decline": 1])
        #expect(result.openItems.contains { $0.contains("1 decisions were served by v2 after the rollback") })
        #expect(result.incidents.contains { $0.type == .modelBehaviour })
        let production = try #require(result.flowchart.nodes.first { $0.id == "mb.production" })
        #expect(production.answer == .yes)
        #expect(production.answeredBy == "evidence")
    }

    /// affected_decisions.csv is in (time, request id) order across files, ties in both in reading
    /// order; decisions after the rollback are listed with in_window false.
    @Test func affectedDecisionsAreListedInTimeThenRequestIDOrder() throws {
        let directory = try TemporaryDirectory("analysis")
        let files = [
            "registry.jsonl": [Self.registry("2026-03-01T00:00:00Z", "v1"), Self.registry("2026-03-02T10:00:00Z", "v2"),
                               Self.registry("2026-03-02T12:00:00Z", "v1", event: "rollback")],
            "a-decisions.jsonl": [Self.decision("2026-03-02T11:00:00Z", "v2", "decline", "r9"),
                                  Self.decision("2026-03-02T10:30:00Z", "v2", "approve", "r5"),
                                  Self.decision("2026-03-02T11:00:00Z", "v2", "approve", "r3"),
                                  Self.decision("2026-03-02T12:00:30Z", "v2", "approve", "r8")],
            "b-decisions.jsonl": [Self.decision("2026-03-02T11:00:00Z", "v2", "approve", "r4"),
                                  Self.decision("2026-03-02T10:30:00Z", "v2", "decline", "r5"),
                                  Self.decision("2026-03-02T09:00:00Z", "v1", "approve", "r0")],
        ]
        for (name, lines) in files { try directory.write("in/" + name, lines.joined(separator: "\n") + "\n") }
        let request = AnalyzeRequest(paths: [directory.path("in")], storeDirectory: directory.path("store"),
                                     reportsDirectory: directory.path("Reports"), now: "2026-03-10T00:00:00Z", jobs: 2)
        let outcome = try AnalysisEngine.run(request)
        #expect(outcome.result.affectedDecisions?.total.value == 5)
        let csv = try String(contentsOfFile: directory.path("Reports/case/affected_decisions.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("request_id,time,decision,score,subject,in_window,archive,member,line\n"))
        let rows = csv.split(separator: "\n").dropFirst().map { line -> String in
            // request_id, time, decision, in_window (score and subject skipped), evidence.
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return ([fields[0], fields[1], fields[2], fields[5]]).joined(separator: " ") + " " + (line.split(separator: "/").last.map(String.init) ?? "")
        }
        #expect(rows == [
            "r5 2026-03-02T10:30:00Z approve true a-decisions.jsonl,,2",
            "r5 2026-03-02T10:30:00Z decline true b-decisions.jsonl,,2",
            "r3 2026-03-02T11:00:00Z approve true a-decisions.jsonl,,3",
            "r4 2026-03-02T11:00:00Z approve true b-decisions.jsonl,,1",
            "r9 2026-03-02T11:00:00Z decline true a-decisions.jsonl,,1",
            "r8 2026-03-02T12:00:30Z approve false a-decisions.jsonl,,4",
        ])
        // The CSV was written under the store's tmp/ during the analysis and moved: nothing is left.
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: directory.path("store/tmp"))) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// The references are put in order by an external sort: merged from many runs spilled to a
    /// scratch file, the CSV is byte for byte the one a single run in memory gives (ties in time
    /// across segments and files included).
    @Test func affectedDecisionsFromSpilledRunsAreTheSameList() throws {
        let directory = try TemporaryDirectory("analysis")
        var generator = SeededGenerator(seed: 7)
        for file in 0..<3 {
            // Few distinct seconds: many decisions share a time, within a file and across files.
            let lines = (0..<60).map { index in
                Self.decision("2026-03-02T10:00:\(String(format: "%02d", Int.random(in: 0...9, using: &generator)))Z",
                              Int.random(in: 0...3, using: &generator) == 0 ? "v1" : "v2",
                              ["approve", "decline"][Int.random(in: 0...1, using: &generator)],
                              "r\(Int.random(in: 0...40, using: &generator))-\(file)-\(index)")
            }
            try directory.write("in/d\(file)-decisions.jsonl", lines.joined(separator: "\n") + "\n")
        }
        let request = AnalyzeRequest(paths: [directory.path("in")], storeDirectory: directory.path("store"),
                                     reportsDirectory: directory.path("Reports"), now: "2026-03-10T00:00:00Z", jobs: 2)
        _ = try AnalysisEngine.run(request)
        let store = try Store(directory: directory.path("store"), forWriting: false)
        var scans = AnalysisScans(scan: StoreScan(store: store, jobs: 2), resolver: try EvidenceResolver(catalog: store.catalog))
        let whole = try #require(try scans.decisions(model: "fraud", version: "v2", start: nil, end: nil).list)
        scans.listRunLength = 4
        let merged = try #require(try scans.decisions(model: "fraud", version: "v2", start: nil, end: nil).list)
        #expect(whole.spilledRuns == 0)
        // A run a segment at least (each hands over its references in one batch).
        #expect(merged.spilledRuns >= 3)
        #expect(merged.count == whole.count && whole.count > 100)
        try whole.writeCSV(to: directory.path("whole.csv"))
        try merged.writeCSV(to: directory.path("merged.csv"))
        let expected = try String(contentsOfFile: directory.path("whole.csv"), encoding: .utf8)
        #expect(try String(contentsOfFile: directory.path("merged.csv"), encoding: .utf8) == expected)
        // One line per decision, in time order.
        let times = expected.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] }
        #expect(times.count == whole.count && times == times.sorted())
        // Written once: the references were read from the sort as they were written.
        #expect(throws: AnalysisError.self) { try merged.writeCSV(to: directory.path("again.csv")) }
    }

    @Test func withoutRegistryEventsTheWindowComesFromTheDecisions() throws {
        var caseFile = CaseFile()
        caseFile.compromisedModel = "fraud"
        caseFile.compromisedVersion = "v2"
        let result = try analyze([
            "decisions.jsonl": [
                Self.decision("2026-03-02T09:00:00Z", "v1", "approve", "r0"),
                Self.decision("2026-03-02T10:30:00Z", "v2", "approve", "r1"),
                Self.decision("2026-03-02T11:00:00Z", "v2", "decline", "r2"),
                Self.decision("2026-03-02T13:00:00Z", "v1", "approve", "r3"),
            ],
        ], caseFile: caseFile)
        let affected = try #require(result.affectedDecisions)
        #expect(affected.window.start.time == "2026-03-02T10:30:00Z")
        #expect(affected.window.start.rule == "predictions")
        #expect(affected.total.value == 2)
        #expect(affected.total.source == .computed)
    }

    @Test func harmIsTheShiftAgainstTheBaselineRates() throws {
        let harm = try #require(ModelBehaviourAnalyzer.harm(made: ["approve": 1000], baseline: ["approve": 900, "decline": 100],
                                                            baselineVersion: "v1"))
        #expect(harm.shifted.value == 100)
        let decline = try #require(harm.rows.first { $0.decision == "decline" })
        #expect(decline.expected == 100 && decline.made == 0)
        // Wilson 95 % on 100/1000: 0.0829–0.1203, scaled to 1,000 decisions.
        #expect(decline.expectedLow == 83 && decline.expectedHigh == 120)
        #expect(harm.shifted.low == 83 && harm.shifted.high == 120)
        #expect(ModelBehaviourAnalyzer.harm(made: ["approve": 10], baseline: ["approve": 99], baselineVersion: "v1") == nil)
    }

    @Test func withoutDecisionLogsTheCountIsAnEstimateWithItsInterval() throws {
        let result = try analyze([
            "registry.jsonl": [
                Self.registry("2026-03-01T00:00:00Z", "v1"),
                Self.registry("2026-03-02T10:00:00Z", "v2"),
                Self.registry("2026-03-02T12:00:00Z", "v1", event: "rollback"),
            ],
            "gateway.jsonl": [
                Self.gateway("2026-03-02T09:59:59Z"),
                Self.gateway("2026-03-02T10:00:01Z"),
                Self.gateway("2026-03-02T10:30:00Z", status: 500),
                Self.gateway("2026-03-02T11:59:59Z"),
                Self.gateway("2026-03-02T12:00:00Z"),
            ],
        ])
        let affected = try #require(result.affectedDecisions)
        #expect(!affected.exact)
        #expect(affected.total.source == .estimated)
        // Successful requests between the deploy and the rollback (the 500 is no decision); one
        // time per edge, so the range is a point.
        #expect(affected.total.low == 2)
        #expect(affected.total.high == 2)
        #expect(affected.total.value == 2)
        #expect(affected.total.method?.contains("successful (2xx) requests") == true)
        #expect(affected.total.method?.contains("no range for a rolling deploy") == true)
        #expect(affected.requestIdsFile == "affected_requests.csv")
        #expect(affected.estimate?.topClients.map(\.requests).reduce(0, +) == 2)
    }

    @Test func aCaseFileThatContradictsTheLogsIsReportedAndTheLogsWin() throws {
        var caseFile = CaseFile()
        caseFile.compromisedModel = "fraud"
        caseFile.compromisedVersion = "v3"
        let result = try analyze([
            "registry.jsonl": [
                Self.registry("2026-03-01T00:00:00Z", "v1"),
                Self.registry("2026-03-02T10:00:00Z", "v2"),
                Self.registry("2026-03-02T12:00:00Z", "v1", event: "rollback"),
            ],
            "decisions.jsonl": [Self.decision("2026-03-02T10:30:00Z", "v2", "approve", "r1")],
        ], caseFile: caseFile)
        #expect(result.affectedDecisions?.compromisedVersion == "v2")
        let contradiction = try #require(result.contradictions.first)
        #expect(contradiction.field == "compromised.version")
        #expect(contradiction.caseFile.contains("v3"))
        #expect(contradiction.logs.contains("v2"))
    }

    @Test func extractionWindowVolumeAndOngoing() throws {
        var lines: [String] = []
        // 1001 queries in one hour from one address: over the playbook threshold.
        for index in 0..<1001 {
            lines.append(Self.gateway("2026-03-02T10:\(String(format: "%02d", index / 60 % 60)):\(String(format: "%02d", index % 60))Z",
                                      ip: "203.0.113.5", body: "q\(index % 600)"))
        }
        lines.append(Self.gateway("2026-03-02T10:30:00Z", ip: "10.0.0.1"))
        lines.append(Self.gateway("2026-03-02T12:10:00Z", ip: "203.0.113.5", body: "late"))
        let result = try analyze(["gateway.jsonl": lines])
        let extraction = try #require(result.extraction)
        let attacker = try #require(extraction.attackers.first { $0.identity == "203.0.113.5" })
        #expect(attacker.queries == 1002)
        #expect(attacker.distinctInputs == 601)
        #expect(attacker.peakHourlyRate == 1001)
        #expect(attacker.peakHour == "2026-03-02T10:00:00Z")
        #expect(attacker.lastSeen == "2026-03-02T12:10:00Z")
        #expect(extraction.ongoing, "the attacker is active in the last hour of the data")
        #expect(extraction.window?.end == nil)
        let incident = try #require(result.incidents.first { $0.type == .extraction })
        #expect(incident.window.ongoing)
        let ongoing = try #require(result.flowchart.nodes.first { $0.id == "ex.ongoing" })
        #expect(ongoing.answer == .yes)
        #expect(result.flowchart.path.contains("ex.block"))
    }

    @Test func sameInputsGiveTheSameAnalysis() throws {
        let files = ["registry.jsonl": [Self.registry("2026-03-01T00:00:00Z", "v1"), Self.registry("2026-03-02T10:00:00Z", "v2"),
                                        Self.registry("2026-03-02T12:00:00Z", "v1", event: "rollback")],
                     "decisions.jsonl": [Self.decision("2026-03-02T10:30:00Z", "v2", "approve", "r1")]]
        var first = try analyze(files)
        var second = try analyze(files)
        // Paths differ between the two temporary folders; everything else must be identical.
        first.inputs = []
        second.inputs = []
        first.provenance.inputsHash = ""
        second.provenance.inputsHash = ""
        first.provenance.commandLine = []
        second.provenance.commandLine = []
        let encoder = AnalysisOutput.encoder()
        let a = String(decoding: try encoder.encode(first), as: UTF8.self).replacingOccurrences(of: #"analysis-[0-9A-F-]+"#, with: "", options: .regularExpression)
        let b = String(decoding: try encoder.encode(second), as: UTF8.self).replacingOccurrences(of: #"analysis-[0-9A-F-]+"#, with: "", options: .regularExpression)
        #expect(a == b)
    }
}

/// Incidents of different types that overlap in time and share actors or models are linked.
@Suite struct IncidentLinkingTests {
    static func incident(_ id: String, _ type: IncidentType, _ start: Timestamp, _ end: Timestamp?, actors: [String] = [],
                         models: [String] = []) -> Incident {
        Incident(id: id, type: type, title: id, atlas: [],
                 window: ImpactWindow(start: WindowEdge(time: start, rule: "r", description: "", evidence: nil),
                                      end: end.map { WindowEdge(time: $0, rule: "r", description: "", evidence: nil) },
                                      ongoing: end == nil, durationSeconds: nil),
                 actors: actors, models: models, ruleHits: [:], linked: [], summary: "")
    }

    @Test func overlappingIncidentsWithSharedActorsAreLinked() {
        var incidents = [
            Self.incident("INC-1", .extraction, "2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z", actors: ["203.0.113.5"]),
            Self.incident("INC-2", .extraction, "2026-03-02T11:00:00Z", nil, actors: ["203.0.113.5", "198.51.100.1"]),
            Self.incident("INC-3", .promptInjection, "2026-03-02T11:30:00Z", "2026-03-02T11:40:00Z", actors: ["u_1"]),
            Self.incident("INC-4", .extraction, "2026-03-03T10:00:00Z", "2026-03-03T12:00:00Z", actors: ["203.0.113.5"]),
            Self.incident("INC-5", .modelBehaviour, "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z", models: ["fraud"]),
            Self.incident("INC-6", .trainingData, "2026-03-01T00:00:00Z", nil, actors: ["d.silva"]),
        ]
        IncidentLinking.link(&incidents)
        #expect(incidents[0].linked == ["INC-2"], "same actor, overlapping")
        #expect(incidents[1].linked == ["INC-1", "INC-4"], "open-ended window overlaps the later one")
        #expect(incidents[2].linked.isEmpty, "overlapping but no shared actor")
        #expect(incidents[3].linked == ["INC-2"], "shared actor but no overlap with INC-1")
        #expect(incidents[4].linked == ["INC-6"], "a poisoned model is linked to the training-data compromise")
        #expect(incidents[5].linked == ["INC-5"])
    }
}

@Suite struct CSVFieldTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\r\nbreak", "\"line\r\nbreak\""),
        ("=1+1", "'=1+1"),
        ("\r\n=x", "\"'\r\n=x\""),
        ("-5,3", "\"'-5,3\""),
        ("", ""),
        // Control, bidirectional and invisible characters from file and member names are made
        // visible (they would recolour a terminal or reorder a cell).
        ("a\u{1B}[31mb\u{7}", "a\\u{1B}[31mb\\u{7}"),
        ("evil\u{202E}gpj.exe\u{200B}", "evil\\u{202E}gpj.exe\\u{200B}"),
    ])
    func field(_ text: String, _ expected: String) {
        #expect(CSV.field(text) == expected)
        // The byte path used for affected_decisions.csv writes the same field.
        var bytes: [UInt8] = []
        var text = text
        text.withUTF8 { CSV.append(field: ByteView(unsafeStart: $0.baseAddress, count: $0.count), to: &bytes) }
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }

    @Test func bytePathRepairsInvalidUTF8LikeTheStringPath() {
        for raw: [UInt8] in [[0x61, 0xFF, 0x62], [0x3D, 0xC3], [0x2C, 0xE2, 0x82], [0xF0, 0x9F, 0x98, 0x80]] {
            var bytes: [UInt8] = []
            raw.withUnsafeBytes { CSV.append(field: ByteView(unsafeStart: $0.baseAddress, count: $0.count), to: &bytes) }
            #expect(bytes == Array(CSV.field(String(decoding: raw, as: UTF8.self)).utf8), "\(raw)")
        }
    }
}
