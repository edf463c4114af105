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

/// End to end on the committed SampleData: the analysis reproduces the scenario's answer key
/// (`SampleData/expected.json`, computed by the simulator's independent reference), and the
/// reports written for it are the committed `Reports/sample/` byte for byte.
@Suite(.serialized) struct SampleDataTests {
    static let root = GoldenFiles.repositoryRoot
    static let now = "2026-03-05T00:00:00Z"

    /// The analysis of SampleData, computed once for the suite. Paths are given relative to the
    /// repository root so the reports cite `SampleData/…` on every machine.
    nonisolated(unsafe) static let outcome: Result<(AnalyzeOutcome, [String: Any], URL), any Error> = Result {
        let manager = FileManager.default
        let work = manager.temporaryDirectory.appendingPathComponent("fathom-sample-\(UUID().uuidString)")
        try manager.createDirectory(at: work, withIntermediateDirectories: true)
        guard manager.currentDirectoryPath == root.path || manager.changeCurrentDirectoryPath(root.path) else {
            throw CocoaError(.fileNoSuchFile)
        }
        let caseFile = try CaseFile.load(path: "SampleData/fathom-case.yaml")
        var request = AnalyzeRequest(paths: ["SampleData"], storeDirectory: work.appendingPathComponent("store").path,
                                     caseFile: caseFile, reportsDirectory: work.appendingPathComponent("Reports").path,
                                     now: Timestamp(rfc3339: now), jobs: 2,
                                     commandLine: ["fathom", "analyze", "SampleData", "--out", "Reports/sample", "--now", now,
                                                   "--export", "ocsf,stix,timesketch"])
        request.exportFormats = ExportFormat.allCases
        let outcome = try AnalysisEngine.run(request)
        let data = try Data(contentsOf: root.appendingPathComponent("SampleData/expected.json"))
        let expected = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return (outcome, expected, work.appendingPathComponent("Reports"))
    }

    func load() throws -> (AnalysisResult, [String: Any], URL) {
        let (outcome, expected, reports) = try Self.outcome.get()
        return (outcome.result, expected, reports)
    }

    static func value(_ object: Any?, _ path: String...) -> Any? {
        var current = object
        for key in path { current = (current as? [String: Any])?[key] }
        return current
    }

    @Test func affectedDecisionsMatchTheAnswerKey() throws {
        let (result, expected, _) = try load()
        let key = Self.value(expected, "analysis", "affected_decisions") as? [String: Any] ?? [:]
        let affected = try #require(result.affectedDecisions)
        #expect(affected.model == key["model"] as? String)
        #expect(affected.compromisedVersion == key["poisoned_version"] as? String)
        #expect(affected.lastKnownGoodVersion == key["known_good_version"] as? String)
        #expect(affected.total.value == (key["count"] as? NSNumber)?.doubleValue)
        #expect(affected.exact)
        let byDecision = (key["by_decision"] as? [String: NSNumber] ?? [:]).mapValues(\.int64Value)
        #expect(affected.byDecision == byDecision)
        #expect(affected.window.start.time?.rfc3339 == key["window_start"] as? String)
        #expect(affected.window.end?.time?.rfc3339 == key["window_end"] as? String)
        // The harm estimate: v13 never declines where v12 declined about 3 % of the time.
        let harm = try #require(affected.harm)
        #expect(harm.baselineVersion == "v12")
        let decline = try #require(harm.rows.first { $0.decision == "decline" })
        #expect(decline.made == (byDecision["decline"] ?? 0) && decline.expectedLow > 0)
        let shifted = try #require(harm.shifted.value)
        #expect((harm.shifted.low ?? .infinity) <= shifted && shifted <= (harm.shifted.high ?? -1))
        #expect(harm.shifted.source == .estimated)
    }

    @Test func extractionMatchesTheAnswerKey() throws {
        let (result, expected, _) = try load()
        let key = Self.value(expected, "analysis", "extraction") as? [String: Any] ?? [:]
        let extraction = try #require(result.extraction)
        let identities = key["identities"] as? [[String: Any]] ?? []
        #expect(extraction.attackers.count == identities.count)
        for identity in identities {
            let name = identity["identity"] as? String ?? ""
            let addresses = identity["src_ips"] as? [String] ?? []
            // A key names an identity only masked (prefix and last 4).
            let attacker = extraction.attackers.first { $0.identity == SecretMask.maskCredential(name) || (addresses.count == 1 && $0.identity == addresses[0]) }
            #expect(attacker != nil, "attacker \(name) is found")
            guard let attacker else { continue }
            #expect(attacker.queries == (identity["queries"] as? NSNumber)?.int64Value, "\(name) queries")
            #expect(attacker.distinctInputs == (identity["distinct_inputs"] as? NSNumber)?.int64Value, "\(name) distinct inputs")
            #expect(attacker.peakHourlyRate == (identity["peak_hourly_rate"] as? NSNumber)?.int64Value, "\(name) peak rate")
            #expect(attacker.peakHour?.rfc3339 == identity["peak_hour"] as? String, "\(name) peak hour")
            #expect(attacker.addresses == addresses.sorted(), "\(name) addresses")
            #expect(attacker.firstSeen.nanoseconds == TimeParser.parse(identity["first_seen"] as? String ?? ""))
            #expect(attacker.lastSeen.nanoseconds == TimeParser.parse(identity["last_seen"] as? String ?? ""))
        }
        let total = key["total"] as? [String: Any] ?? [:]
        #expect(extraction.totalQueries == (total["queries"] as? NSNumber)?.int64Value)
        #expect(extraction.totalDistinctInputs == (total["distinct_inputs"] as? NSNumber)?.int64Value)
        #expect(extraction.ongoing == (Self.value(expected, "analysis", "flowchart", "extraction_ongoing") as? Bool))
        // The nightly batch job trips the hourly rule but is set aside, with its reasons.
        let aside = key["set_aside"] as? [[String: Any]] ?? []
        #expect(aside.count == 1)
        #expect((extraction.setAside ?? []).map(\.identity) == aside.compactMap { $0["identity"] as? String })
        for (volume, answer) in zip(extraction.setAside ?? [], aside) {
            #expect(volume.verdict == answer["verdict"] as? String)
            #expect(volume.queries == (answer["queries"] as? NSNumber)?.int64Value)
            #expect(volume.distinctInputs == (answer["distinct_inputs"] as? NSNumber)?.int64Value)
            #expect(volume.verdictReasons?.contains("internal address") == true)
            #expect(volume.verdictReasons?.contains { $0.hasPrefix("the same hours every day (02:00–03:59 UTC on 3 days)") } == true)
            #expect(!extraction.attackers.contains { $0.addresses.contains(volume.identity) })
            // Its key is a credential: named by its prefix and last four characters only.
            let principal = try #require(ImpactWithoutDecisionLogsTests.scenarioKey())
            let reason = try #require(volume.verdictReasons?.first { $0.hasPrefix("service principal") })
            #expect(reason == "service principal '\(SecretMask.maskCredential(principal))'")
            #expect(!reason.contains(principal) && reason.contains("ak_int_batch_rescore_") && reason.hasSuffix(principal.suffix(4) + "'"))
            #expect(volume.principals == [SecretMask.maskCredential(principal)])
        }
    }

    @Test func exposureInjectionTrainingAndSupplyChainMatchTheAnswerKey() throws {
        let (result, expected, _) = try load()
        let exposureKey = Self.value(expected, "analysis", "data_exposure") as? [String: Any] ?? [:]
        let exposure = try #require(result.dataExposure)
        #expect(exposure.responsesWithSensitiveData == (exposureKey["records"] as? NSNumber)?.int64Value)
        #expect(exposure.distinctUsers == (exposureKey["distinct_users"] as? NSNumber)?.int64Value)
        #expect(exposure.distinctSessions == (exposureKey["distinct_sessions"] as? NSNumber)?.int64Value)
        let categories = (exposureKey["categories"] as? [String: NSNumber] ?? [:]).mapValues(\.int64Value)
        #expect(exposure.categories == categories)

        let windows = Self.value(expected, "analysis", "impact_windows") as? [[String: Any]] ?? []
        func window(_ name: String) -> [String: Any] { windows.first { $0["incident"] as? String == name } ?? [:] }
        let injection = try #require(result.incidents.first { $0.type == .promptInjection })
        #expect(injection.window.start.time?.rfc3339 == window("prompt-injection")["start"] as? String)
        #expect(injection.window.end?.time?.rfc3339 == window("prompt-injection")["end"] as? String)
        let artifacts = try #require(result.incidents.first { $0.type == .extraction && $0.ruleHits["artifact.external-access"] != nil })
        #expect(artifacts.window.start.time?.nanoseconds == TimeParser.parse(window("artifact-exfiltration")["start"] as? String ?? ""))
        #expect(artifacts.window.end?.time?.nanoseconds == TimeParser.parse(window("artifact-exfiltration")["end"] as? String ?? ""))
        let training = try #require(result.incidents.first { $0.type == .trainingData })
        #expect(training.window.start.time?.rfc3339 == window("poisoned-model")["first_evidence"] as? String)

        let supply = Self.value(expected, "analysis", "supply_chain") as? [String: Any] ?? [:]
        let affected = (supply["affected_models"] as? [[String: Any]] ?? []).compactMap { $0["model"] as? String }.sorted()
        let incident = try #require(result.incidents.first { $0.type == .supplyChain })
        #expect(incident.models == affected)

        let types = Set(result.incidents.map(\.type))
        #expect(types == Set(IncidentType.allCases), "all five playbook types are found")
        let flow = Self.value(expected, "analysis", "flowchart") as? [String: Any] ?? [:]
        func answer(_ id: String) -> FlowAnswer? { result.flowchart.nodes.first { $0.id == id }?.answer }
        #expect(answer("mb.production") == ((flow["model_in_production"] as? Bool) == true ? .yes : .no))
        #expect(answer("pi.sensitive") == ((flow["sensitive_data_in_output"] as? Bool) == true ? .yes : .no))
        #expect(answer("ex.ongoing") == ((flow["extraction_ongoing"] as? Bool) == true ? .yes : .no))
        #expect(answer("sc.others") == .yes)
    }

    /// The volume chart's time axis is linear (every hour from the first to the last, gaps where the
    /// analysis has no count) and it marks the deploy, the rollback, the detection and the threshold.
    @Test func volumeChartHasALinearAxisMarkersAndTheThreshold() throws {
        let (result, _, _) = try load()
        let context = try ReportContext(result: result, options: ReportOptions(now: Self.now, isFinal: false, verifyArchives: false, commandLine: nil))
        let svg = try #require(TimelineWriter(context).chart())
        let hours = try #require(result.extraction?.hourly.map(\.hour.nanoseconds))
        let span = Int(((hours.max() ?? 0) - (hours.min() ?? 0)) / 3_600_000_000_000) + 1
        #expect(span > hours.count, "SampleData's attacker hours have gaps, so a linear axis has more hours than counts")
        // The all-traffic line breaks at every gap: more than one polyline for it.
        #expect(svg.components(separatedBy: "stroke-dasharray=\"5 3\"").count - 1 > 1)
        for label in ["compromised deploy", "rollback", "first detection", "extraction.volume threshold per address (1,000)"] {
            #expect(svg.contains(">" + label + "<"), "\(label) is marked")
        }
    }

    /// `Reports/sample/` is what the code writes for SampleData; `FATHOM_RECORD=1` re-records it
    /// (and fails, so a recording run never passes).
    @Test func sampleReportsAreTheCommittedOnes() throws {
        let (result, _, reports) = try load()
        let folder = reports.appendingPathComponent(result.caseInfo.id)
        var documents: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name != "export" {
            documents[name] = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                .replacingOccurrences(of: reports.deletingLastPathComponent().path, with: "$WORK")
        }
        GoldenFiles.check(documents, against: Self.root.appendingPathComponent("Reports/sample/" + result.caseInfo.id),
                          ignoring: ["export"])
    }

    /// `Reports/sample/<case>/export/` is what `--export ocsf,stix,timesketch` writes for SampleData
    /// (`.ci/export-conformance` runs each format's validator on it); `FATHOM_RECORD=1` re-records it.
    @Test func sampleExportsAreTheCommittedOnes() throws {
        let (result, _, reports) = try load()
        let folder = reports.appendingPathComponent(result.caseInfo.id + "/export")
        var documents: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            documents[name] = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
        #expect(Set(documents.keys) == ["ocsf.jsonl", "stix.json", "timesketch.jsonl", "timesketch.csv"])
        for (name, text) in documents {
            // The analysis holds keys masked already; no export holds one whole.
            #expect(text.range(of: #"ak_(live|trial|int)_[A-Za-z0-9]{6}"#, options: .regularExpression) == nil, "\(name) masks the API key ids")
        }
        GoldenFiles.check(documents, against: Self.root.appendingPathComponent("Reports/sample/" + result.caseInfo.id + "/export"))
    }
}
