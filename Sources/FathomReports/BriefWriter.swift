import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `brief.md`: the executive brief in the playbook's template, one page, plain language.
///
/// Sections: header table (classification, incident id, date, incident type), SITUATION, IMPACT,
/// RESPONSE, ACTIONS REQUIRED, ESTIMATED RESOLUTION. Every estimate says it is one; every fact only
/// a person can give is a visible `[TO BE COMPLETED: …]` placeholder.
package struct BriefWriter {
    package let context: ReportContext
    package init(_ context: ReportContext) { self.context = context }

    private var result: AnalysisResult { context.result }

    package func render() -> String {
        var out = "# AI/ML SECURITY INCIDENT — EXECUTIVE BRIEF\n\n"
        out += context.table(["Field", "Value"], [
            ["**Classification**", result.caseInfo.classification.isEmpty
                ? Placeholder.make("classification") : context.md(result.caseInfo.classification, limit: 80)],
            ["**Incident ID**", context.caseID],
            ["**Date**", context.generatedTime?.date.iso ?? context.generatedAt],
            ["**Incident Type**", context.incidentTypes],
        ]) + "\n\n"
        out += situation() + impact() + response() + actions() + resolution()
        out += "---\n\n" + context.footer
        return out
    }

    /// The models the incidents name, with the case-file profile where there is one.
    private var models: [(String, ModelProfile?)] {
        var names: [String] = []
        for incident in result.incidents { for model in incident.models where !names.contains(model) { names.append(model) } }
        if let model = result.affectedDecisions?.model, !names.contains(model) { names.append(model) }
        if names.isEmpty { names = result.caseInfo.models.map(\.name) }
        return names.map { name in (name, result.caseInfo.models.first { $0.name == name }) }
    }

    private func situation() -> String {
        var out = "## SITUATION\n\n"
        if models.isEmpty { out += "- **Model:** " + Placeholder.make("affected model") + "\n" }
        for (name, profile) in models {
            out += "- **Model:** " + context.md(name, limit: 120)
            out += " — business function: " + (profile?.businessFunction.map { context.md($0, limit: 160) } ?? Placeholder.make("business function"))
            out += "; daily volume: " + (profile?.dailyVolume.map { ReportNumber.grouped(Int64($0)) + " per day" } ?? Placeholder.make("daily volume"))
            out += "; data type: " + (profile?.dataType.map { context.md($0, limit: 120) } ?? Placeholder.make("data type"))
            out += ".\n"
        }
        out += "- **What happened:**"
        if result.incidents.isEmpty {
            out += " the analysis found no incident in the logs examined.\n"
        } else {
            out += "\n"
            for incident in result.incidents {
                out += "  - " + incident.type.title + " (" + context.md(incident.id, limit: 60) + "): "
                out += context.md(incident.summary, limit: 400) + " From " + context.time(incident.window.start)
                out += incident.window.ongoing ? ", still ongoing at the end of the data.\n"
                    : " to " + context.time(incident.window.end) + ".\n"
            }
        }
        return out + "\n"
    }

    private func impact() -> String {
        var out = "## IMPACT\n\n"
        if let decisions = result.affectedDecisions {
            let window = decisions.window
            let served = window.ongoing ? "still serving at the end of the data, since " + context.time(window.start)
                : (window.durationSeconds.map { ReportNumber.duration(seconds: $0) } ?? "unknown")
                    + " (" + context.time(window.start) + " to " + context.time(window.end) + ")"
            out += "- **Compromised predictions served for:** " + served + " by version "
                + context.md(decisions.compromisedVersion, limit: 60) + " of " + context.md(decisions.model, limit: 120)
                + "; from: " + context.md(window.start.description, limit: 300)
                + (window.end.map { "; to: " + context.md($0.description, limit: 200) } ?? "") + ".\n"
            out += "- **Decisions or transactions possibly affected:** " + affectedDecisions(decisions) + "\n"
        } else {
            out += "- **Compromised predictions served for:** no compromised model version was identified in the logs.\n"
            out += "- **Decisions or transactions possibly affected:** not assessed (no compromised model version identified).\n"
        }
        if let extraction = result.extraction {
            if !extraction.attackers.isEmpty {
                let unknown = extraction.attackers.filter { $0.verdict == "unknown" }.count
                out += "- **Model queries by the attacker(s):** " + ReportNumber.grouped(extraction.totalQueries) + " queries ("
                    + ReportNumber.grouped(extraction.totalDistinctInputs) + " distinct inputs) from "
                    + ReportNumber.grouped(Int64(extraction.attackers.count)) + " identit"
                    + (extraction.attackers.count == 1 ? "y" : "ies")
                    + (unknown > 0 ? " (" + String(unknown) + " of them not clearly attackers, counted until a person rules them out)" : "")
                    + " (computed from the gateway and serving logs)"
                    + (extraction.ongoing ? "; activity in the last hour of the data.\n" : ".\n")
            }
            if let aside = extraction.setAside, !aside.isEmpty {
                out += "- **Heavy clients judged likely benign (not counted above; to confirm):** "
                    + aside.map { volume in
                        context.md(volume.identity, limit: 60) + " — " + ReportNumber.grouped(volume.queries) + " queries; "
                            + context.md((volume.verdictReasons ?? []).joined(separator: ", "), limit: 300)
                    }.joined(separator: "; ") + ".\n"
            }
        }
        out += "- **Data exposure:** "
        if let exposure = result.dataExposure {
            let records = exposure.recordsPotentiallyExposed
            if records.value == 0 {
                out += "none confirmed.\n"
            } else if records.value == nil {
                out += context.figure(records, what: "number of records potentially exposed") + ".\n"
            } else {
                out += context.figure(records) + " potentially exposed.\n"
            }
        } else if context.rows(of: "llm") > 0 {
            out += "none found in the " + ReportNumber.grouped(context.rows(of: "llm")) + " LLM exchanges examined.\n"
        } else {
            out += "not assessed (no LLM output in the evidence).\n"
        }
        out += "- **Broader compromise:** "
        switch result.broaderCompromise {
        case nil: out += Placeholder.make("whether there is evidence of broader compromise") + "\n"
        case let items? where items.isEmpty:
            out += "no control-plane action of an attacker (logging stopped, credentials created, privileges granted, "
                + "secrets read, commands run in workloads) in the audit logs examined; other evidence of compromise is in the findings.\n"
        case let items?: out += items.map { context.md($0, limit: 240) }.joined(separator: "; ") + "\n"
        }
        return out + "\n"
    }

    /// The affected-decisions line: the exact count with the request estimate as its check, or the
    /// estimate as a range with its method, or what could not be assessed.
    private func affectedDecisions(_ decisions: AffectedDecisions) -> String {
        let total = decisions.total
        let file = decisions.requestIdsFile.map { "; listed in " + context.md($0, limit: 60) } ?? ""
        if decisions.exact, let value = total.value {
            var line = ReportNumber.grouped(Int64(value)) + " decisions (computed from the decision logs" + file + ")"
            if let estimate = decisions.estimate {
                line += "; as a check, the gateway logs show " + estimateRange(estimate) + " successful requests to the model in the window"
            }
            return line + "."
        }
        guard let estimate = decisions.estimate else {
            if total.value != nil { return context.figure(total, what: "number of affected decisions") + "." }
            return "not assessed (" + context.md(total.method ?? "no decision logs and no inference requests to the model in the evidence", limit: 200) + ")."
        }
        return "an estimated " + estimateRange(estimate) + " decisions (estimate from the gateway and serving logs, no decision logs"
            + file + "; method: " + context.md(estimate.method, limit: 600) + ")."
    }

    private func estimateRange(_ estimate: RequestEstimateSummary) -> String {
        estimate.low == estimate.high ? ReportNumber.grouped(estimate.low)
            : ReportNumber.grouped(estimate.low) + " to " + ReportNumber.grouped(estimate.high)
    }

    private func response() -> String {
        var out = "## RESPONSE\n\n"
        if let registry = result.registry, let good = registry.lastKnownGoodVersion ?? result.affectedDecisions?.lastKnownGoodVersion {
            let times = registry.rollbacks.map { context.time($0) }
            out += "- **Rollback:** to version " + context.md(good, limit: 60)
            out += times.isEmpty ? " (last known good) — no rollback recorded in the logs yet.\n"
                : " (last known good) at " + times.joined(separator: ", ") + ".\n"
        } else if let good = result.affectedDecisions?.lastKnownGoodVersion {
            out += "- **Rollback:** to version " + context.md(good, limit: 60) + " (last known good) — no rollback recorded in the logs.\n"
        } else {
            out += "- **Rollback:** not applicable or no version history in the logs.\n"
        }
        if let containment = context.firstEvent("containment") {
            out += "- **First containment step:** " + context.md(containment.description, limit: 200) + " at " + context.time(containment) + ".\n"
        } else {
            out += "- **First containment step:** none recorded in the logs.\n"
        }
        out += "- **Root cause found:** " + context.human(HumanField.rootCause, "root cause") + "\n"
        out += "- **Clean model or retraining:** " + context.human(HumanField.remediation, "clean model restored or retraining planned") + "\n\n"
        return out
    }

    private func actions() -> String {
        var out = "## ACTIONS REQUIRED\n\n"
        var items: [String] = []
        for id in result.flowchart.path {
            guard let node = result.flowchart.nodes.first(where: { $0.id == id }), node.kind == "action" else { continue }
            for action in node.actions {
                // A step the evidence shows done is reported under RESPONSE, not ordered again.
                if let state = context.stepState(node: node.id, action: action), state.done { continue }
                items.append(context.md(action, limit: 200))
            }
            if node.actions.isEmpty { items.append(context.md(node.text, limit: 200)) }
        }
        let due = context.deadlines.compactMap { deadline in deadline.due.map { ($0, deadline.regime) } }.min { $0.0 < $1.0 }
        if let due {
            let passed = context.generatedTime.map { due.0 < $0 } ?? false
            items.append("Confirm which regulatory notifications apply (see regulator.md); the earliest candidate deadline is "
                         + due.1 + " at " + due.0.minuteText + (passed ? ", already passed when this brief was generated." : "."))
        } else {
            items.append("Confirm which regulatory notifications apply (see regulator.md); deadlines start from the awareness time, which is "
                         + Placeholder.make("awareness time") + ".")
        }
        for node in result.flowchart.nodes where result.flowchart.path.contains(node.id) && node.answer == .analystToConfirm {
            items.append("Confirm the answer to: " + context.md(node.text, limit: 160))
        }
        for item in result.openItems { items.append(context.md(item, limit: 200)) }
        for (index, item) in items.enumerated() { out += String(index + 1) + ". " + item + "\n" }
        return out + "\n"
    }

    private func resolution() -> String {
        "## ESTIMATED RESOLUTION\n\n" + context.human(HumanField.estimatedResolution, "estimated resolution date") + "\n\n"
    }
}
