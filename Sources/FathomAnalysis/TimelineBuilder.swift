import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Assembles the incident timeline from the analysis's own values: every event its reasoning uses
/// (the compromised model's deploys and rollbacks, failed attempts included; the training run after
/// the tampering; every leak and every deletion of a model artifact; incident windows; attacker
/// first queries; the first hit of each rule the incidents rely on; awareness and containment),
/// and the rest of the evidence collapsed into one context line per kind.
package enum TimelineBuilder {
    package static func build(incidents: [Incident], registry: [RegistryRow], hits: HitList, caseFile: CaseFile,
                              extraction: ExtractionSummary?, affected: AffectedDecisions?,
                              pipeline: [PipelineRow] = []) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        var context: [String: (count: Int, first: Int64, last: Int64, kinds: [String: Int])] = [:]
        func collapse(_ source: String, _ kind: String, _ time: Int64) {
            var entry = context[source] ?? (0, time, time, [:])
            entry.count += 1
            entry.first = min(entry.first, time)
            entry.last = max(entry.last, time)
            entry.kinds[kind, default: 0] += 1
            context[source] = entry
        }
        let model = affected?.model
        let windowStart = affected?.window.start.time?.nanoseconds
        for row in registry {
            let stage = [row.environment, row.toStage].filter { !$0.isEmpty }.joined(separator: ", ")
            let text = "\(row.event) \(row.model) \(row.version)\(stage.isEmpty ? "" : " (\(stage))")\(row.principal.isEmpty ? "" : " by \(row.principal)")"
            let production = row.environment.lowercased().contains("prod") || row.toStage.lowercased() == "production"
            let deploys = ["create", "patch", "update", "deploy", "rollback", "stage_transition", "transition"].contains(row.event.lowercased())
            guard let model, row.model == model, deploys || row.version == affected?.compromisedVersion, !row.version.isEmpty else {
                collapse("registry", row.event, row.time)
                continue
            }
            var phase = "context"
            var description = text
            if row.version == affected?.compromisedVersion {
                phase = row.succeeded && row.isProductionDeploy ? "impact" : "indicator"
            } else if production, deploys, let start = windowStart, row.time >= start {
                phase = "containment"
                if !row.succeeded { description = "failed attempt: " + text + " (status \(row.status))" }
            } else {
                collapse("registry", row.event, row.time)
                continue
            }
            events.append(TimelineEvent(time: Timestamp(nanoseconds: row.time), phase: phase, source: "registry",
                                        description: description, incident: nil, evidence: row.evidence))
        }
        // The training run and deploy that followed the tampering, by the tampering's principal.
        if let training = incidents.first(where: { $0.type == .trainingData }), let start = training.window.start.time?.nanoseconds {
            let actors = Set(training.actors)
            for row in pipeline where row.time > start && actors.contains(row.principal) && (row.isTraining || row.isDeploy) && row.succeeded {
                events.append(TimelineEvent(time: Timestamp(nanoseconds: row.time), phase: "impact", source: "pipeline",
                                            description: "\(row.action) on \(row.pipeline) by \(row.principal) (run \(row.runID)) after the anomalous data changes",
                                            incident: training.id, evidence: row.evidence))
            }
        }
        for incident in incidents where incident.window.start.time != nil {
            events.append(TimelineEvent(time: incident.window.start.time, phase: "impact", source: incident.window.start.rule,
                                        description: "\(incident.id) starts: \(incident.window.start.description)",
                                        incident: incident.id, evidence: incident.window.start.evidence))
            if let end = incident.window.end {
                events.append(TimelineEvent(time: end.time, phase: incident.type == .modelBehaviour ? "containment" : "impact",
                                            source: end.rule, description: "\(incident.id) ends: \(end.description)",
                                            incident: incident.id, evidence: end.evidence))
            }
        }
        // Every leak and every deletion of a model artifact is an event of its own.
        for hit in hits.each(rule: RuleID.sensitiveOutput) {
            let categories = (hit.metrics["categories"]?.stringsValue ?? []).joined(separator: ", ")
            events.append(TimelineEvent(time: hit.time, phase: "impact", source: hit.rule,
                                        description: "the model's response to \(hit.field("principal") ?? "a user") carried sensitive data (\(categories))",
                                        incident: nil, evidence: hit.evidenceRef))
        }
        for hit in hits.each(rule: RuleID.artifactExternalAccess) where (hit.field("action") == "delete" || (hit.field("operation") ?? "").uppercased().contains("DELETE")) {
            events.append(TimelineEvent(time: hit.time, phase: "impact", source: hit.rule,
                                        description: "\(hit.field("src_ip") ?? "an outside address") deleted \(hit.field("bucket") ?? "?")/\(hit.field("key") ?? "?")",
                                        incident: nil, evidence: hit.evidenceRef))
        }
        // The first hit of each rule the incidents rely on, counted from the incident's own start
        // (a rule's earlier hits that the analysis set aside as noise are no indicator of it).
        var relied: [String: Int64] = [:]
        for incident in incidents {
            let start = incident.window.start.time?.nanoseconds ?? .min
            for rule in incident.ruleHits.keys where rule != RuleID.registryChange { relied[rule] = min(relied[rule] ?? .max, start) }
        }
        // An aggregate's time is its first evidence row (a day's window starts at midnight).
        func when(_ hit: Hit) -> Timestamp? { hit.evidence.first?.time ?? hit.time ?? hit.window?.start }
        var firstByRule: [String: Hit] = [:]
        for hit in hits where hit.rule != RuleID.registryChange {
            guard let time = when(hit) else { continue }
            guard let from = relied[hit.rule], time.nanoseconds >= from else {
                collapse("rule hits", hit.rule, time.nanoseconds)
                continue
            }
            if let known = firstByRule[hit.rule], let knownTime = when(known), knownTime <= time { continue }
            firstByRule[hit.rule] = hit
        }
        let indicators = firstByRule.values.sorted { (when($0) ?? Timestamp(nanoseconds: 0), $0.rule) < (when($1) ?? Timestamp(nanoseconds: 0), $1.rule) }
        for (index, hit) in indicators.enumerated() {
            events.append(TimelineEvent(time: when(hit) ?? Timestamp(nanoseconds: 0), phase: index == 0 ? "first-indicator" : "indicator",
                                        source: hit.rule, description: "first hit of \(hit.rule): \(hit.title)",
                                        incident: nil, evidence: hit.evidenceRef))
        }
        for attacker in extraction?.attackers ?? [] {
            events.append(TimelineEvent(time: attacker.firstSeen, phase: "impact", source: "extraction",
                                        description: "first query by \(attacker.identity)", incident: nil, evidence: attacker.firstEvidence))
        }
        if let awareness = caseFile.awarenessTime {
            events.append(TimelineEvent(time: awareness, phase: "detection", source: "case file",
                                        description: "the organisation becomes aware of the incident", incident: nil, evidence: nil))
        }
        for action in caseFile.containment {
            events.append(TimelineEvent(time: action.time, phase: "containment", source: "case file",
                                        description: action.action, incident: nil, evidence: nil))
        }
        // The rest: one line per source, with what it holds and its span.
        for (source, entry) in context {
            let kinds = entry.kinds.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            events.append(TimelineEvent(time: Timestamp(nanoseconds: entry.first), phase: "context", source: source,
                                        description: "\(entry.count) \(source == "registry" ? "registry and deployment events" : "rule hits") not used by the analysis's reasoning, \(Timestamp(nanoseconds: entry.first).rfc3339) to \(Timestamp(nanoseconds: entry.last).rfc3339): \(kinds) (all in findings.json)",
                                        incident: nil, evidence: nil))
        }
        let order = ["first-indicator": 0, "indicator": 1, "impact": 2, "detection": 3, "containment": 4, "recovery": 5, "context": 6]
        return events.sorted {
            let left = ($0.time?.nanoseconds ?? 0, order[$0.phase] ?? 9, $0.description)
            let right = ($1.time?.nanoseconds ?? 0, order[$1.phase] ?? 9, $1.description)
            return left < right
        }
    }
}
