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
        if models.isEmpty { out += "- **Affected system:** " + Placeholder.make("affected model") + "\n" }
        for (name, profile) in models {
            let incidents = result.incidents.filter { $0.models.contains(name) }.map(\.id)
            out += "- **Affected system:** " + context.md(name, limit: 120)
            if let profile, profile.businessFunction != nil || profile.dailyVolume != nil || profile.dataType != nil {
                var facts: [String] = []
                if let function = profile.businessFunction { facts.append(context.md(function, limit: 160)) }
                if let volume = profile.dailyVolume { facts.append(ReportNumber.grouped(Int64(volume)) + " decisions a day") }
                if let data = profile.dataType { facts.append(context.md(data, limit: 120)) }
                out += " — " + facts.joined(separator: "; ")
            } else {
                out += " — " + Placeholder.make("business function, daily volume and data type of " + name)
            }
            out += incidents.isEmpty ? ".\n" : " (" + incidents.map { context.md($0, limit: 20) }.joined(separator: ", ") + ").\n"
        }
        out += "- **What happened:**"
        if result.incidents.isEmpty {
            out += " the analysis found no incident in the logs examined.\n"
        } else {
            out += "\n"
            for incident in result.incidents {
                out += "  - " + context.md(incident.id, limit: 20) + " " + incident.type.title + ": " + context.md(incident.summary, limit: 400)
                let start = context.time(incident.window.start)
                if incident.window.start.time == nil {
                    out += " Dates: not determinable from the evidence.\n"
                } else if incident.window.ongoing {
                    out += " Since " + start + (incident.type == .extraction ? "; activity in the last hour of the data, so assume it continues.\n" : "; no end in the data.\n")
                } else if !incident.summary.contains(start) {
                    out += " " + start + " to " + context.time(incident.window.end) + ".\n"
                } else {
                    out += "\n"
                }
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
            if let harm = decisions.harm, let value = harm.shifted.value {
                let outside = harm.rows.filter { Double($0.made) < $0.expectedLow || Double($0.made) > $0.expectedHigh }
                out += "- **Estimated harm:** about " + ReportNumber.grouped(Int64(value)) + " decisions (95 % interval "
                    + ReportNumber.grouped(Int64(harm.shifted.low ?? value)) + "–" + ReportNumber.grouped(Int64(harm.shifted.high ?? value))
                    + ") differ from what " + context.md(harm.baselineVersion, limit: 40) + " decided before the window ("
                    + ReportNumber.grouped(harm.baselineDecisions) + " decisions)"
                    + (outside.isEmpty ? "" : ": " + outside.map { row in
                        context.md(row.decision, limit: 40) + " " + ReportNumber.grouped(row.made) + " made against "
                            + ReportNumber.grouped(Int64(row.expected)) + " expected (" + ReportNumber.grouped(Int64(row.expectedLow)) + "–"
                            + ReportNumber.grouped(Int64(row.expectedHigh)) + ")"
                    }.joined(separator: ", ")) + ". An estimate: it assumes the same mix of transactions as before the window.\n"
            }
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
                out += context.figure(records) + " potentially exposed"
                out += ", to " + ReportNumber.grouped(exposure.distinctUsers) + " user" + (exposure.distinctUsers == 1 ? "" : "s")
                    + " in " + ReportNumber.grouped(exposure.distinctSessions) + " session" + (exposure.distinctSessions == 1 ? "" : "s")
                if let occurrences = exposure.occurrences, !occurrences.isEmpty {
                    out += ": " + occurrences.keys.sorted().map { category in
                        let count = occurrences[category] ?? 0
                        let distinct = exposure.distinctValues?[category] ?? count
                        return context.md(category.replacingOccurrences(of: "_", with: " "), limit: 40) + " " + ReportNumber.grouped(count)
                            + (distinct != count ? " (" + ReportNumber.grouped(distinct) + " distinct)" : "")
                    }.joined(separator: ", ")
                }
                out += ".\n"
            }
        } else if context.rows(of: "llm") > 0 {
            out += "none found in the " + ReportNumber.grouped(context.rows(of: "llm")) + " LLM exchanges examined.\n"
        } else {
            out += "not assessed (no LLM output in the evidence).\n"
        }
        out += "- **Broader compromise:** "
        // Cloud credentials used from outside or leaked reach beyond the affected models.
        let cloud = (result.response?.credentials ?? []).filter {
            ["aws-iam-user", "aws-assumed-role", "aws-access-key-id", "azure-sas", "azure-account-key"].contains($0.kind) && $0.outcome != "refused"
        }
        if !cloud.isEmpty {
            out += cloud.map { credential in
                context.md(credential.kind.replacingOccurrences(of: "-", with: " "), limit: 40) + " " + context.md(credential.identifier, limit: 80)
                    + (credential.outcome == "leaked" ? " leaked" : " used from outside")
            }.joined(separator: ", ") + ": these credentials reach beyond the models (containment in response.md); "
        }
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
        let state = result.response
        if let done = state?.rollbacks.last(where: { $0.succeeded }) {
            out += "- **Rollback:** done at " + context.time(done.time) + ", to " + context.md(done.toVersion, limit: 60)
            if let candidate = state?.candidates.first(where: { $0.version == done.toVersion }), candidate.verdict != "clean" {
                out += " — but " + context.md(done.toVersion, limit: 60) + " is " + candidate.verdict + " too ("
                    + context.md(candidate.reasons.first ?? "", limit: 200) + ")"
            }
            out += ".\n"
        } else if state == nil, let good = result.registry?.lastKnownGoodVersion ?? result.affectedDecisions?.lastKnownGoodVersion,
                  let rollbacks = result.registry?.rollbacks, !rollbacks.isEmpty {
            // An analysis written before the response state: the registry's rollbacks, unjudged.
            out += "- **Rollback:** to version " + context.md(good, limit: 60) + " (last known good) at "
                + rollbacks.map { context.time($0) }.joined(separator: ", ") + ".\n"
        } else if let good = result.registry?.lastKnownGoodVersion ?? result.affectedDecisions?.lastKnownGoodVersion {
            out += "- **Rollback:** none recorded in the logs; last known good version " + context.md(good, limit: 60) + ".\n"
        } else {
            out += "- **Rollback:** not applicable or no version history in the logs.\n"
        }
        if let state, state.model != nil {
            out += "- **Clean version to return to:** " + (state.rollbackTarget.map { context.md($0, limit: 60) }
                ?? "none proven clean in the registry history; " + context.md(state.fallback ?? "serve the fallback", limit: 300)) + ".\n"
        }
        let contained = result.timeline.filter { $0.phase == "containment" && !$0.description.hasPrefix("failed attempt") }
            .min { ($0.time?.nanoseconds ?? .max) < ($1.time?.nanoseconds ?? .max) }
        if let contained {
            out += "- **First containment step:** " + context.md(contained.description, limit: 200) + " at " + context.time(contained) + ".\n"
        } else {
            out += "- **First containment step:** none recorded in the logs.\n"
        }
        let open = result.incidents.filter { $0.window.ongoing }.map(\.id)
        if !open.isEmpty {
            out += "- **Still open:** " + open.map { context.md($0, limit: 20) }.joined(separator: ", ")
                + "; the operational steps and their state are in response.md.\n"
        }
        out += "- **Root cause found:** " + context.human(HumanField.rootCause, "root cause") + "\n"
        out += "- **Clean model or retraining:** " + context.human(HumanField.remediation, "clean model restored or retraining planned") + "\n\n"
        return out
    }

    /// ACTIONS REQUIRED: the decisions for executives (at most seven), each with its owner role and
    /// deadline. Operational steps are in response.md.
    private func actions() -> String {
        var out = "## ACTIONS REQUIRED\n\n"
        out += "Decisions for executives; the operational steps, with what is already done, are in response.md.\n\n"
        var rows: [[String]] = []
        let now = "now (" + context.generatedAt + ")"
        let deadlines = context.deadlines.compactMap { deadline in deadline.due.map { ($0, deadline) } }.sorted { $0.0 < $1.0 }
        if let (due, deadline) = deadlines.first {
            let passed = context.generatedTime.map { due < $0 } ?? false
            rows.append(["Approve the regulatory notifications (" + deadline.regime + " first; all in regulator.md)", "DPO and General Counsel",
                         due.minuteText + (passed ? " (already passed)" : "")])
        } else {
            rows.append(["Confirm which regulatory notifications apply (regulator.md)", "DPO and General Counsel",
                         "the awareness time starts the clocks: " + Placeholder.make("awareness time")])
        }
        if let exposure = result.dataExposure, exposure.responsesWithSensitiveData > 0 {
            rows.append(["Approve notifying the " + ReportNumber.grouped(exposure.distinctUsers) + " affected customer"
                         + (exposure.distinctUsers == 1 ? "" : "s") + " and the card schemes of the leaked data", "DPO", "without undue delay"])
        }
        if let state = result.response, let model = state.model {
            if state.rollbackTarget == nil {
                rows.append(["Approve running " + context.md(model, limit: 80) + " on the fallback (rules or the previous model family) until a clean version is validated: no version in its history is proven clean",
                             "Business owner of " + context.md(model, limit: 80), now])
            } else if let target = state.rollbackTarget {
                rows.append(["Approve the return of " + context.md(model, limit: 80) + " to " + context.md(target, limit: 40), "Business owner of " + context.md(model, limit: 80), now])
            }
        }
        if let decisions = result.affectedDecisions, let value = decisions.total.value ?? decisions.estimate.map({ Double($0.high) }), value > 0 {
            rows.append(["Approve the re-review of " + (decisions.exact ? ReportNumber.grouped(Int64(value)) : "an estimated " + ReportNumber.grouped(decisions.estimate?.low ?? Int64(value)) + " to " + ReportNumber.grouped(decisions.estimate?.high ?? Int64(value)))
                         + " decisions made by " + context.md(decisions.model, limit: 80) + " " + context.md(decisions.compromisedVersion, limit: 20)
                         + " (" + context.md(decisions.requestIdsFile ?? "list in the analysis", limit: 60)
                         + (decisions.exact ? "; rows with in_window = false were served by it after the rollback, while its pods drained: re-review them too" : "")
                         + ")",
                         "Head of the business line", deadlines.first.map { "before the first notification, " + $0.0.minuteText } ?? "within 72 hours (proposed)"])
        }
        if let credentials = result.response?.credentials.filter({ $0.outcome != "refused" }), !credentials.isEmpty {
            let kinds = Dictionary(grouping: credentials, by: \.kind).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
            rows.append(["Approve rotating " + String(credentials.count) + " credentials used by the attackers or leaked (" + kinds + "), accepting the downtime it causes", "CISO", now])
        }
        if let addresses = result.response?.blockAddresses, !addresses.isEmpty {
            let ongoing = result.extraction?.ongoing == true
            rows.append(["Approve blocking " + String(addresses.count) + " attacker addresses and per-client query budgets on the model API (heavy legitimate clients may be throttled)",
                         "CISO", ongoing ? now + "; extraction was active in the last hour of the data" : now])
        }
        if let dependency = result.response?.dependency, let paths = result.response?.dependencyPaths, !paths.isEmpty {
            let models = Array(Set(paths.map(\.model))).sorted()
            rows.append(["Approve the staff and budget to rebuild " + models.map { context.md($0, limit: 60) }.joined(separator: ", ")
                         + " without " + context.md(dependency, limit: 80) + " from verified training data", "CTO", "next business day"])
        }
        let shown = Array(rows.prefix(7))
        out += context.table(["Decision", "Owner", "By"], shown) + "\n\n"
        let questions = result.flowchart.nodes.filter { result.flowchart.path.contains($0.id) && $0.answer == .analystToConfirm }.count
        let openItems = result.openItems.count
        if questions + openItems > 0 {
            out += "Open questions for the incident lead: " + String(questions + openItems) + " (listed in regulator.md and response.md).\n\n"
        }
        return out
    }

    private func resolution() -> String {
        "## ESTIMATED RESOLUTION\n\n" + context.human(HumanField.estimatedResolution, "estimated resolution date") + "\n\n"
    }
}
