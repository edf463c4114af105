import FathomStore
import FathomSupport
import FathomAnalysis

/// The regulatory judgement of one case: for each regime of a ``RegimeSet`` (and, for the EU AI
/// Act, each model) whether it applies, may apply or does not apply, with the reasons, and the
/// deadlines of those that apply or may apply.
///
/// Reads only the analysis (case facts, data exposure, incidents, model traffic) and the regimes'
/// data. Every judgement is a candidate for a person (legal counsel, the DPO) to confirm; the
/// reasons say which facts came from the case file, which from the logs, and which are missing.
package struct RegulatoryAssessment: Sendable {
    package enum Status: String, Sendable, Comparable {
        case applies = "applies"
        case mayApply = "may apply"
        case doesNotApply = "does not apply"

        private var rank: Int { self == .applies ? 0 : self == .mayApply ? 1 : 2 }
        package static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    package struct Judgement: Sendable {
        package var regime: RegimeSet.Regime
        /// `organisation`, or `model NAME` for a per-model judgement.
        package var scope: String
        package var status: Status
        /// Sentences of Fathom's own wording around escaped-free facts (writers escape them).
        package var reasons: [String]
    }

    package var judgements: [Judgement]
    package var deadlines: [Deadline]
    package let regimes: RegimeSet

    /// Human field: when the incident was classified as major under DORA (RFC 3339), or why it is not major.
    package static let doraClassificationField = "dora_classification"
    /// Human field: the DPO's assessment of the likely consequences (GDPR Art. 33(3)(c)).
    package static let likelyConsequencesField = "likely_consequences"

    /// Categories of `llm.sensitive-output` that are personal data (the rest are secrets).
    package static let personalCategories: [String: String] = [
        "email": "e-mail addresses", "card_number": "payment card numbers", "us_ssn": "US social security numbers",
        "uk_nino": "UK national insurance numbers", "iban": "bank account numbers (IBAN)",
    ]

    package init(result: AnalysisResult, regimes: RegimeSet, materiality: CivilDate?) {
        self.regimes = regimes
        let facts = CaseFacts(result: result)
        var judgements: [Judgement] = []
        for regime in regimes.regimes {
            judgements += Self.judge(regime, facts: facts, earlier: judgements)
        }
        self.judgements = judgements
        var deadlines: [Deadline] = []
        for regime in regimes.regimes {
            let status = judgements.filter { $0.regime.id == regime.id }.map(\.status).min() ?? .doesNotApply
            guard status != .doesNotApply else { continue }
            deadlines += Self.deadlines(regime, status: status, facts: facts, materiality: materiality)
        }
        self.deadlines = deadlines
    }

    /// The overall status of a regime (the strongest of its judgements).
    package func status(of regimeID: String) -> Status? {
        judgements.filter { $0.regime.id == regimeID }.map(\.status).min()
    }

    // MARK: - Facts

    /// The facts the judgements read, gathered once.
    struct CaseFacts {
        let result: AnalysisResult
        let organisation: OrganisationFacts?
        let awareness: UTCTime?
        /// The date the obligations are judged at: the awareness date, else the first evidence of
        /// an incident, else the end of the data.
        let incidentDate: CivilDate?
        let incidentDateBasis: String
        let personal: [(category: String, count: Int64)]
        let llmExamined: Bool

        init(result: AnalysisResult) {
            self.result = result
            organisation = result.caseInfo.organisation
            awareness = result.caseInfo.awarenessTime.map(UTCTime.init)
            if let awareness {
                incidentDate = awareness.date
                incidentDateBasis = "awareness on " + awareness.date.iso
            } else if let first = result.incidents.compactMap(\.window.start.time).min() {
                incidentDate = UTCTime(first).date
                incidentDateBasis = "first evidence of the incident on " + UTCTime(first).date.iso + " (awareness time not supplied)"
            } else {
                incidentDate = result.provenance.dataEnd.map { UTCTime($0).date }
                incidentDateBasis = "end of the data (awareness time not supplied)"
            }
            let categories = result.dataExposure?.categories ?? [:]
            personal = categories.keys.sorted().compactMap { key in
                RegulatoryAssessment.personalCategories[key] == nil ? nil : (key, categories[key] ?? 0)
            }
            llmExamined = result.coverage.contains { $0.kind == "llm" && $0.rows > 0 }
        }

        var jurisdictions: [String] { organisation?.jurisdictions ?? [] }
        var residents: [String]? { organisation?.dataSubjectsResidentIn }

        /// Whether a list of places names one of `regions` (`US-CA` is in `US`; `EEA` covers `EU`).
        static func names(_ places: [String], anyOf regions: [String]) -> Bool {
            places.contains { place in
                let upper = place.uppercased()
                return regions.contains { region in
                    let wanted = region.uppercased()
                    return upper == wanted || upper.hasPrefix(wanted + "-") || (wanted == "EEA" && upper == "EU") || (wanted == "EU" && upper == "EEA")
                }
            }
        }

        func personalSummary() -> String {
            personal.map { (RegulatoryAssessment.personalCategories[$0.category] ?? $0.category) + " (" + ReportNumber.grouped($0.count) + ")" }
                .joined(separator: ", ")
        }
    }

    // MARK: - Judgements

    static func judge(_ regime: RegimeSet.Regime, facts: CaseFacts, earlier: [Judgement]) -> [Judgement] {
        var reasons: [String] = []
        // Application date: obligations apply to incidents from the date on.
        if let from = regime.appliesFromDate, let date = facts.incidentDate, date < from {
            let before = Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                "The incident (" + facts.incidentDateBasis + ") precedes the date " + regime.name + " applies from, " + from.iso
                    + (regime.appliesFromSource.map { " (" + $0 + ")" } ?? "") + ".",
            ])
            if regime.test == "high-risk-ai-system" { return [before] + modelJudgements(regime, facts: facts, overall: .doesNotApply) }
            return [before]
        }
        // Jurisdiction: a regime bound to places applies where the organisation is, or (for data
        // protection) where the data subjects live.
        let places = facts.jurisdictions + (regime.test == "personal-data-breach" || regime.test == "us-residents" ? (facts.residents ?? []) : [])
        var placeUnknown = false
        if !regime.jurisdictions.isEmpty {
            if places.isEmpty {
                placeUnknown = true
                reasons.append("The case file names no jurisdictions (`jurisdictions`): whether " + regime.name + " binds the organisation is for a person to confirm.")
            } else if !CaseFacts.names(places, anyOf: regime.jurisdictions) && regime.test != "sec-registrant" && regime.test != "us-residents" {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                    "Neither the organisation's jurisdictions (" + facts.jurisdictions.joined(separator: ", ") + ") nor the data subjects' residence name "
                        + regime.jurisdictions.joined(separator: " or ") + ".",
                ])]
            }
        }
        switch regime.test {
        case "personal-data-breach":
            if !facts.personal.isEmpty {
                reasons.insert("Personal data in model output: " + facts.personalSummary() + " (computed from logs): a breach of confidentiality of personal data.", at: 0)
                return [Judgement(regime: regime, scope: "organisation", status: placeUnknown ? .mayApply : .applies, reasons: reasons
                    + ["Notification is due unless the breach is unlikely to result in a risk to the rights and freedoms of natural persons (Art. 33(1)); communication to the data subjects when the risk is high (Art. 34(1))."])]
            }
            let personalModels = facts.result.caseInfo.models.filter { ($0.dataType ?? "").lowercased().contains("personal") }
            if !personalModels.isEmpty {
                reasons.insert("No personal data was found in the output examined" + (facts.llmExamined ? "" : " (no LLM output in the evidence)")
                    + ", but the case file says " + personalModels.map(\.name).joined(separator: ", ") + " process personal data: whether personal data were accessed, altered or disclosed is for a person to establish.", at: 0)
                return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: reasons)]
            }
            return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: reasons
                + [facts.llmExamined ? "No personal data found in the model output examined, and the case file names no model processing personal data."
                    : "No LLM output in the evidence and no model the case file says processes personal data: a person must confirm no personal data were breached."])]
        case "financial-entity":
            if let statement = facts.result.caseInfo.humanFields[doraClassificationField] ?? nil,
               UTCTime(rfc3339: statement) == nil, statement.lowercased().hasPrefix("not major") {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: reasons
                    + ["A person classified the incident: " + statement + " (only major ICT-related incidents are reported)."])]
            }
            guard let entity = facts.organisation?.entity, !entity.isEmpty else {
                return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: reasons
                    + ["The case file does not name the entity type (`entity`): " + regime.name + " binds financial entities only."])]
            }
            guard (regime.entities ?? []).contains(where: { $0.lowercased() == entity.lowercased() }) else {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: reasons
                    + ["The entity type '" + entity + "' (case file) is not one of the financial entities " + regime.name + " binds."])]
            }
            reasons.insert("The organisation is a " + entity + " (case file), a financial entity " + regime.name + " binds.", at: 0)
            let classification = facts.result.caseInfo.humanFields[doraClassificationField] ?? nil
            if let classification, UTCTime(rfc3339: classification) != nil {
                reasons.append("The incident was classified as major at " + classification + " (supplied by a person).")
                return [Judgement(regime: regime, scope: "organisation", status: placeUnknown ? .mayApply : .applies, reasons: reasons)]
            }
            if let classification {
                reasons.append("A person recorded the classification: " + classification + ".")
                let notMajor = classification.lowercased().hasPrefix("not major")
                return [Judgement(regime: regime, scope: "organisation", status: notMajor ? .doesNotApply : .mayApply, reasons: reasons)]
            }
            reasons.append("Reporting applies to major ICT-related incidents: the classification (criteria of Delegated Regulation (EU) 2024/1772) is for a person to make and record as human field '" + doraClassificationField + "'.")
            return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: reasons)]
        case "essential-or-important-entity":
            let entity = facts.organisation?.entity?.lowercased()
            if let displacement = regime.displacedBy, let entity,
               let other = earlier.first(where: { $0.regime.id == displacement.regime && $0.status != .doesNotApply
                   && ($0.regime.entities ?? []).contains { $0.lowercased() == entity } }) {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                    "Displaced by " + other.regime.name + ": " + displacement.reason + ".",
                ])]
            }
            let sector = facts.organisation?.sector.map { " (sector '" + $0 + "', case file)" } ?? " (the case file names no `sector`)"
            return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: reasons
                + ["Applies when the organisation is an essential or important entity under the national transposition" + sector + " and the incident is significant (Art. 23(3))."])]
        case "high-risk-ai-system":
            var out = [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: reasons
                + ["Applies to providers (and, through Art. 26(5), deployers) of high-risk AI systems involved in a serious incident (Art. 3(49)); judged per model below."])]
            let models = modelJudgements(regime, facts: facts, overall: .mayApply)
            out[0].status = models.map(\.status).min() ?? .doesNotApply
            if out[0].status == .doesNotApply { out[0].reasons = ["No model of the case is a high-risk AI system (per model below)."] }
            return out + models
        case "sec-registrant":
            let statement = (facts.result.caseInfo.humanFields[HumanField.materialityDetermination] ?? nil)
                .flatMap { UTCTime(rfc3339: $0) == nil ? $0 : nil }
            if facts.organisation?.listed == nil, let statement {
                return [Judgement(regime: regime, scope: "organisation", status: statement.lowercased().hasPrefix("not") ? .doesNotApply : .mayApply, reasons: [
                    "The case file does not say where the organisation is listed; a person recorded: " + statement + ".",
                ])]
            }
            guard let listed = facts.organisation?.listed else {
                return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: [
                    "The case file does not say where the organisation's securities are listed (`listed`): Item 1.05 binds SEC registrants.",
                ])]
            }
            guard CaseFacts.names(listed, anyOf: ["US"]) else {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                    "The organisation is listed in " + (listed.isEmpty ? "no market" : listed.joined(separator: ", ")) + " only (case file): not an SEC registrant.",
                ])]
            }
            let recorded = facts.result.caseInfo.humanFields[HumanField.materialityDetermination] ?? nil
            let determined = recorded.flatMap(UTCTime.init(rfc3339:))
            if let recorded, determined == nil {
                // A person recorded a statement instead of a date ("not an SEC registrant", "not material").
                return [Judgement(regime: regime, scope: "organisation", status: recorded.lowercased().hasPrefix("not") ? .doesNotApply : .mayApply, reasons: [
                    "The organisation is listed in the US (case file); a person recorded: " + recorded + ".",
                ])]
            }
            return [Judgement(regime: regime, scope: "organisation", status: determined == nil ? .mayApply : .applies, reasons: [
                "The organisation is listed in the US (case file): an SEC registrant.",
                determined.map { "The incident was determined material on " + $0.date.iso + " (supplied by a person)." }
                    ?? "Disclosure is due once the incident is determined to be material: the determination (without unreasonable delay) is for a person to record as human field '" + HumanField.materialityDetermination + "'.",
            ])]
        case "card-data":
            if let cards = facts.personal.first(where: { $0.category == "card_number" }) {
                return [Judgement(regime: regime, scope: "organisation", status: .applies, reasons: [
                    "Payment card numbers in model output: " + ReportNumber.grouped(cards.count) + " (computed from logs): a suspected compromise of account data.",
                ])]
            }
            let cardModels = facts.result.caseInfo.models.filter { model in
                let text = (model.dataType ?? "").lowercased()
                return text.contains("card") || text.contains("pci")
            }
            let involved = Set(facts.result.incidents.flatMap(\.models))
            let hit = cardModels.filter { involved.contains($0.name) }
            if !hit.isEmpty {
                return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: [
                    "No card number found in the output examined, but " + hit.map(\.name).joined(separator: ", ")
                        + " (in an incident) process card data (case file): whether account data were compromised is for a person to establish.",
                ])]
            }
            return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                "No card number found in the output examined and no model in an incident processes card data (case file).",
            ])]
        case "us-residents":
            let hasUSIdentifiers = facts.personal.contains { $0.category == "us_ssn" }
            if let residents = facts.residents {
                if CaseFacts.names(residents, anyOf: ["US"]) {
                    let stated = residents.filter { CaseFacts.names([$0], anyOf: ["US"]) }.joined(separator: ", ")
                    return [Judgement(regime: regime, scope: "organisation", status: facts.personal.isEmpty ? .mayApply : .applies, reasons: [
                        "Data subjects resident in " + stated + " (case file)" + (facts.personal.isEmpty ? "; whether their personal data were breached is for a person to establish."
                            : "; personal data in model output: " + facts.personalSummary() + " (computed from logs). Each state's statute and thresholds apply."),
                    ])]
                }
                if !hasUSIdentifiers {
                    return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                        "The data subjects live in " + residents.joined(separator: ", ") + " (case file), not in the US.",
                    ])]
                }
            }
            if hasUSIdentifiers {
                return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: [
                    "US social security numbers in model output (computed from logs): data of US residents may be concerned.",
                ])]
            }
            if facts.personal.isEmpty {
                return [Judgement(regime: regime, scope: "organisation", status: .doesNotApply, reasons: [
                    "No personal data found in the model output examined and no US residents named in the case file.",
                ])]
            }
            return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: [
                "Personal data in model output (computed from logs), and the case file does not say where the data subjects live (`data_subjects_resident_in`).",
            ])]
        default:
            return [Judgement(regime: regime, scope: "organisation", status: .mayApply, reasons: ["No judgement for test '" + regime.test + "': for a person to assess."])]
        }
    }

    /// The EU AI Act's high-risk classification of each model of the case file.
    static func modelJudgements(_ regime: RegimeSet.Regime, facts: CaseFacts, overall: Status) -> [Judgement] {
        guard let highRisk = regime.highRisk else { return [] }
        return facts.result.caseInfo.models.map { model in
            var reasons: [String] = []
            var isHighRisk: Bool?
            let function = (model.businessFunction ?? model.name).lowercased()
            let entry = model.annexIII?.trimmingCharacters(in: .whitespaces)
            if let entry, entry.lowercased() == "none" {
                isHighRisk = false
                reasons.append("No Annex III entry (case file `annex_iii: none`).")
            } else if let entry, !entry.isEmpty {
                if let covers = highRisk.entries[entry] {
                    if let exclusion = highRisk.exclusions.first(where: { $0.entry == entry && $0.words.contains { function.contains($0.lowercased()) } }) {
                        isHighRisk = false
                        reasons.append("Annex III entry " + entry + " (case file) covers " + covers + ", but " + exclusion.reason + " and the model's function is '" + (model.businessFunction ?? model.name) + "'.")
                    } else {
                        isHighRisk = true
                        reasons.append("Annex III entry " + entry + " (case file): " + covers + " — high-risk (" + highRisk.source + ").")
                    }
                } else {
                    reasons.append("The case file's Annex III entry '" + entry + "' is not one of the regimes file's entries: for a person to confirm.")
                }
            } else if let exclusion = highRisk.exclusions.first(where: { $0.words.contains { function.contains($0.lowercased()) } }) {
                isHighRisk = false
                reasons.append("No Annex III entry in the case file; the model's function ('" + (model.businessFunction ?? model.name) + "') falls under the exception: "
                    + exclusion.reason + ". A person confirms no other entry applies (`annex_iii`).")
            } else {
                reasons.append("The case file names no Annex III entry for it (`annex_iii`): whether it is high-risk is for a person to classify.")
            }
            var status: Status = isHighRisk == false ? .doesNotApply : (isHighRisk == true ? .applies : .mayApply)
            if overall == .doesNotApply { status = .doesNotApply }
            if isHighRisk == true, status == .applies {
                status = .mayApply
                reasons.append("Reportable when the incident is a serious incident (Art. 3(49)): for a person to establish.")
            }
            return Judgement(regime: regime, scope: "model " + model.name, status: status, reasons: reasons)
        }
    }

    // MARK: - Deadlines

    static func deadlines(_ regime: RegimeSet.Regime, status: Status, facts: CaseFacts, materiality: CivilDate?) -> [Deadline] {
        var list: [Deadline] = []
        var previous: (due: UTCTime?, dueDate: CivilDate?, article: String)?
        let classification = (facts.result.caseInfo.humanFields[doraClassificationField] ?? nil).flatMap(UTCTime.init(rfc3339:))
        for obligation in regime.obligations {
            var due: UTCTime?
            var dueDate: CivilDate?
            var start = "—"
            var note = ""
            if let clock = obligation.clock {
                func amount(from base: UTCTime) -> UTCTime {
                    if let hours = clock.hours { return Deadlines.adding(hours: hours, to: base) }
                    return Deadlines.adding(months: clock.months ?? 0, to: base)
                }
                switch clock.from {
                case "awareness":
                    start = facts.awareness.map { "awareness " + $0.rfc3339 } ?? Placeholder.make("awareness time")
                    due = facts.awareness.map(amount)
                    note = facts.awareness == nil ? "Awareness time not supplied." : "Computed from the awareness time."
                case "classification":
                    let latest = clock.latest.flatMap { limit -> UTCTime? in
                        limit.from == "awareness" ? facts.awareness.map { Deadlines.adding(hours: limit.hours, to: $0) } : nil
                    }
                    if let classification {
                        start = "classification as major " + classification.rfc3339
                        let fromClassification = amount(from: classification)
                        due = latest.map { min($0, fromClassification) } ?? fromClassification
                        note = "The earlier of " + (clock.hours.map { String($0) + " h" } ?? "") + " after classification and the outer limit."
                    } else {
                        start = Placeholder.make("time the incident was classified as major (human field '" + doraClassificationField + "')")
                        due = latest
                        note = latest == nil ? "Classification and awareness times not supplied."
                            : "Classification time not recorded: the due time shown is the outer limit ("
                                + String(clock.latest?.hours ?? 0) + " h after awareness); the " + (clock.hours.map { String($0) + " h" } ?? "")
                                + " limit from classification may fall earlier."
                    }
                case "materiality":
                    if let materiality {
                        start = "materiality determination " + materiality.iso
                        dueDate = Deadlines.addingBusinessDays(clock.businessDays ?? 0, to: materiality)
                        note = "Counted in US business days (weekends and federal holidays skipped)."
                    } else if let statement = (facts.result.caseInfo.humanFields[HumanField.materialityDetermination] ?? nil) {
                        start = "recorded by a person: " + MarkdownText.escape(statement, limit: 200)
                        note = "No determination date recorded."
                    } else {
                        start = Placeholder.make("materiality determination date (human field '" + HumanField.materialityDetermination + "')")
                        note = facts.awareness.map { "Were the determination made on the awareness date, the filing would be due "
                            + Deadlines.addingBusinessDays(clock.businessDays ?? 0, to: $0.date).isoWithWeekday + "." } ?? ""
                    }
                default:   // previous
                    start = "submission of " + (previous.map { regime.name + " " + ($0.article.split(separator: ";").first.map(String.init) ?? $0.article) } ?? "the previous step")
                    due = previous?.due.map(amount)
                    note = due == nil ? "The previous step has no due time yet."
                        : "Computed from the latest permitted time of the previous step; recompute from the actual submission."
                }
            } else {
                note = "No fixed period: a person decides and records when."
            }
            list.append(Deadline(regime: regime.name + " " + obligation.article, obligation: obligation.obligation, period: obligation.period,
                                 appliesWhen: conditionText(obligation.condition), due: due, dueDate: dueDate, note: note,
                                 status: status.rawValue, clockStart: start, source: regime.url))
            previous = (due, dueDate, obligation.article)
        }
        return list
    }

    static func conditionText(_ condition: String?) -> String {
        switch condition {
        case "major": "the incident is classified as major"
        case "significant": "the incident is significant"
        case "serious": "serious incident of a high-risk AI system"
        case "widespread": "widespread infringement or critical-infrastructure disruption"
        case "death": "the incident may have caused a death"
        case "high-risk": "high risk to the rights and freedoms of natural persons"
        case "material": "the incident is determined to be material"
        case let other?: other
        case nil: "the regime applies"
        }
    }
}
