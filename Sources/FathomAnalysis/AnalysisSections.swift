import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

extension HitValue {
    /// The value as text when it is a string.
    package var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    package var stringsValue: [String] {
        switch self {
        case let .strings(values): return values
        case let .string(value): return [value]
        default: return []
        }
    }
}

extension Hit {
    /// The evidence line of an event hit, or the first line of an aggregate.
    package var evidenceRef: EvidenceRef? {
        if let archive = evidence.archive, let line = evidence.line {
            return EvidenceRef(archive: archive, member: evidence.member ?? "", line: line)
        }
        return evidence.first.map { EvidenceRef(archive: $0.archive, member: $0.member, line: $0.line) }
    }

    package var lastEvidenceRef: EvidenceRef? {
        evidence.last.map { EvidenceRef(archive: $0.archive, member: $0.member, line: $0.line) } ?? evidenceRef
    }

    package func field(_ name: String) -> String? { fields?[name]?.stringValue ?? key[name]?.stringValue }
}

extension Analysis {
    /// Extracted-query volume per attacker identity and in total.
    ///
    /// Every flagged identity is judged (``IdentityTriage``); the likely benign ones are set aside
    /// and the totals (queries, distinct inputs, window, whether it is ongoing) are counted over
    /// the others only, by a second pass when any was set aside.
    package func extractionSummary(scan: StoreScan, resolver: EvidenceResolver) throws -> ExtractionSummary? {
        let (flagged, rules) = ExtractionAnalysis.identities(from: hits.hits(rules: RuleID.extraction), totalMaxQueries: settings.totalMaxQueries)
        guard !flagged.isEmpty else { return nil }
        let analysis = ExtractionAnalysis(scan: scan, resolver: resolver, endpointPatterns: settings.endpointPatterns)
        let triage = IdentityTriage(internalNetworks: caseFile.internalNetworks ?? settings.internalNetworks,
                                    knownClients: caseFile.knownClients)
        var part = try analysis.run(identities: flagged)
        var kept = Self.mostSpecific(flagged, part)
        var verdicts: [ExtractionAnalysis.Identity: (IdentityTriage.Verdict, [String])] = [:]
        for identity in kept { if let tally = part.tallies[identity] { verdicts[identity] = triage.judge(identity, tally) } }
        let benign = kept.filter { verdicts[$0]?.0 == .likelyBenign }
        var setAside: [AttackerVolume] = []
        if !benign.isEmpty {
            for identity in benign {
                if let tally = part.tallies[identity], let volume = Self.volume(identity, tally, part: part, kept: kept, rules: rules, verdict: verdicts[identity]) {
                    setAside.append(volume)
                }
            }
            // Identities whose traffic all comes from the set-aside ones go with them.
            let benignAddresses = benign.reduce(into: Set<String>()) { $0.formUnion(part.tallies[$1]?.addresses ?? []) }
            let benignPrincipals = benign.reduce(into: Set<String>()) { $0.formUnion(part.tallies[$1]?.principals ?? []) }
            let counted = flagged.filter { identity in
                guard !benign.contains(identity), let tally = part.tallies[identity] else { return false }
                return !(tally.addresses.isSubset(of: benignAddresses) && tally.principals.isSubset(of: benignPrincipals))
            }
            part = counted.isEmpty ? ExtractionAnalysis.Part() : try analysis.run(identities: counted)
            kept = Self.mostSpecific(counted, part)
        }
        setAside.sort { ($0.firstSeen, $0.identity) < ($1.firstSeen, $1.identity) }
        let dataEnd = part.dataEnd
        let lastHour = dataEnd.map { $0 / Analysis.hour * Analysis.hour }
        var attackers: [AttackerVolume] = []
        for identity in kept {
            guard let tally = part.tallies[identity],
                  let volume = Self.volume(identity, tally, part: part, kept: kept, rules: rules,
                                           verdict: verdicts[identity] ?? triage.judge(identity, tally)) else { continue }
            attackers.append(volume)
        }
        attackers.sort { ($0.firstSeen, $0.identity) < ($1.firstSeen, $1.identity) }
        guard let first = part.union.first, let last = part.union.last else {
            return setAside.isEmpty ? nil
                : ExtractionSummary(attackers: [], totalQueries: 0, totalDistinctInputs: 0, ongoing: false,
                                    dataEnd: dataEnd.map(Analysis.time), hourly: [], setAside: setAside)
        }
        let ongoing = lastHour.map { hour in part.union.hourly[hour] != nil } ?? false
        let window = ImpactWindow(
            start: WindowEdge(time: Analysis.time(first.0), rule: "extraction", description: "first query of any attacker identity", evidence: first.1),
            end: ongoing ? nil : WindowEdge(time: Analysis.time(last.0), rule: "extraction", description: "last query of any attacker identity", evidence: last.1),
            ongoing: ongoing, durationSeconds: Timestamp.seconds(from: first.0, to: last.0))
        let hours = Set(part.union.hourly.keys).sorted()
        let hourly = hours.map { hour in
            var perAttacker: [String: Int64] = [:]
            for identity in kept {
                guard let tally = part.tallies[identity], let count = tally.hourly[hour] else { continue }
                let label = identity.type == "principal" && tally.addresses.count == 1 ? tally.addresses.first ?? identity.value : identity.value
                perAttacker[label] = count
            }
            return HourlyVolume(hour: Analysis.time(hour), total: part.allHourly[hour] ?? 0, attackers: perAttacker)
        }
        return ExtractionSummary(attackers: attackers, totalQueries: part.union.queries,
                                 totalDistinctInputs: part.union.distinctInputs, window: window, ongoing: ongoing,
                                 dataEnd: dataEnd.map(Analysis.time), hourly: hourly,
                                 setAside: setAside.isEmpty ? nil : setAside)
    }

    /// The most specific identities: addresses, then principals and networks whose rows do not
    /// all come from addresses already named.
    static func mostSpecific(_ flagged: [ExtractionAnalysis.Identity], _ part: ExtractionAnalysis.Part) -> [ExtractionAnalysis.Identity] {
        let addresses = Set(flagged.filter { $0.type == "src_ip" }.map(\.value))
        var kept: [ExtractionAnalysis.Identity] = []
        for identity in flagged {
            guard let tally = part.tallies[identity], tally.queries > 0 else { continue }
            if identity.type != "src_ip", tally.addresses.isSubset(of: addresses) { continue }
            kept.append(identity)
        }
        var principalsCovered = Set<String>()
        for identity in kept where identity.type == "principal" { principalsCovered.insert(identity.value) }
        return kept.filter { identity in
            // A network whose traffic all comes through principals already named adds nothing.
            guard identity.type == "network", let tally = part.tallies[identity] else { return true }
            return !(tally.principals.isSubset(of: principalsCovered) && !tally.principals.isEmpty)
        }
    }

    /// One identity's volume as the reports show it.
    static func volume(_ identity: ExtractionAnalysis.Identity, _ tally: ExtractionAnalysis.Tally, part: ExtractionAnalysis.Part,
                       kept: [ExtractionAnalysis.Identity], rules: [ExtractionAnalysis.Identity: Set<String>],
                       verdict: (IdentityTriage.Verdict, [String])?) -> AttackerVolume? {
        guard let first = tally.first, let last = tally.last else { return nil }
        // A key used from one address only is reported by that address ("who, from where").
        var shown = identity
        if identity.type == "principal", tally.addresses.count == 1, let address = tally.addresses.first,
           !kept.contains(ExtractionAnalysis.Identity(type: "src_ip", value: address)) {
            shown = ExtractionAnalysis.Identity(type: "src_ip", value: address)
        }
        let peak = tally.hourly.max { ($0.value, -$0.key) < ($1.value, -$1.key) }
        let hoursActive = Set(tally.hourly.keys)
        let all = hoursActive.reduce(Int64(0)) { $0 + (part.allHourly[$1] ?? 0) }
        return AttackerVolume(
            identityType: shown.type, identity: shown.value, addresses: tally.addresses.sorted(),
            principals: tally.principals.sorted(), queries: tally.queries, distinctInputs: tally.distinctInputs,
            endpoints: tally.endpoints.sorted(), firstSeen: Analysis.time(first.0), lastSeen: Analysis.time(last.0),
            peakHourlyRate: peak?.value ?? 0, peakHour: peak.map { Analysis.time($0.key) },
            shareOfTraffic: all > 0 ? (Double(tally.queries) / Double(all) * 1e6).rounded() / 1e6 : 0,
            confidenceScoresReturned: nil, rules: (rules[identity] ?? []).sorted(),
            firstEvidence: first.1, lastEvidence: last.1,
            verdict: verdict?.0.rawValue, verdictReasons: verdict?.1)
    }

    /// Responses with sensitive data: the records potentially exposed.
    package func dataExposure() -> DataExposure? {
        let found = hits(RuleID.sensitiveOutput).sorted { ($0.time?.nanoseconds ?? 0, $0.evidenceRef ?? EvidenceRef(archive: "", member: "", line: 0)) < ($1.time?.nanoseconds ?? 0, $1.evidenceRef ?? EvidenceRef(archive: "", member: "", line: 0)) }
        guard !found.isEmpty else { return nil }
        var categories: [String: Int64] = [:]
        var occurrences: [String: Int64] = [:]
        var values: [String: Set<String>] = [:]
        var users = Set<String>()
        var sessions = Set<String>()
        for hit in found {
            for category in Set(hit.metrics["categories"]?.stringsValue ?? []) { categories[category, default: 0] += 1 }
            // Occurrences and distinct values, from the response itself (a response can hold several).
            for finding in SensitiveData.findings(in: hit.field("response") ?? "") {
                occurrences[finding.category, default: 0] += 1
                values[finding.category, default: []].insert(finding.match.filter { $0.isLetter || $0.isNumber || $0 == "@" || $0 == "." })
            }
            if let user = hit.field("principal"), !user.isEmpty { users.insert(user) }
            if let session = hit.field("session"), !session.isEmpty { sessions.insert(session) }
        }
        var exposure = DataExposure(responsesWithSensitiveData: Int64(found.count), distinctUsers: Int64(users.count),
                                    distinctSessions: Int64(sessions.count), categories: categories,
                                    recordsPotentiallyExposed: .count(found.count, unit: "responses"),
                                    first: found.first?.time, last: found.last?.time,
                                    evidence: found.compactMap(\.evidenceRef))
        if !occurrences.isEmpty {
            exposure.occurrences = occurrences
            exposure.distinctValues = values.mapValues { Int64($0.count) }
        }
        return exposure
    }

    /// Prompt injection, counted in distinct prompts (LLM rows) and principals per detector.
    ///
    /// A prompt counts as an attack when the trained detector flags it (`prompt.injection-model`,
    /// calibrated on a held-back split), when `prompt.injection-normalized` found its phrase only
    /// after undoing an evasion (zero-width characters, confusables, leetspeak, encodings: benign
    /// users do not hide words), or when any injection rule flagged it in a session whose
    /// responses then leaked sensitive data. The playbook phrase list's matches and the plain
    /// phrase matches of the normalised rule are counted apart, for the analyst: both fire on
    /// benign prompts that merely use the words.
    package func injectionIncident(exposure: DataExposure?) -> Incident? {
        // What the incident reads of each injection hit, not the hit: the prompt rules' hits grow
        // with the evidence (benign prompts that use the words), and their fields hold the prompts.
        // Held once, at its final size: the subsets below are read lazily, not copied (the
        // phrase matches of benign prompts, and their copies in the filtered lists, were the
        // analysis's largest memory at 8 GB of the high-cardinality benchmark: 49 MB at its peak).
        let leakingSessions = Set(hits(RuleID.sensitiveOutput).compactMap { $0.field("session") }.filter { !$0.isEmpty })
        var injection: [PromptHit] = []
        injection.reserveCapacity(RuleID.injection.reduce(0) { $0 + hits.count(rule: $1) })
        for hit in hits.each(rules: RuleID.injection) { injection.append(PromptHit(hit, leakingSessions: leakingSessions)) }
        guard !injection.isEmpty else { return nil }
        func key(_ hit: PromptHit) -> EvidenceRef { hit.ref }
        func isHidden(_ hit: PromptHit) -> Bool { hit.isHidden }
        func leaked(_ hit: PromptHit) -> Bool { hit.leaked }
        let model = injection.filter { $0.rule == RuleID.injectionModel }
        let modelRows = Set(model.map(key))
        let hidden = injection.filter { isHidden($0) && !modelRows.contains(key($0)) }
        let hiddenRows = Set(hidden.map(key))
        let leaking = injection.filter { leaked($0) && !modelRows.contains(key($0)) && !hiddenRows.contains(key($0)) }
        let counted = model + hidden + leaking
        var firstOfRow: [EvidenceRef: PromptHit] = [:]
        for hit in counted.sorted(by: { $0.rule < $1.rule }) where firstOfRow[key(hit)] == nil { firstOfRow[key(hit)] = hit }
        let attacks = firstOfRow.values.sorted { ($0.time?.nanoseconds ?? 0, key($0)) < ($1.time?.nanoseconds ?? 0, key($1)) }
        func principals(_ list: some Sequence<PromptHit>) -> Set<String> { Set(list.lazy.compactMap(\.principal).filter { !$0.isEmpty }) }
        func rows(_ list: some Sequence<PromptHit>) -> Int { Set(list.lazy.map(key)).count }
        let actors = principals(attacks).sorted()
        let phrase = injection.lazy.filter { $0.rule == RuleID.injectionPhrase }
        let plain = injection.lazy.filter { $0.rule == RuleID.injectionNormalized && !isHidden($0) }
        let shipped = InjectionModel.shipped
        let test = shipped.metadata.test
        var detections: [InjectionDetection] = [
            InjectionDetection(rule: RuleID.injectionModel, prompts: rows(model), principals: principals(model).count,
                               countedAsAttacks: true, precision: test.precision, recall: test.recall,
                               falsePositiveRate: test.fpr, modelSHA256: shipped.sha256,
                               note: "prompts the trained detector scored at or above its threshold"),
            InjectionDetection(rule: RuleID.injectionNormalized, prompts: rows(hidden), principals: principals(hidden).count,
                               countedAsAttacks: true, note: "further prompts whose injection phrase was hidden (evasion undone by normalisation)"),
        ]
        if !leaking.isEmpty {
            detections.append(InjectionDetection(rule: RuleID.sensitiveOutput, prompts: rows(leaking), principals: principals(leaking).count,
                                                 countedAsAttacks: true, note: "further phrase-matched prompts in sessions whose responses leaked sensitive data"))
        }
        detections.append(InjectionDetection(rule: RuleID.injectionPhrase, prompts: rows(phrase), principals: principals(phrase).count,
                                             countedAsAttacks: false, note: "prompts that matched the playbook phrase list (benign prompts match it too)"))
        let plainOnly = plain.filter { firstOfRow[key($0)] == nil }
        detections.append(InjectionDetection(rule: RuleID.injectionNormalized, prompts: rows(plainOnly), principals: principals(plainOnly).count,
                                             countedAsAttacks: false, note: "further prompts with a plain normalised-list phrase that no calibrated detector confirmed"))
        guard let first = attacks.first, let last = attacks.last, let start = first.time, let end = last.time else { return nil }
        let window = ImpactWindow(
            start: WindowEdge(time: start, rule: first.rule, description: "first prompt counted as an injection attempt", evidence: first.evidenceRef),
            end: WindowEdge(time: end, rule: last.rule, description: "last prompt counted as an injection attempt", evidence: last.evidenceRef),
            ongoing: false, durationSeconds: Double(start.nanoseconds(to: end)) / 1e9)
        var ruleHits: [String: Int] = [:]
        for hit in attacks { ruleHits[hit.rule, default: 0] += 1 }
        func figure(_ value: Double) -> String { String(format: "%.2f", value) }
        var summary = "\(attacks.count) prompts by \(actors.count) principals counted as injection attempts: "
            + "\(rows(model)) flagged by the trained detector (precision \(figure(test.precision)), recall \(figure(test.recall)) "
            + "on its held-back test split)"
        if !hidden.isEmpty { summary += ", \(rows(hidden)) more with hidden phrasing (normalisation rule)" }
        if !leaking.isEmpty { summary += ", \(rows(leaking)) more in sessions that leaked data" }
        summary += "; the playbook phrase list matched \(rows(phrase)) prompts"
        summary += exposure.map { "; \($0.responsesWithSensitiveData) responses leaked sensitive data." } ?? "."
        return Incident(id: "", type: .promptInjection, title: "Prompt injection against the LLM gateway",
                        atlas: ["AML.T0051.000", "AML.T0054", "AML.T0057"], window: window, actors: actors,
                        // The LLM the prompts went to (and that leaked), named by the gateway's rows.
                        models: Array(Set(attacks.compactMap(\.model).filter { !$0.isEmpty })).sorted(),
                        ruleHits: ruleHits, linked: [], summary: summary, detections: detections)
    }

    /// Training-data compromise from the pipeline burst rule: from the first anomalous action to
    /// the next clean retrain (a successful retrain after the compromised version was rolled back).
    package func trainingIncident(history: RegistryAnalysis) -> (incident: Incident, active: PlaybookAnswer)? {
        let all = hits(RuleID.pipelineBurst).sorted { ($0.window?.start.nanoseconds ?? 0) < ($1.window?.start.nanoseconds ?? 0) }
        // Bursts of data modification are the tampering; other bursts (config edits) are context.
        let dataBursts = all.filter { $0.field("action") == "modify_data" }
        var bursts = dataBursts.isEmpty ? all : dataBursts
        // The one that precedes the compromised deployment, when there is one.
        if let deployed = history.window?.start.nanos {
            let before = bursts.filter { ($0.window?.start.nanoseconds ?? .max) < deployed }
            if let last = before.last { bursts = [last] }
        }
        guard let first = bursts.first else { return nil }
        let firstEvidence = first.evidence.first
        let startNanos = firstEvidence?.time?.nanoseconds ?? first.window?.start.nanoseconds ?? 0
        let actors = Set(bursts.compactMap { $0.field("principal") }).sorted()
        let lastBurstEnd = bursts.compactMap { $0.window?.end.nanoseconds }.max() ?? startNanos
        let window = ImpactWindow(
            start: WindowEdge(time: Analysis.time(startNanos), rule: RuleID.pipelineBurst,
                              description: "first \(first.field("action") ?? "pipeline") action of the anomalous burst by \(first.field("principal") ?? "?")",
                              evidence: first.evidenceRef),
            end: nil, ongoing: true, durationSeconds: nil)
        let recent = lastBurstEnd >= (history.rollbacks.last ?? Int64.max)
        let answer = recent
            ? PlaybookAnswer(answer: .yes, answeredBy: "evidence", evidence: ["anomalous pipeline activity after the rollback"])
            : PlaybookAnswer.confirm(.pipelineActive, because: "the burst ended at \(Analysis.time(lastBurstEnd)); logs cannot show whether the credentials are still in an attacker's hands")
        let incident = Incident(
            id: "", type: .trainingData, title: "Anomalous training-data modification",
            atlas: ["AML.T0020", "AML.T0019"], window: window, actors: actors, models: [],
            ruleHits: [RuleID.pipelineBurst: bursts.count], linked: [],
            // The logs show an account, not a person: who used it is for the investigation to establish.
            summary: bursts.map { "the account \($0.field("principal") ?? "?") ran \($0.metrics["count"].map { "\($0)" } ?? "?") \($0.field("action") ?? "") on \($0.field("pipeline") ?? "")" }.joined(separator: "; ") + "; no verified clean retrain in the data.")
        return (incident, answer)
    }
}

/// Links incidents that overlap in time and share an actor or a model.
package enum IncidentLinking {
    package static func link(_ incidents: inout [Incident]) {
        for i in incidents.indices {
            for j in incidents.indices where i != j {
                let a = incidents[i]
                let b = incidents[j]
                // An open end reaches the end of time; an undated start reaches its beginning.
                let end = Timestamp(nanoseconds: .max)
                let start = Timestamp(nanoseconds: .min)
                let aEnd = a.window.end.map { $0.time ?? end } ?? end
                let bEnd = b.window.end.map { $0.time ?? end } ?? end
                let overlaps = (a.window.start.time ?? start) <= bEnd && (b.window.start.time ?? start) <= aEnd
                let shared = !Set(a.actors).isDisjoint(with: b.actors) || !Set(a.models).isDisjoint(with: b.models)
                let causal = (a.type == .trainingData && b.type == .modelBehaviour) || (a.type == .modelBehaviour && b.type == .trainingData)
                if (overlaps && shared) || causal { incidents[i].linked.append(b.id) }
            }
            incidents[i].linked.sort()
        }
    }
}

/// The fields of the regulator report that only a person can fill.
package enum HumanFields {
    package static let required = [HumanField.estimatedResolution, HumanField.rootCause, HumanField.remediation,
                           HumanField.materialityDetermination, HumanField.notificationTime]
}

/// A stable hash of the rule set and its settings, for document control.
package enum RulesetHash {
    package static func of(settings: RuleSettings) -> String {
        var hasher = SHA256Stream()
        for rule in RuleCatalog.builtIn {
            RuleCatalog.describe(rule, settings: settings).withByteView { hasher.update($0) }
        }
        return hasher.finalize()
    }
}

/// Keys of `CaseInfo.humanFields` that the reports show in fixed places.
public enum HumanField {
    /// Executive brief: ESTIMATED RESOLUTION.
    public static let estimatedResolution = "estimated_resolution"
    /// Executive brief and regulator report: the root cause, once found.
    public static let rootCause = "root_cause"
    /// Executive brief: clean model restored or retraining planned.
    public static let remediation = "remediation"
    /// SEC Form 8-K Item 1.05: date (or time) of the materiality determination.
    public static let materialityDetermination = "sec_materiality_determination"
    /// When the supervisory authority was notified (RFC 3339), for "changed before notification".
    public static let notificationTime = "notification_time"
}

/// What the prompt-injection incident reads of one injection hit (``Analysis/injectionIncident(exposure:)``).
private struct PromptHit {
    var rule: String
    var time: Timestamp?
    /// The hit's evidence, or an empty reference when it has none (rows are told apart by it).
    var ref: EvidenceRef
    var evidenceRef: EvidenceRef?
    var principal: String?
    var model: String?
    /// Whether `prompt.injection-normalized` found its phrase only after undoing an evasion.
    var isHidden: Bool
    /// Whether the hit's session is one of `leakingSessions` (its responses leaked sensitive data).
    var leaked: Bool

    init(_ hit: Hit, leakingSessions: Set<String>) {
        rule = hit.rule
        time = hit.time
        evidenceRef = hit.evidenceRef
        ref = hit.evidenceRef ?? EvidenceRef(archive: "", member: "", line: 0)
        principal = hit.field("principal")
        leaked = leakingSessions.contains(hit.field("session") ?? "")
        model = hit.field("model")
        isHidden = hit.rule == RuleID.injectionNormalized && hit.metrics["evasion"] == .string("normalised")
    }
}
