import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// One analysis run's working state.
package struct Analysis {
    package static let hour: Int64 = 3_600_000_000_000
    package let store: Store
    package let request: AnalyzeRequest
    package let hits: [Hit]
    package let settings: RuleSettings
    package let caseFile: CaseFile
    /// `affected_decisions.csv`, written as soon as the decisions are known.
    package var decisions: StagedFile?
    package var contradictions: [Contradiction] = []
    package var openItems: [String] = []
    package var timeline: [TimelineEvent] = []

    package init(store: Store, request: AnalyzeRequest, hits: [Hit], settings: RuleSettings) {
        self.store = store
        self.request = request
        self.hits = hits
        self.settings = settings
        self.caseFile = request.caseFile ?? CaseFile()
    }

    package func hits(_ rule: String) -> [Hit] { hits.filter { $0.rule == rule } }

    package static func text(_ nanos: Int64) -> String { TimeParser.format(nanos) }

    package mutating func run() throws -> AnalysisResult {
        let resolver = try EvidenceResolver(catalog: store.catalog)
        let scan = StoreScan(store: store, jobs: request.jobs,
                             bounds: (request.timeRange?.from, request.timeRange.map { $0.to - 1 }))
        let scans = AnalysisScans(scan: scan, resolver: resolver)
        let archives = try InputSummary.archives(catalog: store.catalog, in: request.timeRange)
        var incidents: [Incident] = []
        var answers: [Playbook.Question: PlaybookAnswer] = [:]

        // Registry history, the compromised version and its window.
        let registryRows = try scans.registryRows()
        let history = RegistryAnalysis(rows: registryRows, caseFile: caseFile)
        contradictions += history.contradictions
        var affected: AffectedDecisions?
        if let compromised = history.compromised {
            var window = history.window
            let counts = try scans.decisions(model: compromised.model, version: compromised.version,
                                             start: window?.start.nanos, end: window?.end?.nanos)
            if window == nil, let first = counts.first[compromised.version], let last = counts.last[compromised.version] {
                window = RegistryAnalysis.Window(
                    start: .init(nanos: first.0, rule: "predictions", description: "first decision served by \(compromised.version) (no registry events)", evidence: first.1),
                    // The end shown is the last decision's own time (the window includes it), not the
                    // exclusive bound one nanosecond later, which reads as a different instant.
                    end: .init(nanos: last.0, rule: "predictions", description: "last decision served by \(compromised.version) (no registry events)", evidence: last.1))
            }
            if let window {
                let impact = window.impactWindow(ongoingAt: nil)
                let inWindow = counts.inWindow[compromised.version] ?? [:]
                let exact = counts.rows > 0
                var total: Figure
                if exact {
                    total = .count(Int(inWindow.values.reduce(0, +)), unit: "decisions")
                } else {
                    let end = window.end?.nanos ?? (window.start.nanos + Analysis.dayNanos)
                    let volume = try scans.inferenceVolume(model: compromised.model, start: window.start.nanos, end: end)
                    total = Figure(value: Double(volume.succeeded), unit: "decisions", source: .estimated,
                                   method: "no decision logs: inference requests to \(compromised.model) inside the window; low = requests answered with 2xx, high = all requests",
                                   low: Double(volume.succeeded), high: Double(volume.all))
                }
                // Written now, so the decisions' references are not held through the rest.
                decisions = exact ? try counts.list?.stage() : nil
                let after = counts.afterWindow[compromised.version]?.values.reduce(0, +) ?? 0
                if after > 0 {
                    openItems.append("\(after) decisions were served by \(compromised.version) after the rollback (pods draining); they are listed in affected_decisions.csv with in_window = false")
                }
                affected = AffectedDecisions(model: compromised.model, compromisedVersion: compromised.version,
                                             lastKnownGoodVersion: history.lastKnownGood, window: impact, exact: exact,
                                             total: total, byDecision: exact ? inWindow : [:],
                                             requestIdsFile: exact ? "affected_decisions.csv" : nil)
                incidents.append(Incident(
                    id: "", type: .modelBehaviour, title: "Compromised version \(compromised.version) of \(compromised.model) served in production",
                    atlas: ["AML.T0018", "AML.T0031"], window: impact, actors: history.deployers, models: [compromised.model],
                    ruleHits: [RuleID.registryChange: hits(RuleID.registryChange).count], linked: [],
                    summary: "\(compromised.model) \(compromised.version) served from \(impact.start.time) to \(impact.end?.time ?? "the end of the data"); last known-good version \(history.lastKnownGood ?? "unknown")."))
                answers[.production] = PlaybookAnswer(answer: .yes, answeredBy: "evidence",
                                                      evidence: ["\(window.start.description) at \(impact.start.time)"])
            }
        } else if caseFile.compromisedVersion == nil {
            openItems.append("No compromised model version was identified (no rollback in the registry history and none named in the case file)")
        }
        if let model = affected?.model ?? caseFile.models.first?.name, let profile = caseFile.model(named: model) {
            if let critical = profile.safetyCritical, let facing = profile.customerFacing {
                answers[.critical] = PlaybookAnswer(answer: (critical || facing) ? .yes : .no, answeredBy: "case-file",
                                                    evidence: ["case file: safety_critical \(critical), customer_facing \(facing)"])
            }
            if answers[.production] == nil, let production = profile.inProduction {
                answers[.production] = PlaybookAnswer(answer: production ? .yes : .no, answeredBy: "case-file",
                                                      evidence: ["case file: in_production \(production)"])
            }
        }
        if answers[.critical] == nil {
            answers[.critical] = .confirm(.critical, because: "logs cannot tell whether the model is safety-critical or customer-facing")
        }

        MemoryRelease.afterPhase()
        // Extraction through the API.
        let extraction = try extractionSummary(scan: scan, resolver: resolver)
        if let extraction, let window = extraction.window {
            incidents.append(Incident(
                id: "", type: .extraction, title: "Model extraction through the inference API",
                atlas: ["AML.T0024", "AML.T0024.002", "AML.T0040"], window: window,
                actors: extraction.attackers.map(\.identity), models: [],
                ruleHits: Dictionary(grouping: hits.filter { RuleID.extraction.contains($0.rule) }, by: \.rule).mapValues(\.count),
                linked: [],
                summary: "\(extraction.attackers.count) attacker identities sent \(extraction.totalQueries) queries with \(extraction.totalDistinctInputs) distinct inputs."))
            answers[.extractionOngoing] = PlaybookAnswer(
                answer: extraction.ongoing ? .yes : .no, answeredBy: "evidence",
                evidence: [extraction.ongoing ? "attacker queries in the last hour of the data (ending \(extraction.dataEnd ?? "?"))"
                                               : "no attacker query in the last hour of the data (ending \(extraction.dataEnd ?? "?"))"])
        }

        MemoryRelease.afterPhase()
        // Artifact exfiltration.
        let artifactHits = hits(RuleID.artifactExternalAccess).sorted { ($0.time ?? 0) < ($1.time ?? 0) }
        if let first = artifactHits.first, let last = artifactHits.last, let start = first.time, let end = last.time {
            let window = ImpactWindow(
                start: WindowEdge(time: Analysis.text(start), rule: RuleID.artifactExternalAccess, description: "first model artifact access from outside the internal networks", evidence: first.evidenceRef),
                end: WindowEdge(time: Analysis.text(end), rule: RuleID.artifactExternalAccess, description: "last model artifact access from outside the internal networks", evidence: last.evidenceRef),
                ongoing: false, durationSeconds: Double(end - start) / 1e9)
            let actors = Set(artifactHits.compactMap { $0.key["src_ip"]?.stringValue }).sorted()
            incidents.append(Incident(
                id: "", type: .extraction, title: "Model artifacts accessed from outside the internal networks",
                atlas: ["AML.T0025", "AML.T0035"], window: window, actors: actors, models: [],
                ruleHits: [RuleID.artifactExternalAccess: artifactHits.count], linked: [],
                summary: "\(artifactHits.count) reads, writes or deletes of model artifacts from \(actors.count) external addresses."))
            if answers[.extractionOngoing] == nil {
                answers[.extractionOngoing] = PlaybookAnswer(answer: .no, answeredBy: "evidence", evidence: ["artifact access ended at \(Analysis.text(end))"])
            }
        }

        // Prompt injection and data exposure.
        let exposure = dataExposure()
        if let injection = injectionIncident(exposure: exposure) { incidents.append(injection) }
        if let exposure {
            answers[.sensitive] = PlaybookAnswer(
                answer: exposure.responsesWithSensitiveData > 0 ? .yes : .no, answeredBy: "evidence",
                evidence: ["\(exposure.responsesWithSensitiveData) responses with sensitive data (" +
                           exposure.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"])
        } else if try !scan.segments(.llm).isEmpty {
            answers[.sensitive] = PlaybookAnswer(answer: .no, answeredBy: "evidence", evidence: ["no sensitive data found in the LLM responses"])
        }

        // Training data / pipeline.
        if let training = trainingIncident(history: history) {
            incidents.append(training.incident)
            answers[.pipelineActive] = training.active
        }

        // Supply chain.
        let supply = SupplyChainAnalysis.evaluate(caseFile: caseFile, archives: archives)
        if let incident = supply.incident { incidents.append(incident) }
        if let answer = supply.answer { answers[.otherModels] = answer }
        openItems += supply.openItems

        // Number, link and order incidents.
        incidents.sort { ($0.type, $0.window.start.time, $0.title) < ($1.type, $1.window.start.time, $1.title) }
        for index in incidents.indices { incidents[index].id = "INC-\(index + 1)" }
        IncidentLinking.link(&incidents)

        let types = Array(Set(incidents.map(\.type))).sorted()
        let flowchart = PlaybookEvaluation.evaluate(types: types, answers: answers)
        let coverage = try CoverageAnalysis.coverage(scan: scan)
        let registry = RegistryHistory(events: registryRows.map { row in
            RegistryEvent(time: Analysis.text(row.time), model: row.model, version: row.version, event: row.event,
                          fromStage: row.fromStage, toStage: row.toStage, principal: row.principal,
                          environment: row.environment.isEmpty ? nil : row.environment, evidence: row.evidence)
        }, compromisedVersion: history.compromised?.version, lastKnownGoodVersion: history.lastKnownGood,
           deployedAt: history.window.map { Analysis.text($0.start.nanos) }, rollbacks: history.rollbacks.map { Analysis.text($0) })
        let dataStart = coverage.compactMap(\.first).min()
        let dataEnd = coverage.compactMap(\.last).max()
        let caseID = request.caseID ?? caseFile.id ?? "case"
        if caseFile.awarenessTime == nil { openItems.append("Awareness time is not in the case file; regulatory deadlines cannot be computed") }
        let timeline = TimelineBuilder.build(incidents: incidents, registry: registryRows, hits: hits, caseFile: caseFile,
                                             extraction: extraction, affected: affected)
        let inputs = try InputSummary.inputs(catalog: store.catalog, in: request.timeRange)
        let ruleSummaries = RuleCatalog.builtIn.map { rule in
            RuleSummary(id: rule.info.id, title: rule.info.title, level: rule.info.level, atlas: rule.info.atlas,
                        hits: hits(rule.info.id).count,
                        settings: rule.settings(settings).map { RuleSummary.Setting(name: $0.0, value: $0.1) })
        }
        var human: [String: String?] = [:]
        for field in HumanFields.required { human[field] = caseFile.human[field].flatMap { $0.isEmpty ? nil : $0 } }
        for (field, value) in caseFile.human where human[field] == nil { human[field] = value.isEmpty ? nil : value }
        return AnalysisResult(
            caseInfo: CaseInfo(id: caseID, title: caseFile.title ?? incidents.first.map { $0.title } ?? "AI/ML security incident",
                               classification: caseFile.classification ?? "CONFIDENTIAL", awarenessTime: caseFile.awarenessTime,
                               generatedAt: request.now ?? dataEnd ?? "1970-01-01T00:00:00Z", models: caseFile.models,
                               contacts: caseFile.contacts, humanFields: human),
            provenance: RunProvenance(toolVersion: FathomVersion.current, commandLine: request.commandLine,
                                      rulesetHash: RulesetHash.of(settings: settings),
                                      inputsHash: InputSummary.inputsHash(inputs), dataStart: dataStart, dataEnd: dataEnd),
            inputs: inputs, coverage: coverage, rules: ruleSummaries, incidents: incidents, flowchart: flowchart,
            extraction: extraction, affectedDecisions: affected, dataExposure: exposure, registry: registry,
            integrity: supply.items, contradictions: contradictions, timeline: timeline, openItems: openItems.sorted(),
            keyIntervals: KeyInterval.of(timeline: timeline, incidents: incidents, awarenessTime: caseFile.awarenessTime))
    }

    package static let dayNanos: Int64 = 86_400_000_000_000
}
