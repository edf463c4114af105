import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Reads the registry and deployment history: which version was compromised (the one rolled back
/// from, or the one the case file names), when it went into production, every rollback away from
/// it, and the last known-good version before it.
package struct RegistryAnalysis {
    package struct Edge {
        package var nanos: Int64
        package var rule: String
        package var description: String
        package var evidence: EvidenceRef?
    }

    package struct Window {
        package var start: Edge
        package var end: Edge?
        /// When the deploy that opens the window was reported complete (a rolling deploy or canary
        /// serves both versions until then); nil when the evidence logs only one time.
        package var rolloutEnd: Edge?
        /// When the rollback that closes the window was reported complete (the old pods drained).
        package var drainEnd: Edge?

        package init(start: Edge, end: Edge?) {
            self.start = start
            self.end = end
        }

        package func impactWindow(ongoingAt: Int64?) -> ImpactWindow {
            ImpactWindow(
                start: WindowEdge(time: Timestamp(nanoseconds: start.nanos), rule: start.rule, description: start.description, evidence: start.evidence),
                end: end.map { WindowEdge(time: Timestamp(nanoseconds: $0.nanos), rule: $0.rule, description: $0.description, evidence: $0.evidence) },
                ongoing: end == nil, durationSeconds: end.map { Double($0.nanos - start.nanos) / 1e9 })
        }
    }

    package var compromised: (model: String, version: String)?
    package var window: Window?
    package var lastKnownGood: String?
    package var rollbacks: [Int64] = []
    package var deployers: [String] = []
    package var contradictions: [Contradiction] = []

    package init(rows: [RegistryRow], caseFile: CaseFile) {
        let deploys = rows.filter(\.isProductionDeploy)
        // Evidence: a version that production moved away from by a rollback (an explicit rollback
        // event, or a return to a version that served before it).
        var rolledBack: [(model: String, version: String, at: Int64)] = []
        var current: [String: String] = [:]
        var seen: [String: [String]] = [:]
        for row in deploys where !row.version.isEmpty {
            let previous = current[row.model]
            if let previous, previous != row.version {
                let returning = seen[row.model, default: []].contains(row.version)
                let older = VersionOrder.isOlder(row.version, than: previous)
                if row.event.lowercased() == "rollback" || returning || older {
                    rolledBack.append((row.model, previous, row.time))
                }
            }
            current[row.model] = row.version
            if !seen[row.model, default: []].contains(row.version) { seen[row.model, default: []].append(row.version) }
        }
        let fromLogs = rolledBack.first.map { (model: $0.model, version: $0.version) }
        if let named = caseFile.compromisedVersion.map(VersionOrder.canonical) {
            let model = caseFile.compromisedModel ?? fromLogs?.model ?? deploys.first?.model ?? ""
            compromised = (model, named)
            if let fromLogs, fromLogs.version != named || (caseFile.compromisedModel != nil && fromLogs.model != model) {
                // The logs win: the version actually rolled back is the compromised one.
                contradictions.append(Contradiction(
                    field: "compromised.version", caseFile: "\(model) \(named)",
                    logs: "\(fromLogs.model) \(fromLogs.version) was rolled back in production",
                    evidence: deploys.first { $0.model == fromLogs.model && $0.time == rolledBack.first?.at }?.evidence))
                compromised = fromLogs
            }
        } else {
            compromised = fromLogs
        }
        guard let compromised else { return }
        let modelDeploys = deploys.filter { $0.model == compromised.model }
        guard let firstDeploy = modelDeploys.first(where: { $0.version == compromised.version }) else { return }
        // The version serving before the compromised one went in.
        lastKnownGood = modelDeploys.last { $0.time < firstDeploy.time && $0.version != compromised.version }?.version
        var end: RegistryRow?
        var serving = false
        for row in modelDeploys where row.time >= firstDeploy.time {
            if row.version == compromised.version {
                serving = true
                if !deployers.contains(row.principal), !row.principal.isEmpty { deployers.append(row.principal) }
            } else if serving {
                serving = false
                rollbacks.append(row.time)
                end = row
                if lastKnownGood == nil { lastKnownGood = row.version }
            }
        }
        if serving { end = nil }
        if let named = caseFile.compromisedVersion.map(VersionOrder.canonical), named == compromised.version, let logsLKG = lastKnownGood,
           let rollbackTarget = end?.version, rollbackTarget != logsLKG {
            contradictions.append(Contradiction(field: "rollback target", caseFile: "-",
                                                logs: "rolled back to \(rollbackTarget), but \(logsLKG) served before \(named)",
                                                evidence: end?.evidence))
        }
        window = Window(
            start: Edge(nanos: firstDeploy.time, rule: RuleID.registryChange,
                        description: "\(firstDeploy.event) of \(compromised.model) \(compromised.version) to production\(firstDeploy.environment.isEmpty ? "" : " (\(firstDeploy.environment))")",
                        evidence: firstDeploy.evidence),
            end: end.map { row in
                Edge(nanos: row.time, rule: RuleID.registryChange,
                     description: "\(row.event == "rollback" ? "rollback" : row.event) of \(compromised.model) to \(row.version)\(row.environment.isEmpty ? "" : " (\(row.environment))")",
                     evidence: row.evidence)
            })
    }
}

/// Model version names as registries and deployments write them: `13`, `v13`, `V13` are one
/// version. Numeric versions order numerically.
package enum VersionOrder {
    /// The canonical spelling: `v` + digits for numeric versions, the text otherwise.
    package static func canonical(_ version: String) -> String {
        guard let number = number(version) else { return version }
        return "v" + String(number)
    }

    package static func number(_ version: String) -> Int? {
        var text = Substring(version)
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
        return Int(text)
    }

    /// Whether `version` is an earlier numeric version than `other`.
    package static func isOlder(_ version: String, than other: String) -> Bool {
        guard let a = number(version), let b = number(other) else { return false }
        return a < b
    }
}
