import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Assembles the incident timeline from the analysis' own values: registry changes, incident
/// windows, first indicators per rule, attacker activity, awareness and containment.
package enum TimelineBuilder {
    package static func build(incidents: [Incident], registry: [RegistryRow], hits: [Hit], caseFile: CaseFile,
                      extraction: ExtractionSummary?, affected: AffectedDecisions?) -> [TimelineEvent] {
        var events: [TimelineEvent] = []
        for row in registry where row.succeeded {
            var phase = "context"
            if let affected, row.model == affected.model {
                if row.version == affected.compromisedVersion, row.isProductionDeploy { phase = "impact" }
                else if row.isProductionDeploy, row.time >= (affected.window.start.time?.nanoseconds ?? .max) { phase = "containment" }
            }
            let stage = [row.environment, row.toStage].filter { !$0.isEmpty }.joined(separator: ", ")
            events.append(TimelineEvent(time: Timestamp(nanoseconds: row.time), phase: phase, source: "registry",
                                        description: "\(row.event) \(row.model) \(row.version)\(stage.isEmpty ? "" : " (\(stage))")\(row.principal.isEmpty ? "" : " by \(row.principal)")",
                                        incident: nil, evidence: row.evidence))
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
        // The first hit of each rule is an indicator; the earliest overall is the first indicator.
        var firstByRule: [String: Hit] = [:]
        for hit in hits where hit.rule != RuleID.registryChange {
            guard let time = hit.time ?? hit.window?.start else { continue }
            if let known = firstByRule[hit.rule], (known.time ?? known.window?.start ?? Timestamp(nanoseconds: .max)) <= time { continue }
            firstByRule[hit.rule] = hit
        }
        let indicators = firstByRule.values.sorted { ($0.sortTime, $0.rule) < ($1.sortTime, $1.rule) }
        for (index, hit) in indicators.enumerated() {
            events.append(TimelineEvent(time: hit.time ?? hit.window?.start ?? Timestamp(nanoseconds: 0), phase: index == 0 ? "first-indicator" : "indicator",
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
        let order = ["first-indicator": 0, "indicator": 1, "impact": 2, "detection": 3, "containment": 4, "recovery": 5, "context": 6]
        return events.sorted {
            let left = ($0.time?.nanoseconds ?? 0, order[$0.phase] ?? 9, $0.description)
            let right = ($1.time?.nanoseconds ?? 0, order[$1.phase] ?? 9, $1.description)
            return left < right
        }
    }
}
