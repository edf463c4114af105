import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `ocsf.jsonl`: every hit as an OCSF Detection Finding (class 2004), one JSON object per line,
/// each preceded (once) by the event that triggered it in its own OCSF class where one fits.
///
/// | source kind | evidence event class | written when the row has |
/// |---|---|---|
/// | `inference` (model API access) | HTTP Activity (4002) | a client address or a path |
/// | `storage` (object storage access) | Datastore Activity (6005), `databucket` | a principal and a client address |
/// | `llm` (LLM gateway) | API Activity (6003), operation `prompt` | a principal and a client address |
/// | `audit` (control plane) | API Activity (6003), operation = the action | a principal and a client address |
///
/// Aggregate hits (a volume per address and hour, a burst per user and day) have no single event:
/// their finding cites the first and last event. Registry, pipeline and decision rows fit no OCSF
/// activity class whose required fields they can fill honestly, so their findings stand alone.
/// A finding names its evidence events in `finding_info.related_events`, its rule in
/// `finding_info.analytic`, its MITRE ATLAS techniques in `finding_info.attacks` and the evidence
/// line in `evidences[].data`. Times are milliseconds since the epoch (`timestamp_t`).
package struct OCSFExport {
    /// The OCSF schema version the output follows (and is validated against).
    package static let schemaVersion = "1.7.0"
    package static let fileName = "ocsf.jsonl"

    package let context: ExportContext
    package init(_ context: ExportContext) { self.context = context }

    package func render() throws -> String {
        var lines: [String] = []
        var written = Set<String>()
        for hit in context.hits {
            var related: [ExportJSON] = []
            if let event = evidenceEvent(hit) {
                let uid = event.members["metadata"]?.members["uid"] ?? .null
                if case let .string(id) = uid, written.insert(id).inserted { lines.append(try event.line()) }
                related.append(.fields(["uid": uid, "type_uid": event.members["type_uid"],
                                        "type_name": event.members["type_name"],
                                        "product_uid": .string("fathom")]))
            }
            lines.append(try finding(hit, related: related).line())
        }
        return lines.map { $0 + "\n" }.joined()
    }

    // MARK: The finding

    private func finding(_ hit: Hit, related: [ExportJSON]) -> ExportJSON {
        let (severityID, severity) = Self.severity(hit.level)
        let first = hit.evidence.first?.time ?? hit.window?.start ?? hit.time ?? context.dataEnd
        let last = hit.evidence.last?.time ?? hit.window?.end
        let uid = NameBasedUUID.v5("ocsf-finding|" + context.result.caseInfo.id + "|" + Self.identity(of: hit))
        var info: [String: ExportJSON] = [
            "uid": .string(uid),
            "title": .string(context.text(hit.title)),
            "desc": .string(message(hit)),
            "analytic": .fields(["uid": .string(hit.rule), "name": .string(context.text(hit.title)),
                                 "type_id": .integer(1), "type": .string("Rule")]),
            "attacks": .array(hit.atlas.map(Self.attack)),
            "data_sources": .array(Self.archives(hit).map { .string(context.text($0)) }),
            "types": .array([.string(hit.kind.rawValue)]),
        ]
        if hit.window != nil {
            info["first_seen_time"] = .integer(ExportTime.milliseconds(first))
            if let last { info["last_seen_time"] = .integer(ExportTime.milliseconds(last)) }
        }
        if !related.isEmpty { info["related_events"] = .array(related) }
        var finding = base(classUID: 2004, className: "Detection Finding", categoryUID: 2, categoryName: "Findings",
                           activity: (1, "Create"), time: hit.time ?? first, severity: (severityID, severity))
        finding["metadata"] = metadata(uid: uid, logName: "fathom findings")
        finding["finding_info"] = .object(info)
        finding["message"] = .string(context.text(hit.title) + ": " + message(hit))
        finding["status_id"] = .integer(1)
        finding["status"] = .string("New")
        finding["is_alert"] = .bool(severityID >= 4)
        if hit.window != nil {
            finding["start_time"] = .integer(ExportTime.milliseconds(first))
            if let last { finding["end_time"] = .integer(ExportTime.milliseconds(last)) }
        }
        finding["evidences"] = .array([evidenceArtifacts(hit)])
        let observables = self.observables(hit)
        if !observables.isEmpty { finding["observables"] = .array(observables) }
        finding["unmapped"] = .fields([
            "case": .string(context.result.caseInfo.id), "rule": .string(hit.rule), "kind": .string(hit.kind.rawValue),
            "key": context.values(hit.key), "metrics": context.values(hit.metrics),
        ])
        return .object(finding)
    }

    /// The finding's one-line description: the key and the metrics, masked.
    private func message(_ hit: Hit) -> String {
        var text = hit.key.keys.sorted().map { name in name + "=" + context.text(hit.key[name]?.description ?? "") }
            .joined(separator: " ")
        let metrics = hit.metrics.keys.sorted().map { name in name + "=" + context.text(hit.metrics[name]?.description ?? "") }
        if !metrics.isEmpty { text += (text.isEmpty ? "" : " ") + "(" + metrics.joined(separator: ", ") + ")" }
        return text
    }

    /// What the finding's evidence is: the event's artefacts and citation, or the key of an
    /// aggregate with its first and last event.
    private func evidenceArtifacts(_ hit: Hit) -> ExportJSON {
        var evidence: [String: ExportJSON] = [:]
        let source = hit.fields?.dictionary ?? hit.key
        if case let .string(address)? = source["src_ip"], IPText.isAddress(address) {
            evidence["src_endpoint"] = .object(["ip": .string(address)])
        }
        if case let .string(principal)? = source["principal"], !principal.isEmpty {
            evidence["actor"] = .object(["user": .object(["name": .string(context.identity(principal))])])
        }
        if let ref = Self.event(hit) {
            evidence["data"] = context.evidence(ref)
        } else if let first = hit.evidence.first, let last = hit.evidence.last {
            evidence["data"] = .object(["first": context.evidence(first), "last": context.evidence(last)])
        } else {
            evidence["data"] = .object([:])
        }
        return .object(evidence)
    }

    private func observables(_ hit: Hit) -> [ExportJSON] {
        var result: [ExportJSON] = []
        let source = hit.fields?.dictionary ?? hit.key
        if case let .string(address)? = source["src_ip"], IPText.isAddress(address) {
            result.append(.object(["name": .string("evidences.src_endpoint.ip"), "type_id": .integer(2),
                                   "type": .string("IP Address"), "value": .string(address)]))
        }
        if case let .string(network)? = hit.key["network"], IPText.isNetwork(network) {
            result.append(.object(["name": .string("unmapped.key.network"), "type_id": .integer(12),
                                   "type": .string("Subnet"), "value": .string(network)]))
        }
        if case let .string(principal)? = source["principal"], !principal.isEmpty {
            result.append(.object(["name": .string("evidences.actor.user.name"), "type_id": .integer(4),
                                   "type": .string("User Name"), "value": .string(context.identity(principal))]))
        }
        return result
    }

    /// An ATLAS technique id as an OCSF `attack`: technique (and sub-technique) with its tactics.
    package static func attack(_ id: String) -> ExportJSON {
        guard let technique = ATLAS.technique(id) else {
            return .object(["technique": .object(["uid": .string(id)]), "version": .string(ATLAS.version)])
        }
        var attack: [String: ExportJSON] = ["version": .string(ATLAS.version)]
        func entry(_ technique: ATLAS.Technique) -> ExportJSON {
            .object(["uid": .string(technique.id), "name": .string(technique.name), "src_url": .string(technique.url)])
        }
        if let parentID = technique.parent {
            attack["sub_technique"] = entry(technique)
            attack["technique"] = ATLAS.technique(parentID).map(entry) ?? .object(["uid": .string(parentID)])
        } else {
            attack["technique"] = entry(technique)
        }
        let tactics: [ExportJSON] = technique.tactics.map { tactic in
            .fields(["uid": .string(tactic), "name": ExportJSON.text(ATLAS.tacticName(tactic)),
                     "src_url": .string(ATLAS.tacticURL(tactic))])
        }
        if !tactics.isEmpty { attack["tactics"] = .array(tactics) }
        return .object(attack)
    }

    // MARK: The evidence event

    /// The hit's event in its own OCSF class, or nil when it has none (aggregates, kinds no
    /// class fits, rows without the fields the class requires).
    private func evidenceEvent(_ hit: Hit) -> ExportJSON? {
        guard let fields = hit.fields?.dictionary, let ref = Self.event(hit), let time = hit.time else { return nil }
        func string(_ name: String) -> String? {
            guard case let .string(value)? = fields[name], !value.isEmpty, value != "-" else { return nil }
            return value
        }
        func integer(_ name: String) -> Int64? {
            switch fields[name] {
            case let .int(value)?: value
            case let .double(value)? where value.isFinite && abs(value) < 9e15: Int64(value)
            default: nil
            }
        }
        let address = string("src_ip").flatMap { IPText.isAddress($0) ? $0 : nil }
        let uid = NameBasedUUID.v5("ocsf-event|" + Self.citationKey(ref))
        let severity: (Int64, String) = (1, "Informational")
        var event: [String: ExportJSON]
        var unmapped: [String: ExportJSON] = ["evidence": context.evidence(ref)]
        switch hit.kind {
        case .inference:
            guard address != nil || string("path") != nil else { return nil }
            let method = string("method")?.uppercased()
            let activity = method.flatMap { Self.httpActivities[$0] } ?? (method == nil ? (0, "Unknown") : (99, "Other"))
            event = base(classUID: 4002, className: "HTTP Activity", categoryUID: 4, categoryName: "Network Activity",
                         activity: activity, time: time, severity: severity)
            var request: [String: ExportJSON] = [:]
            if let method, Self.httpActivities[method] != nil { request["http_method"] = .string(method) }
            if let path = string("path") {
                request["url"] = .fields(["path": .string(context.text(path)), "hostname": ExportJSON.text(string("host").map(context.text))])
            }
            if let agent = string("user_agent") { request["user_agent"] = .string(context.text(agent)) }
            if let referrer = string("referer") { request["referrer"] = .string(context.text(referrer)) }
            if !request.isEmpty { event["http_request"] = .object(request) }
            if let status = integer("status") {
                event["http_response"] = .fields(["code": .integer(status), "latency": integer("latency_ms").map { .integer($0) },
                                                  "length": integer("bytes").map { .integer($0) }])
            }
            if let address { event["src_endpoint"] = .object(["ip": .string(address)]) }
            for name in ["principal", "model", "request_id"] {
                if let value = string(name) { unmapped[name] = .string(name == "principal" ? context.identity(value) : context.text(value)) }
            }
        case .storage:
            guard let address, let principal = string("principal") else { return nil }
            let activity = Self.datastoreActivities[string("action") ?? ""] ?? (99, "Other")
            event = base(classUID: 6005, className: "Datastore Activity", categoryUID: 6, categoryName: "Application Activity",
                         activity: activity, time: time, severity: severity)
            event["actor"] = .object(["user": .object(["name": .string(context.identity(principal))])])
            event["src_endpoint"] = .object(["ip": .string(address)])
            event["type_id"] = .integer(2)
            event["type"] = .string("Databucket")
            if let bucket = string("bucket") {
                let (typeID, type) = Self.bucketType(operation: string("operation") ?? "")
                event["databucket"] = .object(["name": .string(context.text(bucket)), "type_id": .integer(typeID), "type": .string(type)])
            }
            if let agent = string("user_agent") { event["http_request"] = .object(["user_agent": .string(context.text(agent))]) }
            if let status = integer("status") {
                event["http_response"] = .fields(["code": .integer(status), "length": integer("bytes").map { .integer($0) }])
            }
            for name in ["operation", "key"] {
                if let value = string(name) { unmapped[name] = .string(context.text(value)) }
            }
        case .llm:
            guard let address, let principal = string("principal") else { return nil }
            event = base(classUID: 6003, className: "API Activity", categoryUID: 6, categoryName: "Application Activity",
                         activity: (99, "Other"), time: time, severity: severity)
            var actor: [String: ExportJSON] = ["user": .object(["name": .string(context.identity(principal))])]
            if let session = string("session") { actor["session"] = .object(["uid": .string(context.text(session))]) }
            event["actor"] = .object(actor)
            event["api"] = .fields(["operation": .string("prompt"),
                                    "service": string("model").map { .object(["name": .string(context.text($0))]) }])
            event["src_endpoint"] = .object(["ip": .string(address)])
            for name in ["prompt", "response", "system_prompt"] {
                if let value = string(name) { unmapped[name] = .string(context.text(value)) }
            }
        case .audit:
            guard let address, let principal = string("principal"), let action = string("action") else { return nil }
            event = base(classUID: 6003, className: "API Activity", categoryUID: 6, categoryName: "Application Activity",
                         activity: Self.apiActivity(action), time: time, severity: severity)
            event["actor"] = .object(["user": .object(["name": .string(context.identity(principal))])])
            event["api"] = .fields(["operation": .string(context.text(action)),
                                    "service": string("service").map { .object(["name": .string(context.text($0))]) }])
            event["src_endpoint"] = .object(["ip": .string(address)])
            if let agent = string("user_agent") { event["http_request"] = .object(["user_agent": .string(context.text(agent))]) }
            switch string("outcome")?.lowercased() {
            case "success"?, "succeeded"?, "ok"?: (event["status_id"], event["status"]) = (.integer(1), .string("Success"))
            case "failure"?, "failed"?, "denied"?, "error"?: (event["status_id"], event["status"]) = (.integer(2), .string("Failure"))
            default: break
            }
            for name in ["target", "source"] {
                if let value = string(name) { unmapped[name] = .string(context.text(value)) }
            }
        default:
            return nil
        }
        event["metadata"] = metadata(uid: uid, logName: context.text(ref.archive))
        event["unmapped"] = .object(unmapped)
        return .object(event)
    }

    // MARK: Shared pieces

    private func base(classUID: Int64, className: String, categoryUID: Int64, categoryName: String,
                      activity: (Int64, String), time: Timestamp, severity: (Int64, String)) -> [String: ExportJSON] {
        [
            "class_uid": .integer(classUID), "class_name": .string(className),
            "category_uid": .integer(categoryUID), "category_name": .string(categoryName),
            "activity_id": .integer(activity.0), "activity_name": .string(activity.1),
            "type_uid": .integer(classUID * 100 + activity.0), "type_name": .string(className + ": " + activity.1),
            "severity_id": .integer(severity.0), "severity": .string(severity.1),
            "time": .integer(ExportTime.milliseconds(time)),
        ]
    }

    private func metadata(uid: String, logName: String) -> ExportJSON {
        .object([
            "product": .object(["name": .string("Fathom"), "vendor_name": .string("Fathom"),
                                "version": .string(context.text(context.result.provenance.toolVersion))]),
            "version": .string(Self.schemaVersion),
            "uid": .string(uid),
            "correlation_uid": .string(context.result.caseInfo.id),
            "log_name": .string(logName),
        ])
    }

    /// OCSF severity of a rule level.
    package static func severity(_ level: String) -> (Int64, String) {
        switch level.lowercased() {
        case "informational", "info": (1, "Informational")
        case "low": (2, "Low")
        case "medium": (3, "Medium")
        case "high": (4, "High")
        case "critical": (5, "Critical")
        default: (0, "Unknown")
        }
    }

    private static let httpActivities: [String: (Int64, String)] = [
        "CONNECT": (1, "Connect"), "DELETE": (2, "Delete"), "GET": (3, "Get"), "HEAD": (4, "Head"),
        "OPTIONS": (5, "Options"), "POST": (6, "Post"), "PUT": (7, "Put"), "TRACE": (8, "Trace"), "PATCH": (9, "Patch"),
    ]

    /// The storage kind's normalised `action` → Datastore Activity.
    private static let datastoreActivities: [String: (Int64, String)] = [
        "read": (1, "Read"), "write": (5, "Write"), "delete": (7, "Delete"), "list": (8, "List"),
    ]

    /// A control-plane action by its verb (`CreateAccessKey`, `DeleteGuardrail`, `GetSecretValue`).
    private static func apiActivity(_ action: String) -> (Int64, String) {
        let verb = action.split(separator: ":").last.map(String.init) ?? action
        for (prefixes, activity) in [(["Create", "Put", "Add", "Register", "Attach"], (Int64(1), "Create")),
                                     (["Get", "Describe", "List", "Read", "Lookup"], (2, "Read")),
                                     (["Update", "Modify", "Set", "Change", "Stop", "Start", "Enable", "Disable"], (3, "Update")),
                                     (["Delete", "Remove", "Detach", "Deregister"], (4, "Delete"))]
        where prefixes.contains(where: { verb.lowercased().hasPrefix($0.lowercased()) }) {
            return activity
        }
        return (99, "Other")
    }

    /// The object store an operation name comes from: S3 (`REST.GET.OBJECT`, CloudTrail's
    /// `GetObject`), Azure Blob (`GetBlob`), GCS (`storage.objects.get`).
    private static func bucketType(operation: String) -> (Int64, String) {
        if operation.hasPrefix("REST.") || operation.hasSuffix("Object") { return (1, "S3") }
        if operation.contains("Blob") { return (2, "Azure Blob") }
        if operation.hasPrefix("storage.") { return (3, "GCP Bucket") }
        return (0, "Unknown")
    }

    /// The single event of an event hit.
    private static func event(_ hit: Hit) -> EvidenceRef? {
        guard let archive = hit.evidence.archive, let line = hit.evidence.line else { return nil }
        return EvidenceRef(archive: archive, member: hit.evidence.member ?? "", line: line, time: hit.time)
    }

    /// The archives a hit cites, sorted.
    private static func archives(_ hit: Hit) -> [String] {
        Array(Set([hit.evidence.archive, hit.evidence.first?.archive, hit.evidence.last?.archive].compactMap { $0 })).sorted()
    }

    private static func citationKey(_ ref: EvidenceRef) -> String {
        ref.archive + "\u{1F}" + ref.member + "\u{1F}" + String(ref.line)
    }

    /// What makes a hit itself: its rule, time or window, key and evidence.
    package static func identity(of hit: Hit) -> String {
        var parts = [hit.rule, hit.keyText, hit.time?.rfc3339 ?? "", hit.window.map { $0.start.rfc3339 + "/" + $0.end.rfc3339 } ?? ""]
        if let ref = event(hit) { parts.append(citationKey(ref)) }
        if let first = hit.evidence.first { parts.append(citationKey(first)) }
        if let last = hit.evidence.last { parts.append(citationKey(last)) }
        return parts.joined(separator: "|")
    }
}
