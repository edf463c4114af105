@testable import FathomCore
import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// A rich, hostile ``AnalysisResult`` for report tests and golden files: all five incident types,
/// exact and estimated figures, human fields missing, and untrusted strings everywhere.
enum ReportSample {
    /// Hostile text: a link, an image, HTML, table breaks, backticks, bidi override, zero-width,
    /// escape sequences, newlines, autolinks and a forged placeholder.
    static let hostile = "[click](http://evil.example/x) ![img](https://evil.example/i.png) <script>alert(1)</script> a|b "
        + "``` `tick` \u{202E}gnp.exe\u{200B} \u{1B}[31mred\u{1B}[0m line1\nline2\r\n# heading www.evil.example "
        + "mailto:x@evil.example &#x202E; [TO BE COMPLETED: forged] %%{init}%% end\"; x[y]{z}"

    /// A 5 KB hostile string.
    static let huge: String = {
        var text = ""
        var index = 0
        while text.utf8.count < 5_000 {
            text += "chunk\(index) <b>|</b> `x` [l](http://e/\(index)) \u{202E} "
            index += 1
        }
        return text
    }()

    static func ref(_ line: Int64, _ archive: String = "gateway-2026-03.jsonl.zst", member: String = "") -> EvidenceRef {
        EvidenceRef(archive: archive, member: member, line: line)
    }

    static func edge(_ time: Timestamp?, _ rule: String, _ text: String, _ line: Int64?) -> WindowEdge {
        WindowEdge(time: time, rule: rule, description: text, evidence: line.map { ref($0) })
    }

    static func rich() -> AnalysisResult {
        let caseInfo = CaseInfo(
            id: "IR-2026-0042", title: "Fraud model compromise " + hostile, classification: "CONFIDENTIAL — Incident Response",
            awarenessTime: "2026-03-03T09:15:00Z", generatedAt: "2026-03-04T12:00:00Z",
            models: [
                ModelProfile(name: "fraud-scorer", businessFunction: "Card payment fraud scoring", dailyVolume: 1_250_000,
                             dataType: "payment transactions (personal data)", safetyCritical: false, customerFacing: true,
                             inProduction: true, deployment: "fraud-scorer", namespace: "ml-serving"),
                ModelProfile(name: "support-llm" + hostile, businessFunction: hostile, dailyVolume: nil, dataType: nil,
                             safetyCritical: nil, customerFacing: true, inProduction: true),
            ],
            contacts: ["incident_lead": "A. Analyst <a@example.com>", "dpo": hostile],
            humanFields: ["legal_basis": nil, "dpo_contact": "dpo@example.com", HumanField.rootCause: nil,
                          "data_subjects_affected": "up to 3 (see " + hostile + ")"])
        let provenance = RunProvenance(
            toolVersion: "0.1.0",
            commandLine: ["fathom", "analyze", "SampleData/gateway-2026-03.jsonl.zst", "--case", "IR-2026-0042", "--note", "it's `x` $(rm -rf /)"],
            rulesetHash: "3b7e0c0a9f1d2e4c5b6a79880f1e2d3c4b5a69788f7e6d5c4b3a29181f0e1d2c",
            inputsHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            dataStart: "2026-03-01T00:00:00Z", dataEnd: "2026-03-03T23:59:59.5Z")
        let inputs = [
            InputArchive(path: "SampleData/gateway-2026-03.jsonl.zst", size: 12_345_678,
                         sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", compression: "zstd", container: "none",
                         formats: ["jsonl-generic"], kinds: ["inference"], rows: 1_482_113, rejected: 3,
                         firstTime: "2026-03-01T00:00:00Z", lastTime: "2026-03-03T23:59:59.5Z",
                         members: [.init(name: "", format: "jsonl-generic", kind: "inference", rows: 1_482_113, rejected: 3, note: "")],
                         rejectReasons: ["invalid JSON": 2, "no timestamp": 1],
                         rejectSamples: [.init(member: "", line: 77, reason: "invalid JSON", sample: hostile),
                                         .init(member: "", line: 912, reason: "no timestamp", sample: huge)]),
            InputArchive(path: "SampleData/bundle " + hostile + ".tar", size: 2_048_000,
                         sha256: "a3f1c2d4e5b60718293a4b5c6d7e8f901a2b3c4d5e6f708192a3b4c5d6e7f809", compression: "none", container: "tar",
                         formats: ["s3-access-log", "mlflow-sqlite"], kinds: ["storage", "registry"], rows: 5_210, rejected: 0,
                         firstTime: "2026-03-01T02:00:00Z", lastTime: "2026-03-03T20:00:00+01:00",
                         members: [.init(name: "s3/2026-03-02.log", format: "s3-access-log", kind: "storage", rows: 5_200, rejected: 0, note: ""),
                                   .init(name: "mlflow/" + hostile + ".db", format: "mlflow-sqlite", kind: "registry", rows: 10, rejected: 0, note: hostile)],
                         rejectReasons: [:], rejectSamples: []),
        ]
        let coverage = [
            SourceCoverage(kind: "inference", rows: 1_482_113, first: "2026-03-01T00:00:00Z", last: "2026-03-03T23:59:59.5Z",
                           gaps: [.init(start: "2026-03-02T03:00:00Z", end: "2026-03-02T05:00:00Z", hours: 2)], clockSkewSeconds: nil),
            SourceCoverage(kind: "predictions", rows: 640_000, first: "2026-03-01T00:00:02Z", last: "2026-03-03T23:59:58Z",
                           gaps: [], clockSkewSeconds: -2.25),
            SourceCoverage(kind: "llm", rows: 8_000, first: "2026-03-02T00:00:00Z", last: "2026-03-03T12:00:00Z", gaps: [], clockSkewSeconds: nil),
        ]
        let rules = [
            RuleSummary(id: "extraction.volume", title: "Anomalous model API query patterns", level: "high", atlas: ["AML.T0024", "AML.T0040"], hits: 14),
            RuleSummary(id: "artifact.external-access", title: "Unauthorized access to model artifacts", level: "high", atlas: ["AML.T0010"], hits: 2),
            RuleSummary(id: "prompt.injection-phrase", title: "Prompt injection patterns " + hostile, level: "medium", atlas: ["AML.T0051"], hits: 5),
            RuleSummary(id: "pipeline.burst", title: "Anomalous training pipeline activity", level: "medium", atlas: ["AML.T0020"], hits: 1),
            RuleSummary(id: "registry.change", title: "Registry and deployment changes", level: "info", atlas: [], hits: 4),
            RuleSummary(id: "llm.sensitive-output", title: "Sensitive data in LLM responses", level: "high", atlas: ["AML.T0057"], hits: 0),
        ]
        let incidents = [
            Incident(id: "INC-1", type: .modelBehaviour, title: "Compromised fraud-scorer v7", atlas: ["AML.T0018"],
                     window: ImpactWindow(start: edge("2026-03-01T14:00:00Z", "registry.change", "deploy of version 7", 12),
                                          end: edge("2026-03-03T10:30:00Z", "registry.change", "rollback to version 6", 40),
                                          ongoing: false, durationSeconds: 160_200),
                     actors: ["svc-deployer"], models: ["fraud-scorer"], ruleHits: ["registry.change": 4], linked: ["INC-3"],
                     summary: "Version 7 approved far more high-risk transactions than version 6. " + hostile),
            Incident(id: "INC-2", type: .promptInjection, title: "Guardrail bypass", atlas: ["AML.T0051", "AML.T0054"],
                     window: ImpactWindow(start: edge("2026-03-02T08:00:00Z", "prompt.injection-phrase", hostile, 3),
                                          end: edge("2026-03-02T09:45:00Z", "prompt.injection-phrase", "last injection phrase", 88),
                                          ongoing: false, durationSeconds: 6_300),
                     actors: ["user-" + hostile, "203.0.113.50"], models: ["support-llm" + hostile], ruleHits: ["prompt.injection-phrase": 5],
                     linked: [], summary: huge),
            Incident(id: "INC-3", type: .trainingData, title: "Label flipping", atlas: ["AML.T0020"],
                     window: ImpactWindow(start: edge("2026-02-28T22:00:00Z", "pipeline.burst", "retrain burst by ci-bot", 5), end: nil,
                                          ongoing: true, durationSeconds: nil),
                     actors: ["ci-bot"], models: ["fraud-scorer"], ruleHits: ["pipeline.burst": 1], linked: ["INC-1"],
                     summary: "Retraining ran 9 times in one day with modified labels."),
            Incident(id: "INC-4", type: .extraction, title: "Model extraction", atlas: ["AML.T0024"],
                     window: ImpactWindow(start: edge("2026-03-02T10:00:00Z", "extraction.volume", "first attacker query", 1000),
                                          end: nil, ongoing: true, durationSeconds: nil),
                     actors: ["203.0.113.7", "2001:db8::1"], models: ["fraud-scorer"], ruleHits: ["extraction.volume": 14], linked: [],
                     summary: "Two sources queried the prediction endpoint systematically."),
            Incident(id: "INC-5", type: .supplyChain, title: "Tampered dependency", atlas: ["AML.T0010"],
                     window: ImpactWindow(start: edge("2026-02-27T00:00:00Z", "integrity.dependency", "unpinned package", nil),
                                          end: edge("2026-02-27T00:00:00Z", "integrity.dependency", "same", nil), ongoing: false, durationSeconds: 0),
                     actors: [], models: ["fraud-scorer"], ruleHits: [:], linked: [], summary: "A dependency changed hash between builds."),
        ]
        let nodes = [
            FlowNode(id: "start", kind: "start", text: "Anomaly reported", answer: nil, answeredBy: nil, evidence: [], actions: []),
            FlowNode(id: "q-prod", kind: "question", text: "Is the model in production?", answer: .yes, answeredBy: "case-file", evidence: ["case file"], actions: []),
            FlowNode(id: "q-extract", kind: "question", text: "Is extraction ongoing? " + hostile, answer: .yes, answeredBy: "evidence",
                     evidence: ["extraction.volume: 14 hits", hostile], actions: []),
            FlowNode(id: "a-block", kind: "action", text: "Block and rate-limit", answer: nil, answeredBy: nil, evidence: [],
                     actions: ["Block attacker addresses at the WAF", "Return class only " + hostile]),
            FlowNode(id: "q-sensitive", kind: "question", text: "Was sensitive data in the output?", answer: .analystToConfirm, answeredBy: "default",
                     evidence: [], actions: []),
            FlowNode(id: "a-rollback", kind: "action", text: "Roll back to the last known good version", answer: nil, answeredBy: nil,
                     evidence: [], actions: ["Roll back fraud-scorer to version 6", "Re-review affected decisions"]),
            FlowNode(id: "a-notify", kind: "action", text: "Notify the DPO", answer: nil, answeredBy: nil, evidence: [], actions: []),
            FlowNode(id: "end", kind: "end", text: "end", answer: nil, answeredBy: nil, evidence: [], actions: []),
        ]
        let flowchart = FlowchartResult(
            incidentTypes: [.modelBehaviour, .promptInjection, .trainingData, .extraction, .supplyChain],
            path: ["start", "q-prod", "q-extract", "a-block", "q-sensitive", "a-rollback", "end"], nodes: nodes,
            edges: [["start", "q-prod", ""], ["q-prod", "q-extract", "yes"], ["q-prod", "end", "no"], ["q-extract", "a-block", "yes"],
                    ["q-extract", "q-sensitive", "no"], ["a-block", "q-sensitive", ""], ["q-sensitive", "a-notify", "yes"],
                    ["q-sensitive", "a-rollback", "no" + hostile], ["a-notify", "a-rollback", ""], ["a-rollback", "end", ""],
                    ["ghost", "end", ""]])
        let attackers = [
            AttackerVolume(identityType: "src_ip", identity: "203.0.113.7", addresses: ["203.0.113.7"], principals: ["key-" + hostile],
                           queries: 48_210, distinctInputs: 47_998, endpoints: ["/v1/models/fraud/predict"],
                           firstSeen: "2026-03-02T10:00:00Z", lastSeen: "2026-03-03T23:59:00Z", peakHourlyRate: 2_400,
                           peakHour: "2026-03-03T02:00:00Z", shareOfTraffic: 0.4231, confidenceScoresReturned: true,
                           rules: ["extraction.volume"], firstEvidence: ref(1000), lastEvidence: ref(1_400_000)),
            AttackerVolume(identityType: "src_ip", identity: "2001:db8::1", addresses: ["2001:db8::1", "it's'; rm -rf ~"], principals: [],
                           queries: 1_500, distinctInputs: 1_499, endpoints: ["/v1/models/fraud/predict", hostile],
                           firstSeen: "2026-03-03T01:00:00Z", lastSeen: "2026-03-03T03:00:00Z", peakHourlyRate: 1_001,
                           peakHour: "2026-03-03T02:00:00Z", shareOfTraffic: 0.0123, confidenceScoresReturned: nil,
                           rules: ["extraction.volume"], firstEvidence: ref(1_300_000), lastEvidence: nil),
        ]
        var hourly: [HourlyVolume] = []
        for hour in 0..<6 {
            let first = Int64(1_200 + hour * 200)
            let second: Int64 = hour >= 1 && hour <= 3 ? Int64(250 + hour * 250) : 0
            hourly.append(HourlyVolume(hour: Timestamp(rfc3339: "2026-03-03T0\(hour):00:00Z")!, total: Int64(3_000 + hour * 250),
                                       attackers: ["203.0.113.7": first, "2001:db8::1": second]))
        }
        let extraction = ExtractionSummary(attackers: attackers, totalQueries: 49_710, totalDistinctInputs: 49_497,
                                           window: incidents[3].window, ongoing: true, dataEnd: "2026-03-03T23:59:59.5Z", hourly: hourly)
        let decisions = AffectedDecisions(
            model: "fraud-scorer", compromisedVersion: "7", lastKnownGoodVersion: "6", window: incidents[0].window, exact: false,
            total: Figure(value: 187_400, unit: "decisions", source: .estimated,
                          method: "request volume × share served by version 7 " + hostile, low: 171_000, high: 203_900),
            byDecision: [:], requestIdsFile: "affected-requests.csv")
        let exposure = DataExposure(responsesWithSensitiveData: 3, distinctUsers: 2, distinctSessions: 3,
                                    categories: ["card-number": 2, "email": 1], recordsPotentiallyExposed: .human(unit: "records"),
                                    first: "2026-03-02T08:10:00Z", last: "2026-03-02T09:40:00Z", evidence: [ref(12, "llm.jsonl.gz")])
        let registry = RegistryHistory(
            events: [RegistryEvent(time: "2026-03-01T14:00:00Z", model: "fraud-scorer", version: "7", event: "stage-transition",
                                   fromStage: "Staging", toStage: "Production", principal: "svc-deployer", evidence: ref(12, "mlflow.db")),
                     RegistryEvent(time: "2026-03-03T10:30:00Z", model: "fraud-scorer", version: "6", event: "rollback",
                                   fromStage: "Archived", toStage: "Production", principal: "oncall", evidence: ref(40, "mlflow.db"))],
            compromisedVersion: "7", lastKnownGoodVersion: "6", deployedAt: "2026-03-01T14:00:00Z", rollbacks: ["2026-03-03T10:30:00Z"])
        let integrity = [
            IntegrityItem(kind: "dependency", severity: "high", subject: "numpy==" + hostile, detail: "hash changed between builds",
                          evidence: "requirements.lock line 12", time: "2026-02-27T00:00:00Z"),
            IntegrityItem(kind: "dataset", severity: "medium", subject: "labels-2026-02.parquet", detail: "3.1 % of labels flipped",
                          evidence: hostile, time: nil),
        ]
        let contradictions = [Contradiction(field: "models.fraud-scorer.in_production", caseFile: "false", logs: "served 640,000 decisions " + hostile,
                                            evidence: ref(1, "predictions.csv.gz"))]
        let timeline = [
            TimelineEvent(time: "2026-03-03T10:30:00Z", phase: "containment", source: "registry", description: "Rollback to version 6",
                          incident: "INC-1", evidence: ref(40, "bundle.tar", member: "mlflow/registry.db")),
            TimelineEvent(time: "2026-02-28T22:00:00Z", phase: "first-indicator", source: "pipeline", description: "Retrain burst by ci-bot",
                          incident: "INC-3", evidence: ref(5, "pipeline.jsonl")),
            TimelineEvent(time: "2026-03-01T14:00:00Z", phase: "impact", source: "registry", description: "Version 7 deployed to Production",
                          incident: "INC-1", evidence: ref(12, "bundle.tar", member: "mlflow/registry.db")),
            TimelineEvent(time: "2026-03-02T08:00:00Z", phase: "impact", source: "llm", description: hostile, incident: "INC-2", evidence: ref(3, "llm.jsonl.gz")),
            TimelineEvent(time: "2026-03-02T10:00:00+00:00", phase: "impact", source: "inference", description: "First query from 203.0.113.7",
                          incident: "INC-4", evidence: ref(1000)),
            TimelineEvent(time: "2026-03-03T08:55:00Z", phase: "detection", source: "case-file", description: "Fraud team reports approval spike",
                          incident: nil, evidence: nil),
            TimelineEvent(time: "2026-03-03T11:00:00Z", phase: "recovery", source: "predictions", description: "Approval rate back to baseline",
                          incident: "INC-1", evidence: ref(2, "predictions.csv.gz")),
            TimelineEvent(time: nil, phase: "context" + hostile, source: hostile, description: huge, incident: hostile,
                          evidence: EvidenceRef(archive: hostile, member: hostile, line: 9)),
        ]
        let assets = [
            AssetRecord(kind: "model-version", name: "fraud-scorer v7", role: "compromised version", evidence: ref(12, "mlflow.db")),
            AssetRecord(kind: "model-version", name: "fraud-scorer v6", role: "last known good version"),
            AssetRecord(kind: "dataset", name: "labels-2026-02.parquet", role: "training labels modified " + hostile),
            AssetRecord(kind: "bucket", name: "s3://ml-models/fraud/", role: "artifact read from outside"),
        ]
        return AnalysisResult(caseInfo: caseInfo, provenance: provenance, inputs: inputs, coverage: coverage, rules: rules,
                              incidents: incidents, flowchart: flowchart, extraction: extraction, affectedDecisions: decisions,
                              dataExposure: exposure, registry: registry, integrity: integrity, contradictions: contradictions,
                              timeline: timeline, openItems: ["Confirm whether the 3 exposed responses reached customers " + hostile],
                              assets: assets, broaderCompromise: [],
                              keyIntervals: KeyInterval.of(timeline: timeline, incidents: incidents,
                                                           awarenessTime: caseInfo.awarenessTime))
    }

    /// The findings JSON of the sample (hits as the store would hold them).
    static let hits = Data("""
        [{"rule":"extraction.volume","atlas":["AML.T0024"],"src_ip":"203.0.113.7","hour":"2026-03-03T02:00:00Z","count":2400,"ref":{"archive":"gateway-2026-03.jsonl.zst","member":"","line":1000}},
         {"rule":"prompt.injection-phrase","atlas":["AML.T0051"],"prompt":"ignore previous instructions \\u202e <script>","score":0.5}]
        """.utf8)

    /// The sample with every human fact supplied.
    static func complete() -> AnalysisResult {
        var result = rich()
        result.caseInfo.humanFields = ["legal_basis": "GDPR Art. 6(1)(b)", "dpo_contact": "dpo@example.com",
                                       HumanField.rootCause: "Compromised CI credentials used to retrain on flipped labels.",
                                       HumanField.remediation: "Version 6 restored; retraining on verified labels.",
                                       HumanField.estimatedResolution: "2026-03-20",
                                       HumanField.materialityDetermination: "2026-03-05",
                                       HumanField.notificationTime: "2026-03-04T16:00:00Z",
                                       "data_subjects_affected": "2",
                                       "data_subject_categories": "customers of the support chat",
                                       RegulatoryAssessment.likelyConsequencesField: "Low: two card numbers, both cancelled.",
                                       "measures_taken": "Guardrail tightened; sessions revoked.",
                                       RegulatoryAssessment.doraClassificationField: "2026-03-03T12:00:00Z"]
        result.caseInfo.custody = CustodyFacts(collector: "SOC", acquiredAt: "2026-03-04T00:00:00Z", examiner: "A. Analyst",
                                               source: "gateway exports", storage: "evidence bucket")
        result.caseInfo.models[1].dailyVolume = 40_000
        result.caseInfo.models[1].dataType = "chat transcripts"
        result.dataExposure?.recordsPotentiallyExposed = Figure(value: 3, unit: "records", source: .computed)
        return result
    }
}
