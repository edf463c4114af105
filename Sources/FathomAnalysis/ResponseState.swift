import Foundation
import FathomStore
import FathomSupport
import FathomDetect

/// What the response runbook must know about the case's state, decided from the evidence: what is
/// already done (a rollback, with when and by whom), which version is safe to roll back to (and
/// why the others are not), every credential the attackers used or the model leaked, the addresses
/// to block, and the compromised dependency's way into each model.
public struct ResponseState: Codable, Sendable, Equatable {
    /// A production change away from the compromised version, done or attempted.
    public struct RollbackRecord: Codable, Sendable, Equatable {
        public var time: Timestamp
        public var toVersion: String
        public var principal: String
        public var succeeded: Bool
        public var evidence: EvidenceRef?
    }

    /// A version of the compromised model judged as a rollback target.
    public struct Candidate: Codable, Sendable, Equatable {
        public var version: String
        /// "clean" (proven: its SBOM lacks the dependency and it predates the tampering) |
        /// "compromised" | "unproven"
        public var verdict: String
        public var reasons: [String]
    }

    /// A credential seen in attacker activity or leaked by a model.
    public struct Credential: Codable, Sendable, Equatable {
        /// aws-iam-user | aws-assumed-role | aws-access-key-id | azure-sas | azure-account-key |
        /// gateway-api-key | k8s-service-account | application-account | platform-account
        public var kind: String
        /// The identifier to act on, masked where it is a secret (prefix and last 4).
        public var identifier: String
        /// Extra names the commands need (an AWS account, a Kubernetes namespace, a key slot).
        public var scope: [String: String]
        /// What the evidence shows, in one sentence.
        public var detail: String
        /// "used" | "refused" | "leaked" | "acted"
        public var outcome: String
        public var evidence: EvidenceRef?
    }

    /// How the compromised dependency reaches one model.
    public struct DependencyPath: Codable, Sendable, Equatable {
        public var model: String
        public var modelVersion: String?
        public var path: [String]
        public var inventory: String
    }

    public var model: String?
    public var compromisedVersion: String?
    public var rollbacks: [RollbackRecord]
    public var candidates: [Candidate]
    /// The newest version proven clean; nil when none is.
    public var rollbackTarget: String?
    /// What to serve when no version is proven clean.
    public var fallback: String?
    public var credentials: [Credential]
    /// External addresses seen in attacker activity (extraction, artifact access, injection), sorted.
    public var blockAddresses: [String]
    public var dependency: String?
    public var dependencyPaths: [DependencyPath]
    /// Package indexes the inventories install from (`--index-url`, `--extra-index-url`, `--find-links`).
    public var installSources: [String]
    /// Whether every requirement of the requirements files carries `--hash=` (nil: none read).
    public var hashPinned: Bool?
}

/// Decides the ``ResponseState`` from the analysis's findings.
package enum ResponseStateAnalysis {
    package struct Inputs {
        package var hits: HitList
        package var registryRows: [RegistryRow]
        package var history: RegistryAnalysis
        package var supply: SupplyChainAnalysis
        package var incidents: [Incident]
        package var extraction: ExtractionSummary?
        package var internalNetworks: [String]
        /// When the training data was first modified anomalously.
        package var tamperingStart: Timestamp?
    }

    package static func evaluate(_ inputs: Inputs) -> (ResponseState, [Contradiction]) {
        let history = inputs.history
        let model = history.compromised?.model
        let bad = history.compromised?.version
        var contradictions: [Contradiction] = []
        // Done and attempted rollbacks: production changes of the model away from the bad version.
        var rollbacks: [ResponseState.RollbackRecord] = []
        if let model, let bad, let deployed = history.window?.start.nanos {
            for row in inputs.registryRows where row.model == model && row.time > deployed && row.version != bad && !row.version.isEmpty {
                let stage = row.toStage.lowercased()
                let production = stage == "production" || row.environment.lowercased().contains("prod") || (row.environment.isEmpty && stage == "deployed")
                let deploy = ["create", "patch", "update", "deploy", "rollback", "stage_transition", "transition"].contains(row.event.lowercased())
                guard production, deploy else { continue }
                rollbacks.append(.init(time: Timestamp(nanoseconds: row.time), toVersion: row.version, principal: row.principal,
                                       succeeded: row.succeeded, evidence: row.evidence))
                if row.succeeded { break }
            }
            if rollbacks.isEmpty, let end = history.window?.end, end.rule == "pipeline" || end.rule == "case-file" {
                rollbacks.append(.init(time: Timestamp(nanoseconds: end.nanos), toVersion: history.lastKnownGood ?? "an earlier version",
                                       principal: "", succeeded: true, evidence: end.evidence))
            }
        }
        // Candidates: every other version of the model in the registry history.
        let paths = inputs.supply.dependencyPaths
        var candidates: [ResponseState.Candidate] = []
        if let model, let bad {
            var versions = Set<String>()
            var registered: [String: Int64] = [:]
            var deployedInside: Set<String> = []
            let window = history.window
            for row in inputs.registryRows where row.model == model && !row.version.isEmpty && row.version != bad {
                versions.insert(row.version)
                registered[row.version] = min(registered[row.version] ?? .max, row.time)
                if let window, row.succeeded, row.isProductionDeploy, row.time > window.start.nanos, row.time < (window.end?.nanos ?? .max) {
                    deployedInside.insert(row.version)
                }
            }
            let ordered = versions.sorted { a, b in
                switch (VersionOrder.number(a), VersionOrder.number(b)) {
                case let (x?, y?): return x > y
                default: return a > b
                }
            }
            let dependency = inputs.supply.dependency
            for version in ordered {
                var reasons: [String] = []
                var compromised = false
                var dependencyClean = false
                let number = VersionOrder.number(version).map(String.init) ?? version
                let tagged = "\(model)@\(number)"
                if let dependency {
                    if let path = paths.first(where: { $0.model == model && $0.modelVersion.map(VersionOrder.canonical) == version }) {
                        compromised = true
                        reasons.append("built with \(dependency): " + path.path.joined(separator: " → ") + " (\(path.inventory))")
                    } else if inputs.supply.inventoriedModels.contains(tagged) {
                        dependencyClean = true
                        reasons.append("its SBOM does not list \(dependency)")
                    } else {
                        reasons.append("no SBOM of \(version) in the inventory: its dependencies are unknown")
                    }
                } else {
                    dependencyClean = true
                }
                if let tampering = inputs.tamperingStart, let time = registered[version] {
                    if time >= tampering.nanoseconds {
                        compromised = true
                        reasons.append("registered at \(Timestamp(nanoseconds: time).rfc3339), after the first anomalous training-data modification (\(tampering.rfc3339))")
                    } else {
                        reasons.append("registered before the first anomalous training-data modification")
                    }
                }
                if deployedInside.contains(version) {
                    compromised = true
                    reasons.append("deployed inside the impact window")
                }
                let verdict = compromised ? "compromised" : (dependencyClean ? "clean" : "unproven")
                candidates.append(.init(version: version, verdict: verdict, reasons: reasons))
            }
            if let good = history.lastKnownGood, let candidate = candidates.first(where: { $0.version == good }), candidate.verdict == "compromised" {
                contradictions.append(Contradiction(
                    field: "last known good", caseFile: "-",
                    logs: "\(model) \(good), called last known good (it served before \(bad)), is itself not clean: " + candidate.reasons.filter { !$0.hasPrefix("registered before") && !$0.hasPrefix("its SBOM") }.joined(separator: "; "),
                    evidence: nil))
            }
        }
        let target = candidates.first { $0.verdict == "clean" }?.version
        var fallback: String?
        if model != nil, target == nil {
            fallback = "serve the fallback (rules-based scoring or the previous model family) until a version rebuilt"
                + (inputs.supply.dependency.map { " without \($0)" } ?? "") + " from verified training data is validated"
        }
        return (ResponseState(model: model, compromisedVersion: bad, rollbacks: rollbacks, candidates: candidates, rollbackTarget: target,
                              fallback: fallback, credentials: credentials(inputs), blockAddresses: blockAddresses(inputs),
                              dependency: inputs.supply.dependency, dependencyPaths: paths,
                              installSources: inputs.supply.installSources, hashPinned: inputs.supply.hashPinned),
                contradictions)
    }

    /// External addresses in attacker activity: extraction attackers, artifact access from outside,
    /// the injection incident's principals.
    static func blockAddresses(_ inputs: Inputs) -> [String] {
        let internalSet = NetworkSet(inputs.internalNetworks)
        var addresses = Set<String>()
        for attacker in inputs.extraction?.attackers ?? [] { addresses.formUnion(attacker.addresses) }
        for hit in inputs.hits.each(rule: RuleID.artifactExternalAccess) {
            if let address = hit.field("src_ip") { addresses.insert(address) }
        }
        let injectionActors = Set(inputs.incidents.filter { $0.type == .promptInjection }.flatMap(\.actors))
        for hit in inputs.hits.each(rules: RuleID.injection.union([RuleID.sensitiveOutput])) {
            if let principal = hit.field("principal"), injectionActors.contains(principal), let address = hit.field("src_ip") {
                addresses.insert(address)
            }
        }
        return addresses.filter { !$0.isEmpty && !internalSet.contains($0) && IPNetworkKey.key(for: $0) != nil }.sorted { a, b in
            (a.contains(":") ? 1 : 0, a) < (b.contains(":") ? 1 : 0, b)
        }
    }

    static func credentials(_ inputs: Inputs) -> [ResponseState.Credential] {
        var found: [String: ResponseState.Credential] = [:]
        var order: [String] = []
        func add(_ credential: ResponseState.Credential) {
            let key = credential.kind + "\u{0}" + credential.identifier
            if var existing = found[key] {
                // "used" wins over "refused"; the first evidence stays.
                if existing.outcome == "refused" && credential.outcome != "refused" { existing.outcome = credential.outcome; existing.detail = credential.detail }
                found[key] = existing
            } else {
                found[key] = credential
                order.append(key)
            }
        }
        // Storage principals that read, wrote or deleted model artifacts from outside.
        var storage: [String: (ok: Int, refused: Int, addresses: Set<String>, evidence: EvidenceRef?)] = [:]
        var storageOrder: [String] = []
        for hit in inputs.hits.each(rule: RuleID.artifactExternalAccess) {
            guard let principal = hit.field("principal"), !principal.isEmpty else { continue }
            var entry = storage[principal] ?? (0, 0, [], hit.evidenceRef)
            if storage[principal] == nil { storageOrder.append(principal) }
            let status: Int64 = hit.fields?["status"].flatMap { if case let .int(value) = $0 { value } else { nil } } ?? 200
            if (200..<400).contains(status) { entry.ok += 1 } else { entry.refused += 1 }
            if let address = hit.field("src_ip") { entry.addresses.insert(address) }
            storage[principal] = entry
        }
        for principal in storageOrder {
            guard let entry = storage[principal] else { continue }
            let outcome = entry.ok > 0 ? "used" : "refused"
            let from = entry.addresses.sorted().joined(separator: ", ")
            let summary = "\(entry.ok + entry.refused) model-artifact requests from \(from) (\(entry.refused) refused)"
            if let user = awsUser(principal) {
                add(.init(kind: "aws-iam-user", identifier: user.name, scope: ["account": user.account], detail: summary, outcome: outcome, evidence: entry.evidence))
            } else if let role = awsAssumedRole(principal) {
                add(.init(kind: "aws-assumed-role", identifier: role.role, scope: ["account": role.account, "session": role.session],
                          detail: summary, outcome: outcome, evidence: entry.evidence))
            } else if let key = azureKey(principal) {
                add(.init(kind: key.sas ? "azure-sas" : "azure-account-key", identifier: key.slot,
                          scope: ["key_hash": key.hash], detail: (key.sas ? "SAS tokens signed with the storage account's \(key.slot): " : "the storage account's \(key.slot): ") + summary,
                          outcome: outcome, evidence: entry.evidence))
            }
        }
        // Gateway API keys of the extraction attackers.
        for attacker in inputs.extraction?.attackers ?? [] {
            for key in attacker.principals where !key.isEmpty {
                let who = attacker.identityType == "principal" ? "\(attacker.addresses.count) addresses (\(attacker.addresses.joined(separator: ", ")))" : attacker.identity
                add(.init(kind: "gateway-api-key", identifier: SecretMask.maskCredential(key), scope: [:],
                          detail: "used from \(who) for \(attacker.queries) model queries", outcome: "used", evidence: attacker.firstEvidence))
            }
        }
        // AWS access key ids the LLM put in its responses.
        for hit in inputs.hits.each(rule: RuleID.sensitiveOutput) {
            guard let response = hit.field("response") else { continue }
            for id in awsAccessKeyIDs(in: response) {
                add(.init(kind: "aws-access-key-id", identifier: SecretMask.keepEnds(id, head: 4, tail: 4), scope: [:],
                          detail: "leaked by the model in a response to \(hit.field("principal") ?? "a user")", outcome: "leaked", evidence: hit.evidenceRef))
            }
        }
        // The principals the incidents name: deployers, pipeline accounts, application accounts.
        let leakingSessions = Set(inputs.hits.each(rule: RuleID.sensitiveOutput).compactMap { $0.field("principal") })
        for incident in inputs.incidents where incident.type != .extraction {
            for actor in incident.actors where !actor.isEmpty && IPNetworkKey.key(for: actor) == nil {
                if let account = serviceAccount(actor) {
                    add(.init(kind: "k8s-service-account", identifier: account.name, scope: ["namespace": account.namespace],
                              detail: incident.type == .modelBehaviour ? "deployed the compromised version (\(incident.id))" : "acted in \(incident.id)",
                              outcome: "acted", evidence: nil))
                } else if incident.type == .promptInjection {
                    let leaked = leakingSessions.contains(actor)
                    add(.init(kind: "application-account", identifier: actor, scope: [:],
                              detail: leaked ? "sent injection prompts and received sensitive data (\(incident.id))" : "sent injection prompts; the model refused (\(incident.id))",
                              outcome: leaked ? "used" : "refused", evidence: nil))
                } else {
                    add(.init(kind: "platform-account", identifier: actor, scope: [:],
                              detail: incident.type == .trainingData ? "the account that ran the anomalous training-data changes (\(incident.id)); the logs show the account, not the person" : "acted in \(incident.id)",
                              outcome: "acted", evidence: nil))
                }
            }
        }
        return order.compactMap { found[$0] }
    }

    package static func awsUser(_ principal: String) -> (account: String, name: String)? {
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[5].hasPrefix("user/") else { return nil }
        return (String(parts[4]), String(parts[5].split(separator: "/").last ?? ""))
    }

    package static func awsAssumedRole(_ principal: String) -> (account: String, role: String, session: String)? {
        let parts = principal.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sts", parts[5].hasPrefix("assumed-role/") else { return nil }
        let names = parts[5].split(separator: "/")
        guard names.count >= 3 else { return nil }
        return (String(parts[4]), String(names[1]), String(names[2]))
    }

    /// Azure Storage's `identity.tokenHash`: `key1(HASH)` for a request signed with account key 1,
    /// `key1(HASH),SasSignature(…)` for a SAS signed with it.
    package static func azureKey(_ principal: String) -> (slot: String, hash: String, sas: Bool)? {
        guard principal.hasPrefix("key"), let open = principal.firstIndex(of: "("), let close = principal.firstIndex(of: ")"), open < close else { return nil }
        let slot = String(principal[..<open])
        guard slot.count == 4, slot.last?.isNumber == true else { return nil }
        return (slot, String(principal[principal.index(after: open)..<close]), principal.contains("SasSignature("))
    }

    package static func serviceAccount(_ principal: String) -> (namespace: String, name: String)? {
        let parts = principal.split(separator: ":")
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else { return nil }
        return (String(parts[2]), String(parts[3]))
    }

    /// `AKIA…`/`ASIA…` access key ids in a text (20 characters, upper case and digits).
    package static func awsAccessKeyIDs(in text: String) -> [String] {
        let characters = Array(text.utf8)
        var result: [String] = []
        var index = 0
        while index + 20 <= characters.count {
            let prefix = String(decoding: characters[index..<index + 4], as: UTF8.self)
            if prefix == "AKIA" || prefix == "ASIA",
               characters[index + 4..<index + 20].allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }),
               index == 0 || !isWordByte(characters[index - 1]), index + 20 == characters.count || !isWordByte(characters[index + 20]) {
                let id = String(decoding: characters[index..<index + 20], as: UTF8.self)
                if !result.contains(id) { result.append(id) }
                index += 20
            } else {
                index += 1
            }
        }
        return result
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
}
