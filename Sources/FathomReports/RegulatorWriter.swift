import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `regulator.md`: the regulator-ready report.
///
/// Sections: 1 Document control, 2 Status of this report, 3 Applicability and deadlines,
/// 4 Classification, 5 Timeline, 6 Assets, 7 Impact, 8 Attacker indicators, 9 Containment actions,
/// 10 Facts supplied by people, 11 Evidence appendix, 12 Open items. Deadlines are candidates for
/// a person to confirm, never legal determinations.
package struct RegulatorWriter {
    package let context: ReportContext
    /// What a person must still supply (empty on the first rendering pass).
    package let missing: [String]

    package init(_ context: ReportContext, missing: [String]) {
        self.context = context
        self.missing = missing
    }

    private var result: AnalysisResult { context.result }
    private var isFinal: Bool { context.options.isFinal && missing.isEmpty }

    package func render() -> String {
        var out = "# AI/ML security incident report — " + context.caseID + "\n\n"
        out += "**" + (isFinal ? "FINAL" : "DRAFT — not for submission") + "** · "
            + (result.caseInfo.classification.isEmpty ? Placeholder.make("classification") : context.md(result.caseInfo.classification, limit: 80))
            + (result.caseInfo.title.isEmpty ? "" : " · " + context.md(result.caseInfo.title, limit: 200)) + "\n\n"
        out += documentControl() + status() + deadlines() + classification() + timeline() + assets() + impact()
        out += indicators() + containment() + humanFacts() + appendix() + openItems()
        out += "---\n\n" + context.footer
        return out
    }

    private func documentControl() -> String {
        let provenance = result.provenance
        return "## 1. Document control\n\n" + context.table(["Item", "Value"], [
            ["Report id", context.caseID + "-REG"],
            ["Version", isFinal ? "final" : "draft"],
            ["Generated", context.generatedAt],
            ["Tool", "Fathom " + context.md(provenance.toolVersion, limit: 40)],
            ["Analysis schema", String(result.schemaVersion)],
            ["Inputs SHA-256", "`" + hex(provenance.inputsHash) + "`"],
            ["Rule-set SHA-256", "`" + hex(provenance.rulesetHash) + "`"],
            ["Data examined", context.time(provenance.dataStart) + " to " + context.time(provenance.dataEnd)],
            ["Awareness time", result.caseInfo.awarenessTime == nil ? Placeholder.make("awareness time") : context.time(result.caseInfo.awarenessTime)],
        ]) + "\n\n"
    }

    private func status() -> String {
        var out = "## 2. Status of this report\n\n"
        if isFinal { return out + "All facts that only a person can supply are present. This is the final version.\n\n" }
        if missing.isEmpty {
            out += "Nothing is missing; render with `fathom report --final` for the final version.\n\n"
        } else {
            out += "Draft. Before this report can be final (`fathom report --final`), a person must supply:\n\n"
            for item in missing { out += "- " + MarkdownText.escape(item, limit: 200) + "\n" }
            out += "\n"
        }
        return out
    }

    private func deadlines() -> String {
        let assessment = context.regulatory
        var out = "## 3. Applicability and deadlines\n\n"
        out += "Fathom's judgement of each regime, with its reasons, from the case file's facts and the analysis. Every row is a "
        out += "**candidate** for a person (legal counsel, the DPO) to confirm; none is a legal determination. Regimes, application "
        out += "dates and clocks come from " + (assessment.regimes.origin == "built-in" ? "the built-in regimes file (`regimes.json`; `--regimes FILE` replaces it)"
            : "the regimes file " + context.md(assessment.regimes.origin, limit: 200)) + ".\n\n"
        out += "### 3.1 Facts the judgement uses\n\n"
        let organisation = result.caseInfo.organisation
        func listed(_ values: [String]?, key: String) -> String {
            guard let values else { return "not stated (case file `" + key + "`)" }
            return values.isEmpty ? "none" : values.map { context.md($0, limit: 40) }.joined(separator: ", ")
        }
        out += context.table(["Fact", "Value", "Source"], [
            ["Entity type", organisation?.entity.map { context.md($0, limit: 80) } ?? "not stated (case file `entity`)", "case file"],
            ["Sector", organisation?.sector.map { context.md($0, limit: 80) } ?? "not stated (case file `sector`)", "case file"],
            ["Jurisdictions", listed(organisation.map(\.jurisdictions).flatMap { $0.isEmpty ? nil : $0 }, key: "jurisdictions"), "case file"],
            ["Securities listed in", listed(organisation?.listed, key: "listed"), "case file"],
            ["Data subjects resident in", listed(organisation?.dataSubjectsResidentIn, key: "data_subjects_resident_in"), "case file"],
            ["Awareness time", context.awareness?.rfc3339 ?? Placeholder.make("awareness time"), "case file"],
            ["Personal data in model output", personalDataLine(), result.dataExposure == nil ? "—" : "computed from logs"],
        ]) + "\n\n"
        if !result.caseInfo.models.isEmpty {
            out += context.table(["Model", "Business function", "Data type", "In production", "Customer-facing", "Safety-critical", "Annex III entry"],
                                 result.caseInfo.models.map { model in
                func flag(_ value: Bool?) -> String { value.map { $0 ? "yes" : "no" } ?? "not stated" }
                return [context.md(model.name, limit: 120), model.businessFunction.map { context.md($0, limit: 160) } ?? "not stated",
                        model.dataType.map { context.md($0, limit: 120) } ?? "not stated", ModelFacts.inProduction(model, result: result, context: context),
                        flag(model.customerFacing), flag(model.safetyCritical), model.annexIII.map { context.md($0, limit: 20) } ?? "not stated"]
            }) + "\n\n"
        }
        out += "### 3.2 Applicability\n\n"
        out += context.table(["Regime", "Scope", "Judgement", "Reasons", "Source"], assessment.judgements.map { judgement in
            [context.md(judgement.regime.name, limit: 60), context.md(judgement.scope, limit: 120), "**" + judgement.status.rawValue + "**",
             judgement.reasons.map { context.md($0, limit: 600) }.joined(separator: " "),
             context.md(judgement.regime.instrument, limit: 300) + "; " + sourceLink(judgement.regime.url)]
        }) + "\n\n"
        out += "### 3.3 Deadlines\n\n"
        let list = assessment.deadlines
        if list.isEmpty {
            out += "No regime applies or may apply, so no deadline runs.\n\n"
        } else {
            out += "Only for the regimes that apply or may apply, in order of the regimes file; hours are counted in UTC, months as calendar "
            out += "months, US business days skip weekends and federal holidays.\n\n"
            let rows = list.map { deadline -> [String] in
                var due = "—"
                var remaining = "—"
                if let time = deadline.due {
                    due = time.rfc3339
                    if let now = context.generatedTime {
                        let seconds = now.seconds(to: time)
                        remaining = seconds >= 0 ? "in " + ReportNumber.duration(seconds: seconds) : "**passed** " + ReportNumber.duration(seconds: -seconds) + " ago"
                    }
                } else if let date = deadline.dueDate {
                    due = date.isoWithWeekday
                    if let now = context.generatedTime {
                        let days = date.daysSinceEpoch - now.date.daysSinceEpoch
                        remaining = days >= 0 ? "in " + String(days) + " calendar day" + (days == 1 ? "" : "s") : "**passed** " + String(-days) + " days ago"
                    }
                }
                return [context.md(deadline.regime, limit: 120), context.md(deadline.obligation, limit: 200), deadline.status,
                        context.md(deadline.appliesWhen, limit: 160), deadline.clockStart, context.md(deadline.period, limit: 300), due, remaining,
                        context.md(deadline.note, limit: 300)]
            }
            out += context.table(["Regime", "Obligation", "Regime judgement", "Condition", "Clock starts", "Period", "Due (UTC)", "At generation", "Note"], rows) + "\n\n"
            if let earliest = list.compactMap({ deadline in deadline.due.map { ($0, deadline) } }).min(by: { $0.0 < $1.0 }) {
                out += "Earliest due time: **" + earliest.0.rfc3339 + "**, " + context.md(earliest.1.regime, limit: 120) + " (" + context.md(earliest.1.obligation, limit: 160) + ").\n\n"
            }
        }
        if assessment.status(of: "gdpr") != nil, assessment.status(of: "gdpr") != .doesNotApply { out += gdprDraft() }
        return out
    }

    /// The personal-data categories found in model output, or why there are none.
    private func personalDataLine() -> String {
        guard let exposure = result.dataExposure else {
            return context.rows(of: "llm") > 0 ? "none found in the LLM output examined" : "not assessed (no LLM output in the evidence)"
        }
        let personal = exposure.categories.keys.sorted().filter { RegulatoryAssessment.personalCategories[$0] != nil }
        if personal.isEmpty { return "none (other sensitive data only)" }
        return personal.map { (RegulatoryAssessment.personalCategories[$0] ?? $0) + " " + ReportNumber.grouped(exposure.categories[$0] ?? 0) }
            .joined(separator: ", ") + " (occurrences), in " + ReportNumber.grouped(exposure.responsesWithSensitiveData) + " model responses"
    }

    /// A link to an official source: the URL as a code span when it is not plain https.
    private func sourceLink(_ url: String) -> String {
        let plain = url.hasPrefix("https://") && url.unicodeScalars.allSatisfy { $0.isASCII && $0.value > 0x20 && !"<>()[]|`\\\"'".unicodeScalars.contains($0) }
        return plain ? "<" + url + ">" : context.md(url, limit: 300)
    }

    /// The notification to the supervisory authority with every element of GDPR Art. 33(3),
    /// placeholders where only a person knows.
    private func gdprDraft() -> String {
        var out = "### 3.4 Draft notification to the supervisory authority (GDPR Art. 33(3))\n\n"
        out += "Every element Art. 33(3) requires, filled from the analysis where the logs can say it. Art. 33(4): what is not yet known "
        out += "may be provided in phases without undue further delay.\n\n"
        let exposure = result.dataExposure
        // (a) nature, categories and approximate numbers
        var nature = "Breach of confidentiality"
        if let exposure {
            let models = result.caseInfo.models.filter { ($0.businessFunction ?? "").lowercased().contains("chat") || ($0.dataType ?? "").lowercased().contains("conversation") }
            let system = models.isEmpty ? "the LLM application" : models.map { context.md($0.name, limit: 80) + " (" + context.md($0.businessFunction ?? "", limit: 80) + ")" }.joined(separator: ", ")
            nature += ": personal data disclosed in the responses of " + system + " to prompt-injection requests, between "
                + context.time(exposure.first) + " and " + context.time(exposure.last) + " (computed from logs)."
        } else {
            nature += " or integrity of personal data processed by the affected models: " + Placeholder.make("nature of the personal data breach")
        }
        let categories = personalDataLine()
        let subjects = context.human("data_subjects_affected", "number of data subjects affected")
        let records = exposure.map { context.figure($0.recordsPotentiallyExposed, what: "approximate number of personal data records concerned") + " containing personal data" }
            ?? Placeholder.make("approximate number of personal data records concerned")
        // An empty contact, or the case file's own "[to be completed]" marker, is no contact.
        let dpo = result.caseInfo.contacts["dpo"].flatMap { value -> String? in
            let trimmed = value.trimmingCharacters(in: .whitespaces).lowercased()
            return trimmed.isEmpty || trimmed == "[to be completed]" ? nil : value
        }
        var consequences: [String] = []
        let found = exposure?.categories ?? [:]
        if found["card_number"] != nil { consequences.append("fraudulent payments with the disclosed card numbers") }
        if found["iban"] != nil { consequences.append("fraudulent direct debits with the disclosed account numbers") }
        if found["us_ssn"] != nil || found["uk_nino"] != nil { consequences.append("identity theft with the disclosed national identifiers") }
        if found["email"] != nil { consequences.append("phishing and spam aimed at the disclosed e-mail addresses") }
        let assessed = result.caseInfo.humanFields[RegulatoryAssessment.likelyConsequencesField] ?? nil
        // Measures of the breach itself: containment of a prompt-injection incident, or naming an LLM model of the case.
        let breachIncidents = Set(result.incidents.filter { $0.type == .promptInjection }.map(\.id))
        let llmModels = Set((result.modelTraffic ?? []).filter { $0.kind == "llm" }.map(\.model))
        let containment = context.sortedTimeline.filter { event in
            (event.phase == "containment" || event.phase == "recovery")
                && (event.incident.map(breachIncidents.contains) ?? false || llmModels.contains { event.description.contains($0) })
        }
        let measures = containment.isEmpty
            ? context.human("measures_taken", "measures taken to address the breach (none is recorded in the logs of the LLM application)")
            : containment.map { context.time($0) + " " + context.md($0.description, limit: 160) }.joined(separator: "; ") + " (from the logs)"
        out += context.table(["Art. 33(3)", "Element", "Content"], [
            ["(a)", "Nature of the breach", nature],
            ["(a)", "Categories of personal data", categories],
            ["(a)", "Categories of data subjects", context.human("data_subject_categories", "categories of data subjects (e.g. customers who used the chatbot)")],
            ["(a)", "Approximate number of data subjects", subjects],
            ["(a)", "Approximate number of personal data records", records],
            ["(b)", "Name and contact details of the DPO or other contact point", dpo.map { context.md($0, limit: 200) } ?? Placeholder.make("DPO name and contact details (case file contacts.dpo)")],
            ["(c)", "Likely consequences", (consequences.isEmpty ? "" : "From the data categories found: " + consequences.joined(separator: "; ") + ". ")
                + (assessed.map { context.md($0, limit: 600) } ?? Placeholder.make("the DPO's assessment of the likely consequences (human field '" + RegulatoryAssessment.likelyConsequencesField + "')"))],
            ["(d)", "Measures taken", measures],
            ["(d)", "Measures proposed, incl. to mitigate adverse effects", context.human(HumanField.remediation, Placeholder.fieldName(HumanField.remediation))],
        ]) + "\n\n"
        return out
    }

    private func classification() -> String {
        var out = "## 4. Classification\n\n"
        out += "Incident type(s) per the playbook flowchart: " + context.incidentTypes + ".\n\n"
        if !result.incidents.isEmpty {
            out += context.table(["Incident", "Type", "MITRE ATLAS", "Models", "Linked", "Summary"], result.incidents.map { incident in
                [context.md(incident.id, limit: 60), incident.type.title, incident.atlas.map { context.md($0, limit: 20) }.joined(separator: ", "),
                 incident.models.map { context.md($0, limit: 80) }.joined(separator: ", "),
                 incident.linked.isEmpty ? "—" : incident.linked.map { context.md($0, limit: 60) }.joined(separator: ", "),
                 context.md(incident.summary, limit: 300)]
            }) + "\n\n"
        }
        out += "Detections that fired:\n\n"
        out += context.table(["Rule", "Title", "Level", "MITRE ATLAS", "Hits (computed from logs)"], result.rules.filter { $0.hits > 0 }.map { rule in
            [context.md(rule.id, limit: 80), context.md(rule.title, limit: 160), context.md(rule.level, limit: 20),
             rule.atlas.map { context.md($0, limit: 20) }.joined(separator: ", "), ReportNumber.grouped(Int64(rule.hits))]
        }) + "\n\n"
        return out
    }

    private func timeline() -> String {
        var out = "## 5. Timeline\n\nKey events (the complete timeline with evidence is in timeline.md):\n\n"
        var rows: [[String]] = []
        for (phase, label) in TimelineWriter.phases where phase != "context" {
            guard let event = context.firstEvent(phase) else {
                rows.append([label, "—", "none recorded in the logs", "—"])
                continue
            }
            rows.append([label, context.time(event), context.md(event.description, limit: 200), context.evidence(event.evidence)])
        }
        rows.append(["Awareness", result.caseInfo.awarenessTime == nil ? Placeholder.make("awareness time") : context.time(result.caseInfo.awarenessTime),
                     "the organisation became aware (case file)", "case file"])
        out += context.table(["Phase", "First event (UTC)", "Event", "Evidence"], rows) + "\n\n"
        out += context.table(["Incident", "Impact window start", "End", "Duration"], result.incidents.map { incident in
            [context.md(incident.id, limit: 60), context.time(incident.window.start),
             incident.window.ongoing ? "ongoing at the end of the data" : context.time(incident.window.end),
             incident.window.durationSeconds.map { ReportNumber.duration(seconds: $0) } ?? "unknown"]
        }) + "\n\n"
        return out
    }

    private func assets() -> String {
        var out = "## 6. Assets\n\n"
        if let registry = result.registry {
            out += "- Compromised model version: " + (registry.compromisedVersion.map { context.md($0, limit: 60) } ?? "none identified")
                + (registry.deployedAt.map { ", deployed " + context.time($0) } ?? "") + ".\n"
            out += "- Last known good version: " + (registry.lastKnownGoodVersion.map { context.md($0, limit: 60) } ?? "none identified") + ".\n\n"
        }
        if let assets = result.assets, !assets.isEmpty {
            out += context.table(["Kind", "Name", "Role", "Evidence"], assets.map { asset in
                [context.md(asset.kind, limit: 40), context.md(asset.name, limit: 160), context.md(asset.role, limit: 200), context.evidence(asset.evidence)]
            }) + "\n\n"
        } else {
            out += "The analysis lists no further assets.\n\n"
        }
        let models = result.caseInfo.models
        if !models.isEmpty {
            out += context.table(["Model", "Business function", "Data type", "Deployment"], models.map { model in
                [context.md(model.name, limit: 120), model.businessFunction.map { context.md($0, limit: 160) } ?? "not stated",
                 model.dataType.map { context.md($0, limit: 120) } ?? "not stated",
                 [model.namespace, model.deployment].compactMap { $0.map { context.md($0, limit: 80) } }.joined(separator: " / ")]
            }) + "\n\n"
        }
        if let endpoints = result.extraction?.attackers.flatMap(\.endpoints), !endpoints.isEmpty {
            var seen: [String] = []
            for endpoint in endpoints where !seen.contains(endpoint) { seen.append(endpoint) }
            out += "Endpoints queried by the attackers: " + seen.map { context.md($0, limit: 120) }.joined(separator: ", ") + ".\n\n"
        }
        return out
    }

    private func impact() -> String {
        var out = "## 7. Impact\n\n"
        var rows: [[String]] = []
        if let decisions = result.affectedDecisions {
            rows.append(["Decisions served by the compromised version " + context.md(decisions.compromisedVersion, limit: 60),
                         context.figure(decisions.total, what: "number of affected decisions"), context.provenance(decisions.total)])
            for value in decisions.byDecision.keys.sorted() {
                rows.append(["— of which decision " + context.md(value, limit: 60),
                             ReportNumber.grouped(decisions.byDecision[value] ?? 0), "computed from logs"])
            }
            rows.append(["Time the compromised version served", decisions.window.ongoing ? "ongoing at the end of the data"
                         : decisions.window.durationSeconds.map { ReportNumber.duration(seconds: $0) } ?? "unknown", "computed from logs"])
            if let file = decisions.requestIdsFile {
                rows.append(["Affected request ids for re-review", context.md(file, limit: 120), "computed from logs"])
            }
        }
        if let extraction = result.extraction {
            rows.append(["Queries by the attacker identities", ReportNumber.grouped(extraction.totalQueries), "computed from logs"])
            rows.append(["Distinct inputs queried", ReportNumber.grouped(extraction.totalDistinctInputs), "computed from logs"])
            if let aside = extraction.setAside, !aside.isEmpty {
                rows.append(["Flagged clients judged likely benign (not counted above)",
                             aside.map { context.md($0.identity, limit: 60) + " (" + ReportNumber.grouped($0.queries) + " queries)" }.joined(separator: ", "),
                             "judged from logs and case file; to confirm"])
            }
        }
        if let exposure = result.dataExposure {
            rows.append(["Model responses with sensitive data", ReportNumber.grouped(exposure.responsesWithSensitiveData), "computed from logs"])
            rows.append(["Distinct users / sessions receiving them", ReportNumber.grouped(exposure.distinctUsers) + " / "
                         + ReportNumber.grouped(exposure.distinctSessions), "computed from logs"])
            for category in exposure.categories.keys.sorted() {
                rows.append(["— occurrences of " + context.md(category, limit: 60), ReportNumber.grouped(exposure.categories[category] ?? 0), "computed from logs"])
            }
            rows.append(["Records potentially exposed", context.figure(exposure.recordsPotentiallyExposed, what: "number of records potentially exposed"),
                         context.provenance(exposure.recordsPotentiallyExposed)])
        } else {
            rows.append(context.rows(of: "llm") > 0
                ? ["Records potentially exposed", "none found in the LLM output examined", "computed from logs"]
                : ["Records potentially exposed", "not assessed (no LLM output in the evidence)", "—"])
        }
        rows.append(["Number of data subjects affected", context.human("data_subjects_affected", "number of data subjects affected"),
                     "to be supplied by a person"])
        rows.append(["Evidence of broader compromise", result.broaderCompromise.map { $0.isEmpty ? "no control-plane action of an attacker found in the audit logs examined" : $0.map { context.md($0, limit: 200) }.joined(separator: "; ") }
                     ?? Placeholder.make("whether there is evidence of broader compromise"), result.broaderCompromise == nil ? "to be supplied by a person" : "computed from logs"])
        out += context.table(["Measure", "Value", "Source"], rows) + "\n\n"
        let integrity = result.integrity
        if !integrity.isEmpty {
            out += "Training-data and supply-chain findings:\n\n"
            out += context.table(["Kind", "Severity", "Subject", "Detail", "Time", "Evidence"], integrity.map { item in
                [context.md(item.kind, limit: 40), context.md(item.severity, limit: 20), context.md(item.subject, limit: 120),
                 context.md(item.detail, limit: 200), context.time(item.time), context.md(item.evidence, limit: 160)]
            }) + "\n\n"
        }
        return out
    }

    private func indicators() -> String {
        var out = "## 8. Attacker indicators\n\n"
        if let attackers = result.extraction?.attackers, !attackers.isEmpty {
            out += context.table(["Identity", "Type", "Addresses", "Principals", "Queries", "Distinct inputs", "First seen", "Last seen",
                                  "Peak per hour", "Share of traffic", "Rules", "First evidence"], attackers.map { attacker in
                [context.md(attacker.identity, limit: 80), context.md(attacker.identityType, limit: 20),
                 attacker.addresses.map { context.md($0, limit: 60) }.joined(separator: ", "),
                 attacker.principals.map { context.md($0, limit: 60) }.joined(separator: ", "),
                 ReportNumber.grouped(attacker.queries), ReportNumber.grouped(attacker.distinctInputs), context.time(attacker.firstSeen),
                 context.time(attacker.lastSeen), ReportNumber.grouped(attacker.peakHourlyRate) + " (" + context.time(attacker.peakHour) + ")",
                 ReportNumber.percent(attacker.shareOfTraffic), attacker.rules.map { context.md($0, limit: 60) }.joined(separator: ", "),
                 context.evidence(attacker.firstEvidence)]
            }) + "\n\n"
        }
        let actors = result.incidents.filter { !$0.actors.isEmpty }
        if !actors.isEmpty {
            out += context.table(["Incident", "Actors named by the analysis"], actors.map { incident in
                [context.md(incident.id, limit: 60), incident.actors.map { context.md($0, limit: 80) }.joined(separator: ", ")]
            }) + "\n\n"
        }
        if actors.isEmpty && (result.extraction?.attackers.isEmpty ?? true) { out += "No attacker identity was found in the logs.\n\n" }
        return out
    }

    private func containment() -> String {
        var out = "## 9. Containment actions\n\n"
        let events = context.sortedTimeline.filter { $0.phase == "containment" || $0.phase == "recovery" }
        let notification = (result.caseInfo.humanFields[HumanField.notificationTime] ?? nil).flatMap(UTCTime.init(rfc3339:))
        if events.isEmpty {
            out += "No containment or recovery action is recorded in the logs.\n\n"
        } else {
            out += context.table(["Time (UTC)", "Phase", "Action", "Source", "Evidence", "Relative to notification"], events.map { event in
                var relative = "notification time not recorded"
                if let notification, let time = event.time.map(UTCTime.init) {
                    relative = time < notification ? "**before** notification" : "after notification"
                }
                return [context.time(event), TimelineWriter.phaseLabel(event.phase), context.md(event.description, limit: 200),
                        context.md(event.source, limit: 60), context.evidence(event.evidence), relative]
            }) + "\n\n"
        }
        out += "Was the system changed before notification? "
        if let notification {
            let before = events.contains { $0.time.map { UTCTime($0) < notification } ?? false }
            out += (before ? "Yes: the actions marked **before** changed the system before the notification at " : "No: no recorded change precedes the notification at ")
                + notification.rfc3339 + ".\n\n"
        } else {
            out += events.isEmpty ? "No change is recorded in the logs.\n\n"
                : "Every action above precedes the generation of this report (" + context.generatedAt
                    + "); if notification is made later, the system was changed before notification. Record the notification time as human field '"
                    + HumanField.notificationTime + "'.\n\n"
        }
        return out
    }

    private func humanFacts() -> String {
        var out = "## 10. Facts supplied by people\n\n"
        let contacts = result.caseInfo.contacts
        if contacts.isEmpty {
            out += "Contacts: " + Placeholder.make("contacts (incident lead, DPO, legal)") + "\n\n"
        } else {
            out += context.table(["Role", "Contact"], contacts.keys.sorted().map { [context.md($0, limit: 60), context.md(contacts[$0] ?? "", limit: 200)] }) + "\n\n"
        }
        let fields = result.caseInfo.humanFields
        let secNotApplicable = context.regulatory.judgements.contains { $0.regime.test == "sec-registrant" }
            && context.regulatory.judgements.filter { $0.regime.test == "sec-registrant" }.allSatisfy { $0.status == .doesNotApply }
        if !fields.isEmpty {
            out += context.table(["Field", "Value"], fields.keys.sorted().map { key in
                if key == HumanField.materialityDetermination, (fields[key] ?? nil) == nil, secNotApplicable {
                    return [context.md(key, limit: 60), "not needed: Form 8-K does not apply (section 3.2)"]
                }
                return [context.md(key, limit: 60), (fields[key] ?? nil).map { context.md($0, limit: 600) }
                    ?? Placeholder.make(Placeholder.fieldName(key))]
            }) + "\n\n"
        }
        if fields[HumanField.rootCause] == nil {
            out += "Root cause: " + context.human(HumanField.rootCause, "root cause") + "\n\n"
        }
        return out
    }

    private func appendix() -> String {
        var out = "## 11. Evidence appendix\n\n"
        out += "Inputs (sizes, formats, reject samples and re-verification details are in evidence.md):\n\n"
        out += context.table(["Archive", "SHA-256", "Re-verified", "Rows", "Rejected"], result.inputs.map { input in
            [context.md(input.path, limit: 160), "`" + hex(input.sha256) + "`", (context.verification[input.path] ?? .skipped).text,
             ReportNumber.grouped(input.rows), ReportNumber.grouped(input.rejected)]
        }) + "\n\n"
        if !result.contradictions.isEmpty {
            out += "Case-file statements contradicted by the logs (the logs win):\n\n"
            out += context.table(["Field", "Case file", "Logs", "Evidence"], result.contradictions.map { item in
                [context.md(item.field, limit: 80), context.md(item.caseFile, limit: 160), context.md(item.logs, limit: 160), context.evidence(item.evidence)]
            }) + "\n\n"
        }
        return out
    }

    private func openItems() -> String {
        var items = result.openItems.map { context.md($0, limit: 300) }
        for node in result.flowchart.nodes where result.flowchart.path.contains(node.id) && node.answer == .analystToConfirm {
            items.append("Confirm the flowchart answer to: " + context.md(node.text, limit: 160))
        }
        var out = "## 12. Open items\n\n"
        if items.isEmpty { return out + "None.\n\n" }
        for item in items { out += "- " + item + "\n" }
        return out + "\n"
    }
}
