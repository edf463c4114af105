import FathomStore
import Foundation
import Yams
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// What a person knows about the case that logs cannot tell, from `--case-file case.yaml`.
/// Everything is optional; a first run needs none of it.
///
/// ```yaml
/// id: IR-2026-0042
/// title: Fraud model poisoning and extraction
/// classification: CONFIDENTIAL
/// awareness_time: 2026-03-04T08:15:00Z
/// internal_networks: [10.0.0.0/8, 192.168.0.0/16]
/// compromised:
///   model: fraud-detector
///   version: v13
///   dependency: pkg:pypi/torchtriton@2.0.0
///   deployed_at: 2026-03-03T06:14:45Z   # optional: when the logs hold no deploy of the version
///   removed_at: 2026-03-04T09:36:00Z
/// models:
///   - name: fraud-detector
///     business_function: card fraud scoring
///     daily_volume: 250000
///     data_type: card transactions (PCI)
///     safety_critical: false
///     customer_facing: true
///     deployment: fraud-detector
///     namespace: ml-prod
/// inventory: sbom          # folder of SBOMs / requirements files, relative to this file
/// contacts: {incident_lead: "…", dpo: "…"}
/// human:                    # fields only a person can fill; empty ones block `report --final`
///   estimated_resolution: ""
///   legal_determination: ""
/// containment:
///   - time: 2026-03-04T09:36:00Z
///     action: rolled back fraud-detector to v12
/// known_clients:            # flagged heavy clients a person vouches for (not counted as attackers)
///   - address: 10.20.30.40  # or network: 10.20.0.0/16, or principal: <key or account>
///     reason: nightly re-scoring job of fraud operations
/// entity: credit institution   # for the regulatory judgement (regimes.json)
/// sector: banking
/// jurisdictions: [EU]          # where the organisation is established / operates
/// listed: [EU]                 # where its securities are listed (US: SEC registrant)
/// data_subjects_resident_in: [EU]
/// custody:                     # chain of custody, for evidence.md
///   collector: "…"
///   acquired_at: 2026-03-04T11:00:00Z
///   examiner: "…"
///   source: "…"                # where the evidence came from
///   storage: "…"               # where the originals are kept
/// ```
///
/// Per model, `annex_iii: "5(b)"` (or `none`) names the EU AI Act Annex III entry when a person knows it.
public struct CaseFile: Sendable, Equatable {
    public struct Containment: Sendable, Equatable {
        public var time: Timestamp
        public var action: String
    }

    /// A client a person vouches for: flagged by the volume rules, but not an attacker.
    public struct KnownClient: Sendable, Equatable {
        /// "src_ip" | "network" | "principal"
        public var type: String
        public var value: String
        public var reason: String

        public init(type: String, value: String, reason: String) {
            self.type = type
            self.value = value
            self.reason = reason
        }
    }

    public var id: String?
    public var title: String?
    public var classification: String?
    public var awarenessTime: Timestamp?
    public var internalNetworks: [String]?
    public var compromisedModel: String?
    public var compromisedVersion: String?
    public var compromisedDependency: String?
    /// When the compromised version went into service / out of it, when a person knows better than
    /// the logs (or the logs hold no deployment event).
    public var compromisedDeployedAt: Timestamp?
    public var compromisedRemovedAt: Timestamp?
    public var models: [ModelProfile] = []
    public var inventory: String?
    public var contacts: [String: String] = [:]
    public var human: [String: String] = [:]
    public var containment: [Containment] = []
    public var knownClients: [KnownClient] = []
    /// The organisation's facts for the regulatory judgement.
    public var entity: String?
    public var sector: String?
    public var jurisdictions: [String]?
    public var listed: [String]?
    public var dataSubjectsResidentIn: [String]?
    /// Chain of custody of the evidence (`custody:`), nil when the case file has none.
    public var custody: CustodyFacts?
    /// SHA-256 (lowercase hex) and size of the case file's bytes as read and parsed by ``load(path:)``.
    public var originSHA256: String?
    public var originSize: Int64?
    /// The file it was read from (relative paths inside resolve against its folder).
    public var origin: String?

    public init() {}

    public static func load(path: String) throws(AnalysisError) -> CaseFile {
        // The bytes parsed are the bytes hashed, so the evidence report's hash is of what was read.
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .caseFile(path: path, detail: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .caseFile(path: path, detail: "is not UTF-8 text")
        }
        var file = try CaseFile(yaml: text, origin: path)
        file.origin = path
        var hasher = SHA256Stream()
        data.withByteView { hasher.update($0) }
        file.originSHA256 = hasher.finalize()
        file.originSize = Int64(data.count)
        return file
    }

    public init(yaml: String, origin: String) throws(AnalysisError) {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw .caseFile(path: origin, detail: "not valid YAML: \(error)")
        }
        guard let root = node?.mapping else { throw .caseFile(path: origin, detail: "expected a mapping at the top level") }
        func line(_ node: Node) -> Int { (node.mark?.line ?? 0) }
        for (keyNode, value) in root {
            guard let key = keyNode.string else { continue }
            switch key {
            case "id": id = value.string
            case "title": title = value.string
            case "classification": classification = value.string
            case "awareness_time":
                guard let text = value.string, let time = Timestamp(rfc3339: text) else {
                    throw .caseFile(path: origin, detail: "line \(line(value)): awareness_time must be an RFC 3339 time with its zone (Z or an offset)")
                }
                awarenessTime = time
            case "internal_networks": internalNetworks = value.sequence?.compactMap(\.string)
            case "inventory": inventory = value.string
            case "compromised":
                guard let mapping = value.mapping else {
                    throw .caseFile(path: origin, detail: "line \(line(value)): compromised must be a mapping")
                }
                compromisedModel = mapping["model"]?.string
                compromisedVersion = mapping["version"]?.string
                compromisedDependency = mapping["dependency"]?.string
                for (field, target) in [("deployed_at", \CaseFile.compromisedDeployedAt), ("removed_at", \CaseFile.compromisedRemovedAt)] {
                    guard let node = mapping[field] else { continue }
                    guard let text = node.string, let time = Timestamp(rfc3339: text) else {
                        throw .caseFile(path: origin, detail: "line \(line(node)): compromised.\(field) must be an RFC 3339 time with its zone (Z or an offset)")
                    }
                    self[keyPath: target] = time
                }
            case "models":
                for item in value.sequence ?? [] {
                    guard let model = item.mapping, let name = model["name"]?.string else {
                        throw .caseFile(path: origin, detail: "line \(line(item)): each model needs a name")
                    }
                    models.append(ModelProfile(
                        name: name, businessFunction: model["business_function"]?.string,
                        dailyVolume: model["daily_volume"]?.int, dataType: model["data_type"]?.string,
                        safetyCritical: model["safety_critical"]?.bool, customerFacing: model["customer_facing"]?.bool,
                        inProduction: model["in_production"]?.bool, deployment: model["deployment"]?.string,
                        namespace: model["namespace"]?.string, annexIII: model["annex_iii"]?.string))
                }
            case "contacts":
                for (name, contact) in value.mapping ?? [:] {
                    if let name = name.string { contacts[name] = contact.string ?? "" }
                }
            case "human":
                for (name, field) in value.mapping ?? [:] {
                    if let name = name.string { human[name] = field.string ?? "" }
                }
            case "containment":
                for item in value.sequence ?? [] {
                    guard let entry = item.mapping, let time = entry["time"]?.string, let parsed = Timestamp(rfc3339: time),
                          let action = entry["action"]?.string else {
                        throw .caseFile(path: origin, detail: "line \(line(item)): containment entries need time and action")
                    }
                    containment.append(Containment(time: parsed, action: action))
                }
            case "known_clients":
                for item in value.sequence ?? [] {
                    guard let entry = item.mapping else {
                        throw .caseFile(path: origin, detail: "line \(line(item)): each known client is a mapping")
                    }
                    let named = [("address", "src_ip"), ("network", "network"), ("principal", "principal")]
                        .compactMap { field, type in entry[field]?.string.map { (type, $0) } }
                    guard named.count == 1, let (type, identity) = named.first, !identity.isEmpty else {
                        throw .caseFile(path: origin, detail: "line \(line(item)): a known client names exactly one of address, network or principal")
                    }
                    knownClients.append(KnownClient(type: type, value: identity,
                                                    reason: entry["reason"]?.string ?? "vouched for in the case file"))
                }
            case "entity": entity = value.string
            case "sector": sector = value.string
            case "jurisdictions", "listed", "data_subjects_resident_in":
                // One value or a list of them.
                let list = value.sequence.map { $0.compactMap(\.string) } ?? value.string.map { [$0] }
                guard let list else {
                    throw .caseFile(path: origin, detail: "line \(line(value)): \(key) must be a name or a list of names (e.g. [EU, US])")
                }
                switch key {
                case "jurisdictions": jurisdictions = list
                case "listed": listed = list
                default: dataSubjectsResidentIn = list
                }
            case "custody":
                guard let mapping = value.mapping else {
                    throw .caseFile(path: origin, detail: "line \(line(value)): custody must be a mapping")
                }
                var facts = CustodyFacts()
                for (fieldNode, field) in mapping {
                    let name = fieldNode.string ?? ""
                    let text = field.string.flatMap { $0.isEmpty ? nil : $0 }
                    switch name {
                    case "collector": facts.collector = text
                    case "examiner": facts.examiner = text
                    case "source": facts.source = text
                    case "storage": facts.storage = text
                    case "acquired_at":
                        guard let text else { continue }
                        guard let time = Timestamp(rfc3339: text) else {
                            throw .caseFile(path: origin, detail: "line \(line(field)): custody.acquired_at must be an RFC 3339 time with its zone (Z or an offset)")
                        }
                        facts.acquiredAt = time
                    default:
                        throw .caseFile(path: origin, detail: "line \(line(fieldNode)): unknown key 'custody.\(name)' (expected collector, acquired_at, examiner, source, storage)")
                    }
                }
                custody = facts
            default:
                throw .caseFile(path: origin, detail: "line \(line(keyNode)): unknown key '\(key)'")
            }
        }
    }

    public func model(named name: String) -> ModelProfile? { models.first { $0.name == name } }
}

/// Errors of the analysis layer.
public enum AnalysisError: Error, Sendable, CustomStringConvertible {
    case caseFile(path: String, detail: String)
    case ingest(IngestError)
    case scan(String)
    case output(path: String, detail: String)

    public var description: String {
        switch self {
        case let .caseFile(path, detail): "Case file '\(path)': \(detail)."
        case let .ingest(error): error.description
        case let .scan(detail): detail
        case let .output(path, detail): "Cannot write '\(path)': \(detail)."
        }
    }
}
