import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `stix.json`: the case as one STIX 2.1 bundle, for a threat-intelligence platform (MISP, OpenCTI).
///
/// | object | from |
/// |---|---|
/// | `identity` | Fathom, the producer (`created_by_ref` of every object it made) |
/// | `incident` | each incident of the analysis: title, summary and impact window, its type as a label |
/// | `indicator` | each attacker address (`ipv4-addr`/`ipv6-addr`), network (`ISSUBSET`), API key id (masked: `LIKE` its prefix and last four characters) and principal (`user-account`) the analysis names |
/// | `attack-pattern` | each MITRE ATLAS technique of an incident or a rule that fired |
/// | `software` | the compromised dependency of a supply-chain incident (name and version; the purl is in the relationship's description) and the models involved |
/// | `relationship` | indicator `indicates` attack pattern; indicator, attack pattern and software `related-to` incident; model `related-to` dependency (with the dependency path) |
/// | `report` | the case, referring to every other object |
///
/// Ids are name-based UUIDs (v5) of what the object is (case, incident id, indicator value), the
/// `software` ids as STIX §2.9 defines them for observables, so a re-export replaces rather than
/// duplicates. Times come from the evidence (first and last seen, the data's end), never the
/// clock; objects that describe ATLAS (and the producer) carry the ATLAS release's time, so they
/// are the same bytes in every case.
package struct STIXExport {
    package static let fileName = "stix.json"

    package let context: ExportContext
    package init(_ context: ExportContext) { self.context = context }

    private var caseID: String { context.result.caseInfo.id }

    package func render() throws -> String {
        var objects: [String: ExportJSON] = [:]
        func add(_ object: ExportJSON) {
            if case let .string(id)? = object.members["id"] { objects[id] = object }
        }
        let producer = "identity--" + NameBasedUUID.v5("stix|identity|fathom")
        add(.object([
            "type": .string("identity"), "spec_version": .string("2.1"), "id": .string(producer),
            "created": .string(ATLAS.releaseTime), "modified": .string(ATLAS.releaseTime),
            "name": .string("Fathom"), "identity_class": .string("system"),
            "description": .string("Offline forensic analyzer for AI/ML security incidents."),
        ]))
        let dataEnd = ExportTime.rfc3339(context.dataEnd, digits: 3)

        // ATLAS techniques: of the incidents and of the rules that fired.
        var techniques = Set(context.result.incidents.flatMap(\.atlas))
        for rule in context.result.rules where rule.hits > 0 { techniques.formUnion(rule.atlas) }
        for hit in context.hits { techniques.formUnion(hit.atlas) }
        var patternIDs: [String: String] = [:]
        for id in techniques.sorted() {
            let stixID = "attack-pattern--" + NameBasedUUID.v5("stix|attack-pattern|" + id)
            patternIDs[id] = stixID
            let technique = ATLAS.technique(id)
            add(.fields([
                "type": .string("attack-pattern"), "spec_version": .string("2.1"), "id": .string(stixID),
                "created": .string(ATLAS.releaseTime), "modified": .string(ATLAS.releaseTime),
                "created_by_ref": .string(producer),
                "name": .string(technique?.name ?? id),
                // No URL: a reference with a URL should carry the page's hash, which an offline
                // tool cannot take; platforms resolve ATLAS techniques by their id.
                "external_references": .array([.object(["source_name": .string("mitre-atlas"), "external_id": .string(id)])]),
                "kill_chain_phases": Self.killChain(technique.map { [$0] } ?? []),
            ]))
        }

        // Incidents.
        var incidentIDs: [String: String] = [:]
        var incidentTimes: [String: String] = [:]
        for incident in context.result.incidents {
            let stixID = "incident--" + NameBasedUUID.v5("stix|incident|" + caseID + "|" + incident.id)
            incidentIDs[incident.id] = stixID
            let start = incident.window.start.time
            let end = incident.window.end?.time
            let created = start.map { ExportTime.rfc3339($0, digits: 3) } ?? dataEnd
            let modified = max(created, end.map { ExportTime.rfc3339($0, digits: 3) } ?? created)
            incidentTimes[incident.id] = created
            var description = context.text(incident.summary)
            description += " Type: " + incident.type.title + "."
            description += " First evidence: " + (start.map { $0.rfc3339 + " (" + context.text(incident.window.start.description) + ")" }
                ?? context.text(incident.window.start.description)) + "."
            if let endEdge = incident.window.end {
                description += " Last evidence: " + (endEdge.time?.rfc3339 ?? "not determinable") + " (" + context.text(endEdge.description) + ")."
            } else if incident.window.ongoing {
                description += " Ongoing at the end of the data."
            }
            add(.fields([
                "type": .string("incident"), "spec_version": .string("2.1"), "id": .string(stixID),
                "created": .string(created), "modified": .string(modified), "created_by_ref": .string(producer),
                "name": .string(context.text(incident.title)),
                "description": .string(description),
                "labels": .array([.string(incident.type.rawValue)]),
                "external_references": .array([.object(["source_name": .string("fathom"),
                                                        "external_id": .string(caseID + "/" + incident.id)])]),
            ]))
            for technique in incident.atlas {
                guard let pattern = patternIDs[technique] else { continue }
                add(relationship(from: stixID, type: "related-to", to: pattern, created: created, producer: producer))
            }
        }

        // Indicators.
        for indicator in indicators() {
            let stixID = "indicator--" + NameBasedUUID.v5("stix|indicator|" + caseID + "|" + indicator.category.rawValue + "|" + indicator.value)
            let validFrom = ExportTime.rfc3339(indicator.firstSeen ?? context.dataEnd, digits: 3)
            add(.fields([
                "type": .string("indicator"), "spec_version": .string("2.1"), "id": .string(stixID),
                "created": .string(validFrom), "modified": .string(validFrom), "created_by_ref": .string(producer),
                "name": .string(indicator.name(context)),
                "description": .string(indicator.description(context)),
                "indicator_types": .array([.string(indicator.isMalicious ? "malicious-activity" : "compromised")]),
                "pattern": .string(indicator.pattern(context)),
                "pattern_type": .string("stix"),
                "valid_from": .string(validFrom),
            ]))
            for incident in indicator.incidents.sorted() {
                guard let target = incidentIDs[incident] else { continue }
                add(relationship(from: stixID, type: "related-to", to: target, created: validFrom, producer: producer))
                for technique in context.result.incidents.first(where: { $0.id == incident })?.atlas ?? [] {
                    guard let pattern = patternIDs[technique] else { continue }
                    add(relationship(from: stixID, type: "indicates", to: pattern, created: validFrom, producer: producer))
                }
            }
        }

        // The compromised dependency and the models involved.
        var modelIDs: [String: String] = [:]
        func model(_ name: String) -> String {
            if let id = modelIDs[name] { return id }
            let software = Self.software(name: context.text(name), version: nil)
            modelIDs[name] = software.id
            add(software.object)
            return software.id
        }
        for incident in context.result.incidents {
            guard let incidentID = incidentIDs[incident.id] else { continue }
            let created = incidentTimes[incident.id] ?? dataEnd
            for name in incident.models.sorted() {
                add(relationship(from: model(name), type: "related-to", to: incidentID, created: created, producer: producer,
                                 description: "model involved in " + incident.id))
            }
            guard let dependency = incident.dependency else { continue }
            let component = Self.component(dependency)
            let software = Self.software(name: context.text(component.name), version: component.version.map(context.text))
            add(software.object)
            add(relationship(from: software.id, type: "related-to", to: incidentID, created: created, producer: producer,
                             description: "compromised dependency " + context.text(dependency) + ", named in the case file"))
            for name in incident.models.sorted() {
                let paths = context.result.integrity.filter { $0.kind == "dependency-match" && $0.subject == name }
                    .map { context.text($0.detail) + " (" + context.text($0.evidence) + ")" }
                add(relationship(from: model(name), type: "related-to", to: software.id, created: created, producer: producer,
                                 description: paths.isEmpty ? "depends on " + context.text(dependency) : paths.joined(separator: "; ")))
            }
        }

        // The report that ties them together.
        let refs = objects.keys.sorted()
        let reportID = "report--" + NameBasedUUID.v5("stix|report|" + caseID)
        let types = context.result.flowchart.incidentTypes.isEmpty ? context.result.incidents.map(\.type) : context.result.flowchart.incidentTypes
        add(.fields([
            "type": .string("report"), "spec_version": .string("2.1"), "id": .string(reportID),
            "created": .string(dataEnd), "modified": .string(dataEnd), "created_by_ref": .string(producer),
            "name": .string("Fathom case " + caseID + ": " + context.text(context.result.caseInfo.title)),
            "description": .string("Incident types: " + (types.isEmpty ? "not determined" : Array(Set(types)).sorted().map(\.title).joined(separator: "; "))
                + ". Evidence from " + (context.result.provenance.dataStart?.rfc3339 ?? "unknown") + " to "
                + (context.result.provenance.dataEnd?.rfc3339 ?? "unknown") + "; inputs hash " + context.result.provenance.inputsHash + "."),
            "report_types": .array([.string("threat-report")]),
            "published": .string(dataEnd),
            "object_refs": .array(refs.map { .string($0) }),
            "external_references": .array([.object(["source_name": .string("fathom"), "external_id": .string(caseID)])]),
        ]))
        let bundle: ExportJSON = .object([
            "type": .string("bundle"),
            "id": .string("bundle--" + NameBasedUUID.v5("stix|bundle|" + caseID)),
            "objects": .array(objects.keys.sorted().compactMap { objects[$0] }),
        ])
        return try bundle.document()
    }

    private func relationship(from source: String, type: String, to target: String, created: String, producer: String,
                              description: String? = nil) -> ExportJSON {
        .fields([
            "type": .string("relationship"), "spec_version": .string("2.1"),
            "id": .string("relationship--" + NameBasedUUID.v5("stix|relationship|" + caseID + "|" + source + "|" + type + "|" + target)),
            "created": .string(created), "modified": .string(created), "created_by_ref": .string(producer),
            "relationship_type": .string(type), "source_ref": .string(source), "target_ref": .string(target),
            "description": ExportJSON.text(description),
        ])
    }

    /// ATLAS tactics as STIX kill-chain phases (`mitre-atlas`, the tactic name in lower case with
    /// hyphens), sorted, without repetitions; nil when there are none.
    private static func killChain(_ techniques: [ATLAS.Technique]) -> ExportJSON? {
        let phases = Set(techniques.flatMap(\.tactics).compactMap(ATLAS.tacticName).map { name in
            name.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "-")
        })
        guard !phases.isEmpty else { return nil }
        return .array(phases.sorted().map { .object(["kill_chain_name": .string("mitre-atlas"), "phase_name": .string($0)]) })
    }

    /// A `software` observable with its id made as STIX §2.9 says: a UUIDv5, in the observables'
    /// namespace, of the canonical JSON of its id-contributing properties (name, version).
    package static func software(name: String, version: String?) -> (id: String, object: ExportJSON) {
        var contributing: [String: ExportJSON] = ["name": .string(name)]
        if let version { contributing["version"] = .string(version) }
        let canonical = (try? ExportJSON.object(contributing).line()) ?? name
        let id = "software--" + NameBasedUUID.v5(canonical, namespace: NameBasedUUID.stixObservables)
        var object = contributing
        object["type"] = .string("software")
        object["spec_version"] = .string("2.1")
        object["id"] = .string(id)
        return (id, .object(object))
    }

    /// Name and version of a component as the case file names it: a purl
    /// (`pkg:pypi/torchtriton@2.0.0`, namespace, qualifiers and subpath dropped) or `NAME@VERSION`.
    package static func component(_ text: String) -> (name: String, version: String?) {
        var rest = Substring(text)
        if rest.hasPrefix("pkg:") {
            rest = rest.dropFirst(4)
            if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
            if let slash = rest.lastIndex(of: "/") { rest = rest[rest.index(after: slash)...] }
        }
        guard let at = rest.lastIndex(of: "@"), at != rest.startIndex else { return (String(rest).removingPercentEncoding ?? String(rest), nil) }
        let name = String(rest[..<at])
        let version = String(rest[rest.index(after: at)...])
        return (name.removingPercentEncoding ?? name, version.isEmpty ? nil : (version.removingPercentEncoding ?? version))
    }

    // MARK: Indicators

    /// What an indicator points at.
    package enum Category: String, Sendable {
        case address, network, apiKey = "api-key", principal
    }

    /// One attacker identity the analysis names, merged over the incidents and attackers that name it.
    package struct Indicator {
        var category: Category
        var value: String
        var isMalicious: Bool
        var incidents: Set<String> = []
        var firstSeen: Timestamp?
        var lastSeen: Timestamp?
        var queries: Int64?

        func name(_ context: ExportContext) -> String {
            switch category {
            case .address: "Attacker address " + value
            case .network: "Attacker network " + value
            case .apiKey: "API key id " + context.identity(value) + " (masked)"
            case .principal: "Principal " + context.identity(value)
            }
        }

        func description(_ context: ExportContext) -> String {
            var parts: [String] = []
            if !incidents.isEmpty { parts.append("Named by " + incidents.sorted().joined(separator: ", ") + " of case " + context.result.caseInfo.id + ".") }
            if let firstSeen, let lastSeen { parts.append("Seen from " + firstSeen.rfc3339 + " to " + lastSeen.rfc3339 + ".") }
            if let queries { parts.append(String(queries) + " model API queries.") }
            if category == .apiKey { parts.append("The key id is masked: the pattern matches its type prefix and last four characters.") }
            if !isMalicious { parts.append("A principal responsible for a change to the model or its data: possibly compromised, to be confirmed.") }
            return parts.joined(separator: " ")
        }

        func pattern(_ context: ExportContext) -> String {
            switch category {
            case .address:
                return "[" + (IPText.isIPv4(value) ? "ipv4-addr" : "ipv6-addr") + ":value = " + STIXExport.literal(value) + "]"
            case .network:
                let address = String(value.split(separator: "/").first ?? "")
                return "[" + (IPText.isIPv4(address) ? "ipv4-addr" : "ipv6-addr") + ":value ISSUBSET " + STIXExport.literal(value) + "]"
            case .apiKey:
                let masked = context.identity(value)
                let head = String(masked.prefix { $0 != "*" })
                let tail = String(masked.reversed().prefix { $0 != "*" }.reversed())
                return "[user-account:account_login LIKE " + STIXExport.literal(head + "%" + tail) + "]"
            case .principal:
                return "[user-account:account_login = " + STIXExport.literal(context.identity(value)) + "]"
            }
        }
    }

    /// A STIX pattern string literal: quoted, `\` and `'` escaped.
    package static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// Every attacker address, network, API key id and principal the analysis names: the
    /// extraction attackers and the actors of every incident, sorted by category and value.
    package func indicators() -> [Indicator] {
        var found: [String: Indicator] = [:]
        func note(_ value: String, incident: String?, first: Timestamp?, last: Timestamp?, queries: Int64? = nil, malicious: Bool) {
            guard !value.isEmpty else { return }
            let category: Category = IPText.isAddress(value) ? .address : IPText.isNetwork(value) ? .network
                : context.isAPIKey(value) ? .apiKey : .principal
            let key = category.rawValue + "|" + value
            // Malicious once any incident or attacker list calls it so.
            var indicator = found[key] ?? Indicator(category: category, value: value, isMalicious: malicious)
            indicator.isMalicious = indicator.isMalicious || malicious
            if let incident { indicator.incidents.insert(incident) }
            if let first { indicator.firstSeen = min(indicator.firstSeen ?? first, first) }
            if let last { indicator.lastSeen = max(indicator.lastSeen ?? last, last) }
            if let queries { indicator.queries = max(indicator.queries ?? 0, queries) }
            found[key] = indicator
        }
        let extraction = context.result.incidents.first { $0.type == .extraction && !$0.actors.isEmpty && $0.ruleHits.keys.contains { $0.hasPrefix("extraction") } }
        for attacker in context.result.extraction?.attackers ?? [] {
            let incident = context.result.incidents.first { $0.actors.contains(attacker.identity) }?.id ?? extraction?.id
            note(attacker.identity, incident: incident, first: attacker.firstSeen, last: attacker.lastSeen,
                 queries: attacker.identityType == "src_ip" || attacker.addresses.count == 1 ? attacker.queries : nil, malicious: true)
            for address in attacker.addresses where address != attacker.identity {
                note(address, incident: incident, first: attacker.firstSeen, last: attacker.lastSeen, malicious: true)
            }
            for principal in attacker.principals where principal != attacker.identity {
                note(principal, incident: incident, first: attacker.firstSeen, last: attacker.lastSeen, malicious: true)
            }
        }
        for incident in context.result.incidents {
            // Who changed the model or its data may be an insider or a stolen account: compromised,
            // not malicious, until a person confirms.
            let malicious = incident.type != .modelBehaviour && incident.type != .trainingData
            for actor in incident.actors {
                note(actor, incident: incident.id, first: incident.window.start.time, last: incident.window.end?.time, malicious: malicious)
            }
        }
        return found.values.sorted { ($0.category.rawValue, $0.value) < ($1.category.rawValue, $1.value) }
    }
}
