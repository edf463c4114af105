import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// What one incident-type analysis adds to the case: its incidents, the playbook questions it
/// answered from evidence, what a person must still confirm, and what the logs contradict.
package struct IncidentFindings {
    package var incidents: [Incident] = []
    package var answers: [Playbook.Question: PlaybookAnswer] = [:]
    package var openItems: [String] = []
    package var contradictions: [Contradiction] = []

    /// Adds `other`'s findings; an answer already given stays (each question has one analyzer).
    package mutating func merge(_ other: IncidentFindings) {
        incidents += other.incidents
        answers.merge(other.answers) { existing, _ in existing }
        openItems += other.openItems
        contradictions += other.contradictions
    }
}

/// One branch of the playbook's flowchart analysed from the evidence: one analyzer per incident
/// type, run in order by ``Analysis/run()``. An analyzer keeps what later stages need (the
/// registry history, the extraction summary, the data exposure) as its own properties.
package protocol IncidentAnalyzer {
    /// The incident type it reports.
    var type: IncidentType { get }

    /// Analyses the evidence of `analysis` (its hits, store and case file).
    mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings
}

/// Model behaviour anomaly: a compromised model version served in production, its impact window
/// from the registry history (or its first and last decisions), and the decisions it served.
package struct ModelBehaviourAnalyzer: IncidentAnalyzer {
    package let type = IncidentType.modelBehaviour
    let scans: AnalysisScans
    /// Set by ``analyze(_:)``.
    package private(set) var registryRows: [RegistryRow] = []
    package private(set) var history: RegistryAnalysis?
    package private(set) var affected: AffectedDecisions?

    package init(scans: AnalysisScans) {
        self.scans = scans
    }

    /// The shift of the compromised version's decisions against the baseline's rates (95 % Wilson
    /// intervals on each rate, scaled to the number of decisions made). Nil for a baseline under
    /// 100 decisions, too few to say.
    package static func harm(made: [String: Int64], baseline: [String: Int64], baselineVersion: String) -> HarmEstimate? {
        let n0 = Double(baseline.values.reduce(0, +))
        let n = Double(made.values.reduce(0, +))
        guard n0 >= 100, n > 0 else { return nil }
        let z = 1.959964
        var rows: [HarmEstimate.Row] = []
        var shift = 0.0, low = 0.0, high = 0.0
        for decision in Set(made.keys).union(baseline.keys).sorted() {
            let p = Double(baseline[decision] ?? 0) / n0
            let centre = (p + z * z / (2 * n0)) / (1 + z * z / n0)
            let half = z * ((p * (1 - p) / n0 + z * z / (4 * n0 * n0)).squareRoot()) / (1 + z * z / n0)
            let (lo, hi) = (max(0, centre - half) * n, min(1, centre + half) * n)
            let actual = made[decision] ?? 0
            rows.append(.init(decision: decision, baselineRate: (p * 1e6).rounded() / 1e6, expected: (p * n).rounded(),
                              expectedLow: lo.rounded(), expectedHigh: hi.rounded(), made: actual))
            let a = Double(actual)
            shift += abs(p * n - a)
            // The interval of |expected − made| over the expected interval.
            low += a >= lo && a <= hi ? 0 : min(abs(lo - a), abs(hi - a))
            high += max(abs(lo - a), abs(hi - a))
        }
        let figure = Figure(value: (shift / 2).rounded(), unit: "decisions", source: .estimated,
                            method: "decisions that moved to another value against \(baselineVersion)'s rates before the window (half the sum over decision values of |expected − made|; the interval from 95 % Wilson intervals on the rates)",
                            low: (low / 2).rounded(), high: (high / 2).rounded())
        return HarmEstimate(baselineVersion: baselineVersion, baselineDecisions: Int64(n0), rows: rows, shifted: figure)
    }

    /// The requests estimate of the decisions made inside `window`: a point when the deploy and
    /// the rollback each have one time, a range when the evidence shows a rollout or a drain
    /// (low: from the rollout's completion to the rollback's start; high: from the deploy's start
    /// to the drain's end). Nil when the evidence holds no inference request to the model.
    func estimate(_ window: RegistryAnalysis.Window, model: String, version: String, settings: RuleSettings,
                  listing: Bool) throws -> (figure: Figure, summary: RequestEstimateSummary, list: AffectedDecisionList?)? {
        guard try !scans.scan.segments(.inference).isEmpty else { return nil }
        let openEnd = Int64.max
        let wide = window.start.nanos..<(window.drainEnd?.nanos ?? window.end?.nanos ?? openEnd)
        let narrowStart = window.rolloutEnd?.nanos ?? window.start.nanos
        let narrow = narrowStart..<max(narrowStart, window.end?.nanos ?? openEnd)
        let counts = try scans.requestEstimate(model: model, patterns: settings.endpointPatterns, wide: wide, narrow: narrow,
                                               listing: listing)
        guard counts.high > 0 || listing else { return nil }
        var method = "successful (2xx) requests to \(model)'s inference endpoints (\(settings.endpointPatterns.joined(separator: ", "))) in the gateway and serving logs"
        if window.rolloutEnd != nil || window.drainEnd != nil {
            method += "; low: from the rollout's completion (\(Analysis.describe(Analysis.time(narrow.lowerBound)))) to the rollback's start, high: from the deploy's start (\(Analysis.describe(Analysis.time(wide.lowerBound))))"
                + (window.drainEnd.map { " to the rollback's completion (\(Analysis.describe(Analysis.time($0.nanos))))" } ?? " to the rollback's start")
                + " — during a rolling deploy both versions answer"
        } else {
            method += " from the deploy (\(Analysis.describe(Analysis.time(wide.lowerBound)))) to \(window.end.map { "the rollback (\(Analysis.describe(Analysis.time($0.nanos))))" } ?? "the end of the data")"
                + "; one time per edge in the evidence, so no range for a rolling deploy"
        }
        method += "; one request taken as one decision by \(version)"
        let figure = Figure(value: Double(counts.low), unit: "decisions", source: .estimated, method: method,
                            low: Double(counts.low), high: Double(counts.high))
        let clients = counts.clients.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let summary = RequestEstimateSummary(
            low: counts.low, high: counts.high, method: method,
            hourly: counts.hourly.keys.sorted().map { hour in
                let value = counts.hourly[hour] ?? (0, 0)
                return RequestEstimateSummary.Hour(hour: Analysis.time(hour), low: value.low, high: value.high)
            },
            topClients: clients.prefix(RequestEstimateSummary.clientLimit).map { RequestEstimateSummary.Client(address: $0.key, requests: $0.value) },
            clients: Int64(counts.clients.count))
        return (figure, summary, counts.list)
    }

    package mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings {
        var found = IncidentFindings()
        let caseFile = analysis.caseFile
        registryRows = try scans.registryRows()
        var history = RegistryAnalysis(rows: registryRows, caseFile: caseFile)
        found.contradictions += history.contradictions
        if let compromised = history.compromised, history.window == nil, !compromised.model.isEmpty {
            // No deploy of the version in the registry evidence: the pipeline's deploy and rollback
            // actions, linked to the version by the case file or a stated inference.
            if let inferred = DeploymentInference.window(model: compromised.model, version: compromised.version,
                                                         rows: try scans.pipelineRows(), bursts: analysis.hits(RuleID.pipelineBurst),
                                                         caseFile: caseFile) {
                history.window = inferred.window
                history.deployers = inferred.deployers
                if let end = inferred.window.end { history.rollbacks = [end.nanos] }
            }
        }
        self.history = history
        if let compromised = history.compromised {
            var window = history.window
            let counts = try scans.decisions(model: compromised.model, version: compromised.version,
                                             start: window?.start.nanos, end: window?.end?.nanos)
            if window == nil, let first = counts.first[compromised.version], let last = counts.last[compromised.version] {
                window = RegistryAnalysis.Window(
                    start: .init(nanos: first.0, rule: "predictions", description: "first decision served by \(compromised.version) (no deployment events)", evidence: first.1),
                    // The end shown is the last decision's own time (the window includes it), not the
                    // exclusive bound one nanosecond later, which reads as a different instant.
                    end: .init(nanos: last.0, rule: "predictions", description: "last decision served by \(compromised.version) (no deployment events)", evidence: last.1))
            }
            if let window {
                let impact = window.impactWindow(ongoingAt: nil)
                let inWindow = counts.inWindow[compromised.version] ?? [:]
                let exact = counts.rows > 0
                // Written now, so the decisions' references are not held through the rest.
                analysis.decisions = exact ? try counts.list?.stage() : nil
                // The estimate from the requests: the figure without decision logs, a check beside them.
                let estimate = try self.estimate(window, model: compromised.model, version: compromised.version,
                                                 settings: analysis.settings, listing: !exact)
                if !exact, let list = estimate?.list { analysis.decisions = try list.stage() }
                let total: Figure
                if exact {
                    total = .count(Int(inWindow.values.reduce(0, +)), unit: "decisions")
                } else if let estimate {
                    total = estimate.figure
                } else {
                    total = Figure(value: nil, unit: "decisions", source: .estimated,
                                   method: "not assessed: no decision logs and no inference requests to \(compromised.model) in the evidence")
                }
                let after = counts.afterWindow[compromised.version]?.values.reduce(0, +) ?? 0
                if after > 0 {
                    found.openItems.append("\(after) decisions were served by \(compromised.version) after the rollback (pods draining); they are listed in affected_decisions.csv with in_window = false")
                }
                affected = AffectedDecisions(model: compromised.model, compromisedVersion: compromised.version,
                                             lastKnownGoodVersion: history.lastKnownGood, window: impact, exact: exact,
                                             total: total, byDecision: exact ? inWindow : [:],
                                             requestIdsFile: exact ? (analysis.decisions != nil ? AffectedDecisionList.Layout.decisions.fileName : nil)
                                                                   : (analysis.decisions != nil ? AffectedDecisionList.Layout.requests.fileName : nil),
                                             estimate: estimate?.summary)
                if exact, let good = history.lastKnownGood, let baseline = counts.beforeWindow[good] {
                    affected?.harm = Self.harm(made: inWindow, baseline: baseline, baselineVersion: good)
                }
                found.incidents.append(Incident(
                    id: "", type: .modelBehaviour, title: "Compromised version \(compromised.version) of \(compromised.model) served in production",
                    atlas: ["AML.T0018", "AML.T0031"], window: impact, actors: history.deployers, models: [compromised.model],
                    ruleHits: [RuleID.registryChange: analysis.hits(RuleID.registryChange).count], linked: [],
                    summary: "\(compromised.model) \(compromised.version) served from \(Analysis.describe(impact.start.time)) to \(impact.end.map { Analysis.describe($0.time) } ?? "the end of the data"); last known-good version \(history.lastKnownGood ?? "unknown")."))
                found.answers[.production] = PlaybookAnswer(answer: .yes, answeredBy: "evidence",
                                                            evidence: ["\(window.start.description) at \(Analysis.describe(impact.start.time))"])
            } else {
                found.openItems.append("\(compromised.model) \(compromised.version) is named compromised, but no deployment event of it was found (registry, Kubernetes audit, CloudTrail or pipeline logs); give compromised.deployed_at and removed_at in the case file to bound the impact window")
            }
        } else if caseFile.compromisedVersion == nil {
            found.openItems.append("No compromised model version was identified (no rollback in the registry history and none named in the case file)")
        }
        if let model = affected?.model ?? caseFile.models.first?.name, let profile = caseFile.model(named: model) {
            if let critical = profile.safetyCritical, let facing = profile.customerFacing {
                found.answers[.critical] = PlaybookAnswer(answer: (critical || facing) ? .yes : .no, answeredBy: "case-file",
                                                          evidence: ["case file: safety_critical \(critical), customer_facing \(facing)"])
            }
            if found.answers[.production] == nil, let production = profile.inProduction {
                found.answers[.production] = PlaybookAnswer(answer: production ? .yes : .no, answeredBy: "case-file",
                                                            evidence: ["case file: in_production \(production)"])
            }
        }
        if found.answers[.critical] == nil {
            found.answers[.critical] = .confirm(.critical, because: "logs cannot tell whether the model is safety-critical or customer-facing")
        }
        return found
    }
}

/// Model theft: extraction through the inference API (attackers, volume, window, whether it is
/// still going on) and model artifacts read from outside the internal networks.
package struct ExtractionAnalyzer: IncidentAnalyzer {
    package let type = IncidentType.extraction
    let scan: StoreScan
    let resolver: EvidenceResolver
    /// Set by ``analyze(_:)``.
    package private(set) var summary: ExtractionSummary?

    package init(scan: StoreScan, resolver: EvidenceResolver) {
        self.scan = scan
        self.resolver = resolver
    }

    package mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings {
        var found = IncidentFindings()
        let hits = analysis.hits
        // From here on the summary is what deliverables show: API keys masked.
        let extraction = try analysis.extractionSummary(scan: scan, resolver: resolver)?.maskingCredentials()
        summary = extraction
        if let extraction, let window = extraction.window {
            found.incidents.append(Incident(
                id: "", type: .extraction, title: "Model extraction through the inference API",
                atlas: ["AML.T0024", "AML.T0024.002", "AML.T0040"], window: window,
                actors: extraction.attackers.map(\.identity), models: [],
                ruleHits: Dictionary(uniqueKeysWithValues: RuleID.extraction.map { ($0, hits.count(rule: $0)) }.filter { $0.1 > 0 }),
                linked: [],
                summary: "\(extraction.attackers.count) attacker identities sent \(extraction.totalQueries) queries with \(extraction.totalDistinctInputs) distinct inputs."))
            found.answers[.extractionOngoing] = PlaybookAnswer(
                answer: extraction.ongoing ? .yes : .no, answeredBy: "evidence",
                evidence: [extraction.ongoing ? "attacker queries in the last hour of the data (ending \(extraction.dataEnd.map(\.rfc3339) ?? "?"))"
                                               : "no attacker query in the last hour of the data (ending \(extraction.dataEnd.map(\.rfc3339) ?? "?"))"])
        }
        MemoryRelease.afterPhase()
        // Artifacts read, written or deleted from outside.
        let artifactHits = analysis.hits(RuleID.artifactExternalAccess).sorted { ($0.time?.nanoseconds ?? 0) < ($1.time?.nanoseconds ?? 0) }
        if let first = artifactHits.first, let last = artifactHits.last, let start = first.time, let end = last.time {
            let window = ImpactWindow(
                start: WindowEdge(time: start, rule: RuleID.artifactExternalAccess, description: "first model artifact access from outside the internal networks", evidence: first.evidenceRef),
                end: WindowEdge(time: end, rule: RuleID.artifactExternalAccess, description: "last model artifact access from outside the internal networks", evidence: last.evidenceRef),
                ongoing: false, durationSeconds: Double(start.nanoseconds(to: end)) / 1e9)
            let actors = Set(artifactHits.compactMap { $0.key["src_ip"]?.stringValue }).sorted()
            found.incidents.append(Incident(
                id: "", type: .extraction, title: "Model artifacts accessed from outside the internal networks",
                atlas: ["AML.T0025", "AML.T0035"], window: window, actors: actors, models: [],
                ruleHits: [RuleID.artifactExternalAccess: artifactHits.count], linked: [],
                summary: "\(artifactHits.count) reads, writes or deletes of model artifacts from \(actors.count) external addresses."))
            if found.answers[.extractionOngoing] == nil {
                found.answers[.extractionOngoing] = PlaybookAnswer(answer: .no, answeredBy: "evidence",
                                                                   evidence: ["artifact access ended at \(end.rfc3339)"])
            }
        }
        return found
    }
}

/// Prompt injection and guardrail bypass, with the data exposure of the LLM's responses.
package struct PromptInjectionAnalyzer: IncidentAnalyzer {
    package let type = IncidentType.promptInjection
    let scan: StoreScan
    /// Set by ``analyze(_:)``.
    package private(set) var exposure: DataExposure?

    package init(scan: StoreScan) {
        self.scan = scan
    }

    package mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings {
        var found = IncidentFindings()
        let exposure = analysis.dataExposure()
        self.exposure = exposure
        if let injection = analysis.injectionIncident(exposure: exposure) { found.incidents.append(injection) }
        if let exposure {
            found.answers[.sensitive] = PlaybookAnswer(
                answer: exposure.responsesWithSensitiveData > 0 ? .yes : .no, answeredBy: "evidence",
                evidence: ["\(exposure.responsesWithSensitiveData) responses with sensitive data (" +
                           exposure.categories.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"])
        } else if try !scan.segments(.llm).isEmpty {
            found.answers[.sensitive] = PlaybookAnswer(answer: .no, answeredBy: "evidence",
                                                       evidence: ["no sensitive data found in the LLM responses"])
        }
        return found
    }
}

/// Training data or pipeline compromise: bursts of pipeline actions, tied to the registry history.
package struct TrainingDataAnalyzer: IncidentAnalyzer {
    package let type = IncidentType.trainingData
    let history: RegistryAnalysis

    package init(history: RegistryAnalysis) {
        self.history = history
    }

    package mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings {
        var found = IncidentFindings()
        if let training = analysis.trainingIncident(history: history) {
            found.incidents.append(training.incident)
            found.answers[.pipelineActive] = training.active
        }
        return found
    }
}

/// Supply-chain compromise: the compromised dependency named by people, the models that depend on
/// it by the inventory.
package struct SupplyChainAnalyzer: IncidentAnalyzer {
    package let type = IncidentType.supplyChain
    let archives: [ArchiveRecord]
    /// Set by ``analyze(_:)``.
    package private(set) var items: [IntegrityItem] = []
    package private(set) var supply = SupplyChainAnalysis()

    package init(archives: [ArchiveRecord]) {
        self.archives = archives
    }

    package mutating func analyze(_ analysis: inout Analysis) throws -> IncidentFindings {
        var found = IncidentFindings()
        let supply = SupplyChainAnalysis.evaluate(caseFile: analysis.caseFile, archives: archives)
        self.supply = supply
        items = supply.items
        if let incident = supply.incident { found.incidents.append(incident) }
        if let answer = supply.answer { found.answers[.otherModels] = answer }
        found.openItems += supply.openItems
        return found
    }
}
