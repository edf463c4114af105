import FathomStore
import FathomSupport
import FathomCatalog

/// Kubernetes API server audit events, as deployment changes of model-serving workloads.
///
/// Specification: Kubernetes documentation, "Auditing" (https://kubernetes.io/docs/tasks/debug/debug-cluster/audit/,
/// sections "Audit policy" for stages and levels, "Audit backends" for the JSON Lines log
/// backend) and the API reference of `audit.k8s.io/v1` `Event`
/// (https://kubernetes.io/docs/reference/config-api/apiserver-audit.v1/#audit-k8s-io-v1-Event:
/// `verb`, `user`, `sourceIPs`, `objectRef`, `responseStatus`, `requestObject`,
/// `responseObject`, `requestReceivedTimestamp`, `stageTimestamp`). Three envelopes are read:
///
/// - native `audit.k8s.io/v1` Events, one per line (the log backend) or in a list;
/// - GKE Cloud Audit Logs entries (https://cloud.google.com/kubernetes-engine/docs/how-to/audit-logging):
///   `protoPayload.methodName` (`io.k8s.apps.v1.deployments.patch`), `resourceName`,
///   `authenticationInfo.principalEmail`, `requestMetadata.callerIp`, `request`, `response`,
///   `status.code` (0 = OK) and the entry's `timestamp`;
/// - AKS resource logs (https://learn.microsoft.com/azure/aks/monitor-aks-reference, category
///   `kube-audit`/`kube-audit-admin`): the native Event in `properties.log`, as a JSON string (as
///   diagnostic settings write it) or as an object (as some exports and forwarders re-shape it).
///
/// A native Event is recognised by its `apiVersion` (`audit.k8s.io/…`) or, without one (as
/// webhook backends and collectors such as Falco's forward them), by its shape: `kind: Event`
/// with a `verb`, an `auditID` or `stage`, and a request or stage timestamp.
///
/// A `create`, `update`, `patch` or `delete` of a `deployments`, `statefulsets`,
/// `inferenceservices` or `seldondeployments` object (or of its `scale`/`rollback` subresource)
/// becomes a **registry** row: model = object name, version = image tag of the first container
/// in `requestObject` (else `responseObject`) `spec.template.spec.containers[].image` (or an
/// InferenceService's `storageUri`), event = create/update/patch/delete/scale/rollback, to_stage =
/// `deployed` (`deleted` for delete, `stopped` for a scale to zero), principal = user name,
/// status = success/failure from the response code (final stage `ResponseComplete` only).
///
/// Every event, of every stage, verb and resource, also keeps an **audit** row (``AuditRow``,
/// source `k8s-audit`): action = verb (GKE: `methodName`), service = resource[/subresource],
/// target = namespace/name, principal = user name, source address = first of `sourceIPs`,
/// an event with no timestamp at all kept undated (an unparseable one is rejected),
/// user agent, outcome from the response code, and the event itself as the record (for AKS the
/// event inside `properties.log`, for GKE the whole entry) — so exec into a pod, secret reads
/// and role bindings can be hunted with the audit API's own field names.
public enum KubernetesAuditFormat {
    /// Resources whose changes are deployments of model-serving workloads.
    package static let servingResources: Set<String> = ["deployments", "statefulsets", "inferenceservices", "seldondeployments"]

    public static let descriptor = FormatDescriptor(
        name: "k8s-audit",
        summary: "Kubernetes audit events (native, GKE protoPayload, AKS properties.log): every event as audit, serving deployment changes as registry.",
        kinds: [.audit, .registry],
        fieldMap: [
            ("time", "stageTimestamp (when the change took effect) | requestReceivedTimestamp | timestamp (GKE)"),
            ("model", "objectRef.name | requestObject.metadata.name"),
            ("version", "image tag of spec.template.spec.containers[0].image (requestObject | responseObject)"),
            ("event", "verb | subresource (scale, rollback)"), ("to_stage", "deployed | deleted | stopped"),
            ("environment", "objectRef.namespace | namespace in protoPayload.resourceName"),
            ("principal", "user.username | authenticationInfo.principalEmail"),
            ("status", "responseStatus.code | status.code → success/failure"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in isAuditRecord(root) } ? 65 : 0
        },
        make: { context throws(IngestError) in KubernetesAuditDecoder(context: context) }
    )

    package static func isAuditRecord(_ root: JSONValue) -> Bool {
        if root["apiVersion"]?.withDecodedString({ $0.starts(with: Array("audit.k8s.io/".utf8)) }) == true { return true }
        if isEventByShape(root) { return true }
        if let payload = root["protoPayload"] {
            if payload["serviceName"]?.isString("k8s.io") == true { return true }
            if payload["methodName"]?.withDecodedString({ $0.starts(with: Array("io.k8s.".utf8)) }) == true { return true }
        }
        if root["category"]?.withDecodedString({ $0.starts(with: Array("kube-audit".utf8)) }) == true,
           let log = root["properties"]?["log"], log.kind == .string || log.kind == .object { return true }
        return false
    }

    /// An audit Event without `apiVersion`: `kind: Event`, a `verb`, an `auditID` or `stage`, and
    /// a `requestReceivedTimestamp` or `stageTimestamp` (a Kubernetes core `Event` object, which
    /// shares the kind, has none of these).
    package static func isEventByShape(_ root: JSONValue) -> Bool {
        guard root["kind"]?.isString("Event") == true, root["verb"]?.kind == .string else { return false }
        guard root["auditID"] != nil || root["stage"] != nil else { return false }
        return root["requestReceivedTimestamp"] != nil || root["stageTimestamp"] != nil
    }
}

/// Decoder for ``KubernetesAuditFormat``.
package final class KubernetesAuditDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let innerParser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let forcedKind: SourceKind?
    private let schema = SourceKind.registry.schema
    package static let timePaths = JSONPaths.split(["stageTimestamp", "requestReceivedTimestamp", "timestamp", "time"])

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
        forcedKind = context.kind ?? context.profile?.kind
    }

    /// One audit event, whatever its envelope.
    private struct Change {
        var verb: String
        var resource: String
        var subresource: String
        var name: String?
        var namespace: String?
        var principal: String?
        var succeeded: Bool?
        var request: JSONValue?
        var response: JSONValue?
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        if let payload = root["protoPayload"] {
            try decodeGKE(root: root, payload: payload, record: record, into: rows)
        } else if let log = root["properties"]?["log"], log.kind == .object {
            try decodeNative(log, record: log.rawBytes, fallbackTime: overrides.recordTime(in: root, builtIn: Self.timePaths),
                             into: rows)
        } else if let log = root["properties"]?["log"], log.kind == .string {
            let envelopeTime = overrides.recordTime(in: root, builtIn: Self.timePaths)
            let failure: String? = log.withDecodedString { text -> String? in
                guard let inner = try? innerParser.parse(text), inner.root.kind == .object else {
                    return "Kubernetes audit: properties.log is not a JSON audit event"
                }
                do throws(RecordReject) {
                    try decodeNative(inner.root, record: text, fallbackTime: envelopeTime, into: rows)
                } catch {
                    return error.reason
                }
                return nil
            } ?? nil
            if let failure { throw RecordReject(failure) }
        } else {
            try decodeNative(root, record: record, fallbackTime: nil, into: rows)
        }
    }

    /// Whether rows of `kind` are kept (a kind forced by --kind or a profile keeps only its own).
    private func keeps(_ kind: SourceKind) -> Bool { forcedKind == nil || forcedKind == kind }

    /// A native Event (`record` is its text: the line, or the event inside an AKS envelope).
    private func decodeNative(_ event: JSONValue, record: ByteView, fallbackTime: Int64?, into rows: RowWriter) throws(RecordReject) {
        let undated = JSONPaths.first(Self.timePaths, in: event) == nil && fallbackTime == nil && overrides.time(in: event) == nil
        guard let time = overrides.recordTime(in: event, builtIn: Self.timePaths) ?? fallbackTime ?? (undated ? Int64.min : nil) else {
            throw RecordReject("Kubernetes audit: unparseable timestamp")
        }
        guard let verb = event["verb"]?.string else {
            throw RecordReject("Kubernetes audit: event without verb")
        }
        let objectRef = event["objectRef"]
        var succeeded: Bool?
        if let code = event["responseStatus"]?["code"]?.int64 { succeeded = code < 400 }
        let change = Change(verb: verb, resource: objectRef?["resource"]?.string ?? "",
                            subresource: objectRef?["subresource"]?.string ?? "", name: objectRef?["name"]?.string,
                            namespace: objectRef?["namespace"]?.string, principal: event["user"]?["username"]?.string, succeeded: succeeded,
                            request: event["requestObject"], response: event["responseObject"])
        if keeps(.audit) {
            var row = AuditRow(source: "k8s-audit")
            row.action = event["verb"]
            row.principal = event["user"]?["username"]
            row.sourceAddress = event["sourceIPs"]?.elements.first
            row.userAgent = event["userAgent"]
            auditRow(&row, change)
            row.write(time: time, record: record, overrides: .json(overrides, root: event), into: rows)
        }
        // Only the final stage of a request is a change; the other stages of the same request, and
        // an event without any timestamp (kept as an undated audit row), are audit rows only.
        if time == Int64.min || event["stage"]?.string.map({ $0 != "ResponseComplete" }) == true {
            if !keeps(.audit) { rows.skipRecord() }
            return
        }
        write(change, time: time, root: event, into: rows)
    }

    /// Fills the service (resource, `/subresource`), target (`namespace/name`) and outcome of an
    /// audit row from a change.
    private func auditRow(_ row: inout AuditRow, _ change: Change) {
        if !change.resource.isEmpty {
            row.serviceText = change.subresource.isEmpty ? change.resource : change.resource + "/" + change.subresource
        }
        let target = [change.namespace, change.name].compactMap { $0 }.joined(separator: "/")
        row.target = target.isEmpty ? nil : target
        row.outcome = change.succeeded.map { $0 ? "success" : "failure" }
    }

    private func decodeGKE(root: JSONValue, payload: JSONValue, record: ByteView, into rows: RowWriter) throws(RecordReject) {
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("Kubernetes audit: missing or unparseable timestamp")
        }
        guard let method = payload["methodName"]?.string else {
            throw RecordReject("Kubernetes audit: protoPayload without methodName")
        }
        // io.k8s.apps.v1.deployments.scale.patch → resource deployments, subresource scale, verb patch
        let parts = method.split(separator: ".").map(String.init)
        guard parts.count >= 2, let verb = parts.last else {
            throw RecordReject("Kubernetes audit: malformed methodName")
        }
        var resource = parts[parts.count - 2]
        var subresource = ""
        if ["scale", "status", "rollback", "exec", "attach", "portforward", "log", "proxy"].contains(resource), parts.count >= 3 {
            subresource = resource
            resource = parts[parts.count - 3]
        }
        var name: String?
        var namespace: String?
        if let resourceName = payload["resourceName"]?.string {
            let segments = resourceName.split(separator: "/").map(String.init)
            if let index = segments.lastIndex(of: resource), index + 1 < segments.count { name = segments[index + 1] }
            if let index = segments.firstIndex(of: "namespaces"), index + 1 < segments.count { namespace = segments[index + 1] }
        }
        var succeeded: Bool?
        if let status = payload["status"], status.kind == .object {
            succeeded = (status["code"]?.int64 ?? 0) == 0
        } else {
            succeeded = true
        }
        let change = Change(verb: verb, resource: resource, subresource: subresource, name: name,
                            namespace: namespace, principal: payload["authenticationInfo"]?["principalEmail"]?.string, succeeded: succeeded,
                            request: payload["request"], response: payload["response"])
        if keeps(.audit) {
            var row = AuditRow(source: "k8s-audit")
            row.action = payload["methodName"]
            row.principal = payload["authenticationInfo"]?["principalEmail"]
            row.sourceAddress = payload["requestMetadata"]?["callerIp"]
            row.userAgent = payload["requestMetadata"]?["callerSuppliedUserAgent"]
            auditRow(&row, change)
            row.write(time: time, record: record, overrides: .json(overrides, root: root), into: rows)
        }
        write(change, time: time, root: root, into: rows)
    }

    private func write(_ change: Change, time: Int64, root: JSONValue, into rows: RowWriter) {
        let isWrite = ["create", "update", "patch", "delete"].contains(change.verb)
        guard isWrite, KubernetesAuditFormat.servingResources.contains(change.resource),
              change.subresource.isEmpty || change.subresource == "scale" || change.subresource == "rollback",
              keeps(.registry) else {
            if !keeps(.audit) { rows.skipRecord() }
            return
        }
        let event: String
        var toStage = "deployed"
        switch (change.subresource, change.verb) {
        case ("scale", _):
            event = "scale"
            if (change.request?["spec"]?["replicas"]?.int64 ?? 1) == 0 { toStage = "stopped" }
        case ("rollback", _):
            event = "rollback"
        case (_, "delete"):
            event = "delete"
            toStage = "deleted"
        default:
            event = change.verb
            if (change.request?["spec"]?["replicas"]?.int64 ?? 1) == 0 { toStage = "stopped" }
        }
        let model = change.name ?? change.request?["metadata"]?["name"]?.string ?? change.response?["metadata"]?["name"]?.string
        let version = Self.version(in: change.request) ?? Self.version(in: change.response)
        rows.begin(.registry, time: time, overrides: .json(overrides, root: root))
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        set("model", model)
        set("version", version)
        set("event", event)
        set("to_stage", toStage)
        set("principal", change.principal)
        set("environment", change.namespace ?? change.request?["metadata"]?["namespace"]?.string)
        set("status", change.succeeded.map { $0 ? "success" : "failure" })
        rows.commit()
    }

    /// The image tag of the first container of a workload object (or an InferenceService's
    /// storage URI / runtime version).
    package static func version(in object: JSONValue?) -> String? {
        guard let object, object.kind == .object else { return nil }
        let spec = object["spec"]
        let podSpec = spec?["template"]?["spec"]
        for containers in [podSpec?["containers"], spec?["predictor"]?["containers"]] {
            if let first = containers?.elements.first, let image = first["image"]?.string,
               let tag = CloudTrailDecoder.imageTag(image) {
                return tag
            }
        }
        if let predictor = spec?["predictor"], predictor.kind == .object {
            if let model = predictor["model"] {
                if let version = model["runtimeVersion"]?.string { return version }
                if let uri = model["storageUri"]?.string { return uri }
            }
            var found: String?
            predictor.forEachMember { _, value in
                if found == nil, value.kind == .object, let uri = value["storageUri"]?.string { found = uri }
            }
            if let found { return found }
        }
        return nil
    }
}
