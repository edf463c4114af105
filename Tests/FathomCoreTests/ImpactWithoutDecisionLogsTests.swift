@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomDetect
import FathomAnalysis
import FathomSimulator

/// Flagged identities judged from their traffic: a busy friend is not an attacker.
@Suite struct IdentityTriageTests {
    static let hour: Int64 = 3_600_000_000_000
    static let day = 24 * hour
    static let start: Int64 = 1_772_409_600_000_000_000  // 2026-03-02T00:00:00Z

    static func tally(_ addresses: [String], principals: [String] = [], hours: [(day: Int, hour: Int, count: Int64)],
                      distinct: Int64? = nil) -> ExtractionAnalysis.Tally {
        var tally = ExtractionAnalysis.Tally()
        tally.addresses = Set(addresses)
        tally.principals = Set(principals)
        for entry in hours { tally.hourly[start + Int64(entry.day) * day + Int64(entry.hour) * hour, default: 0] += entry.count }
        tally.queries = tally.hourly.values.reduce(0, +)
        tally.distinctInputs = distinct ?? tally.queries
        return tally
    }

    let triage = IdentityTriage(internalNetworks: ["10.0.0.0/8", "192.168.0.0/16"], knownClients: [])
    let nightly = [(0, 2, Int64(700)), (0, 3, 705), (1, 2, 698), (1, 3, 702), (2, 2, 701), (2, 3, 699)]

    @Test func anInternalNightlyJobIsLikelyBenign() {
        let (verdict, reasons) = triage.judge(.init(type: "src_ip", value: "10.20.30.40"),
                                              Self.tally(["10.20.30.40"], hours: nightly.map { ($0.0, $0.1, $0.2) }))
        #expect(verdict == .likelyBenign)
        #expect(reasons.first == "internal address")
        #expect(reasons.contains("the same hours every day (02:00–03:59 UTC on 3 days), steady rate (±0 %)"))
    }

    @Test func theSameTrafficFromOutsideIsAnAttackerUnlessNamedLikeAService() {
        let hours = nightly.map { ($0.0, $0.1, $0.2) }
        let outside = triage.judge(.init(type: "src_ip", value: "198.51.100.23"), Self.tally(["198.51.100.23"], hours: hours))
        #expect(outside.0 == .likelyAttacker)
        #expect(outside.1.first == "external address 198.51.100.23")
        // A partner's scheduled batch from outside, with a service key: a person must decide.
        let partner = triage.judge(.init(type: "src_ip", value: "198.51.100.23"),
                                   Self.tally(["198.51.100.23"], principals: ["ak_live_partner_batch_7Hq2xK9mZ3"], hours: hours))
        #expect(partner.0 == .unknown)
    }

    @Test func irregularOrAllDayTrafficIsNoSchedule() {
        // Two different hours on two days (the wide attacker's shape).
        #expect(IdentityTriage.schedule(Self.tally(["a"], hours: [(0, 21, 557), (2, 23, 619)]).hourly) == nil)
        // Every hour of a day is not a schedule.
        #expect(IdentityTriage.schedule(Self.tally(["a"], hours: (0..<2).flatMap { d in (0..<24).map { (d, $0, Int64(200)) } }).hourly) == nil)
        // The same hours, but a rate that swings.
        #expect(IdentityTriage.schedule(Self.tally(["a"], hours: [(0, 2, 100), (0, 3, 900), (1, 2, 120), (1, 3, 880)]).hourly) == nil)
        // One day is not a schedule.
        #expect(IdentityTriage.schedule(Self.tally(["a"], hours: [(0, 2, 700), (0, 3, 700)]).hourly) == nil)
    }

    @Test func anInternalAddressWithoutScheduleOrServiceNameIsUnknown() {
        let (verdict, reasons) = triage.judge(.init(type: "src_ip", value: "10.1.2.3"),
                                              Self.tally(["10.1.2.3"], hours: [(0, 14, 1400), (1, 9, 300)]))
        #expect(verdict == .unknown)
        #expect(reasons.last == "no regular schedule and no service principal")
    }

    @Test func aClientTheCaseFileVouchesForIsSetAside() throws {
        let caseFile = try CaseFile(yaml: """
            known_clients:
              - network: 198.51.100.0/24
                reason: the card scheme's certification run
            """, origin: "case.yaml")
        #expect(caseFile.knownClients == [.init(type: "network", value: "198.51.100.0/24", reason: "the card scheme's certification run")])
        let triage = IdentityTriage(internalNetworks: [], knownClients: caseFile.knownClients)
        let (verdict, reasons) = triage.judge(.init(type: "src_ip", value: "198.51.100.23"),
                                              Self.tally(["198.51.100.23"], hours: [(0, 15, 1400)]))
        #expect(verdict == .likelyBenign)
        #expect(reasons == ["named in the case file's known_clients: the card scheme's certification run"])
        #expect(throws: AnalysisError.self) { try CaseFile(yaml: "known_clients:\n  - reason: no identity\n", origin: "c.yaml") }
    }

    @Test func serviceNamesAreWholeWords() {
        #expect(IdentityTriage.isServiceName("ak_int_batch_rescore_QG66FpVWsSNrah8v"))
        #expect(IdentityTriage.isServiceName("svc-model-sync"))
        #expect(!IdentityTriage.isServiceName("ak_live_jobsworthKx81"))  // "jobsworth" is not "job"
        #expect(!IdentityTriage.isServiceName("198.51.100.23"))
    }

    @Test func credentialsAreMaskedButNamesAreNot() {
        #expect(SecretMask.maskCredential("ak_int_batch_rescore_QG66FpVWsSNrah8v") == "ak_int_batch_rescore_************ah8v")
        #expect(SecretMask.maskCredential("ak_live_7Hq2xK9mZ3pQ4rT8").hasPrefix("ak_live_****"))
        #expect(SecretMask.maskCredential("ak_live_7Hq2xK9mZ3pQ4rT8").hasSuffix("4rT8"))
        #expect(SecretMask.maskCredential("svc-model-sync") == "svc-model-sync")
        #expect(SecretMask.maskCredential("arn:aws:iam::482910374455:user/svc-model-sync") == "arn:aws:iam::482910374455:user/svc-model-sync")
    }
}

/// The impact of a compromised model when the team logs no decisions and keeps no registry: the
/// window from the deploy pipeline's events, the affected decisions as a range of requests.
@Suite(.serialized) struct ImpactWithoutDecisionLogsTests {
    /// The simulated evidence, store and reports, kept for the suite's life.
    nonisolated(unsafe) static var directory: TemporaryDirectory?

    nonisolated(unsafe) static let outcome: Result<(AnalyzeOutcome, [String: Any], String), any Error> = Result {
        let directory = try TemporaryDirectory("fathom-ndl")
        Self.directory = directory
        let data = directory.path("evidence")
        _ = try Simulator.run(SimulationRequest(outputDirectory: data, start: ScenarioTime.parseDate("2026-03-02")!,
                                                withoutDecisionLogs: true))
        let caseFile = try CaseFile.load(path: data + "/fathom-case.yaml")
        let request = AnalyzeRequest(paths: [data], storeDirectory: directory.path("store"), caseFile: caseFile,
                                     reportsDirectory: directory.path("Reports"), now: Timestamp(rfc3339: "2026-03-05T00:00:00Z"), jobs: 2)
        let outcome = try AnalysisEngine.run(request)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: data + "/expected.json"))) as? [String: Any] ?? [:]
        return (outcome, expected, directory.path("Reports") + "/" + outcome.result.caseInfo.id)
    }

    @Test func theSimulatorWritesNoDecisionLogsAndNoRegistry() throws {
        let (outcome, _, _) = try Self.outcome.get()
        let kinds = Set(outcome.result.coverage.filter { $0.rows > 0 }.map(\.kind))
        #expect(!kinds.contains("predictions") && !kinds.contains("registry"))
        #expect(kinds.isSuperset(of: ["inference", "pipeline"]))
    }

    @Test func theWindowIsBoundedByTheDeployAndRollbackOfThePipelineAndCited() throws {
        let (outcome, expected, _) = try Self.outcome.get()
        let key = try #require(expected["affected_requests"] as? [String: Any])
        let high = try #require(key["window_high"] as? [String: Any])
        let affected = try #require(outcome.result.affectedDecisions)
        #expect(affected.model == "fraud-detector" && affected.compromisedVersion == "v13")
        #expect(!affected.exact)
        #expect(affected.window.start.time?.rfc3339 == high["start"] as? String)
        #expect(affected.window.start.rule == "pipeline")
        #expect(affected.window.start.evidence?.archive.hasSuffix("mlops-pipeline-events.jsonl.zst") == true)
        // Linked to v13 by the run id of the training run after the burst, and saying so.
        #expect(affected.window.start.description.contains("deploying run run_"))
        #expect(affected.window.start.description.contains("the training run d.silva started after the anomalous modify_data burst"))
        #expect(affected.window.end?.description.contains("rollback of fraud-detector by oncall-sre") == true)
        // The failed first rollback attempt does not end the window.
        let narrow = try #require(key["window_low"] as? [String: Any])
        #expect(affected.window.end?.time?.rfc3339 == narrow["end"] as? String)
    }

    @Test func theAffectedDecisionsAreAnEstimatedRangeThatBracketsTheTruth() throws {
        let (outcome, expected, reports) = try Self.outcome.get()
        let key = try #require(expected["affected_requests"] as? [String: Any])
        let low = try #require((key["low"] as? NSNumber)?.int64Value)
        let high = try #require((key["high"] as? NSNumber)?.int64Value)
        let truth = try #require((key["answered_by_poisoned_version"] as? NSNumber)?.int64Value)
        let affected = try #require(outcome.result.affectedDecisions)
        let estimate = try #require(affected.estimate)
        #expect(estimate.low == low && estimate.high == high)
        #expect(low < high && low <= truth && truth <= high)
        #expect(affected.total.source == .estimated)
        #expect(affected.total.low == Double(low) && affected.total.high == Double(high))
        #expect(estimate.hourly.map(\.high).reduce(0, +) == high && estimate.hourly.map(\.low).reduce(0, +) == low)
        // The re-review list: one line per request of the wide window, the narrow ones flagged.
        #expect(affected.requestIdsFile == "affected_requests.csv")
        let csv = try String(contentsOfFile: reports + "/affected_requests.csv", encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "request_id,time,src_ip,principal,path,status,in_lower_bound,archive,member,line")
        #expect(Int64(lines.count - 1) == high)
        #expect(Int64(lines.filter { $0.contains(",true,") }.count) == low)
        // API keys are credentials: masked in the list.
        #expect(!csv.contains(try #require(Self.scenarioKey())))
        // The brief says it is an estimate, gives the range and the method, and cites the pipeline.
        let brief = try String(contentsOfFile: reports + "/brief.md", encoding: .utf8)
        #expect(brief.contains("an estimated " + ReportNumber.grouped(low) + " to " + ReportNumber.grouped(high) + " decisions (estimate from the gateway and serving logs, no decision logs"))
        #expect(brief.contains("pipeline fraud-detector-deploy"))
    }

    /// The nightly batch job's key, which is in the gateway log.
    static func scenarioKey() -> String? {
        Scenario(request: SimulationRequest(outputDirectory: "", start: ScenarioTime.parseDate("2026-03-02")!)).nightlyBatch.apiKey
    }

    @Test func aCaseFileDeployTimeWinsAndAMissingDeployIsAnOpenItem() throws {
        let caseFile = try CaseFile(yaml: """
            compromised:
              model: fraud-detector
              version: v13
              deployed_at: 2026-03-03T06:00:00Z
              removed_at: 2026-03-04T10:00:00Z
            """, origin: "case.yaml")
        let inferred = try #require(DeploymentInference.window(model: "fraud-detector", version: "v13", rows: [], bursts: [], caseFile: caseFile))
        #expect(inferred.window.start.nanos == Timestamp(rfc3339: "2026-03-03T06:00:00Z")?.nanoseconds)
        #expect(inferred.window.start.rule == "case-file")
        #expect(inferred.window.end?.nanos == Timestamp(rfc3339: "2026-03-04T10:00:00Z")?.nanoseconds)
        // No case-file time and no burst to link a deploy to: no window is made up.
        var bare = caseFile
        bare.compromisedDeployedAt = nil
        bare.compromisedRemovedAt = nil
        let deploy = PipelineRow(time: 1, principal: "svc", action: "deploy", pipeline: "fraud-detector-deploy", status: "succeeded",
                                 runID: "r", evidence: EvidenceRef(archive: "p", member: "", line: 1))
        #expect(DeploymentInference.window(model: "fraud-detector", version: "v13", rows: [deploy], bursts: [], caseFile: bare) == nil)
        #expect(throws: AnalysisError.self) { try CaseFile(yaml: "compromised:\n  deployed_at: yesterday\n", origin: "c.yaml") }
    }
}
