import FathomStore
import FathomSupport
import FathomCatalog

/// AWS CloudTrail records, from `{"Records":[…]}` log files (usually gzip) or JSON Lines.
///
/// Specification: AWS CloudTrail User Guide, "CloudTrail record contents for management, data,
/// and network activity events",
/// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
/// (fields `eventTime`, `eventSource`, `eventName`, `sourceIPAddress`, `userAgent`,
/// `userIdentity`, `requestParameters`, `responseElements`, `additionalEventData`, `errorCode`,
/// `requestID`), and "CloudTrail userIdentity element"
/// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
///
/// One decoder emits rows of three kinds, chosen per record:
/// - **storage** — `eventSource` `s3.amazonaws.com` (data events `GetObject`, `PutObject`,
///   `DeleteObject`, … and bucket-level calls): bucket and key from `requestParameters`, bytes
///   from `additionalEventData.bytesTransferredOut` (else `…In`);
/// - **inference** — Bedrock `InvokeModel`, `InvokeModelWithResponseStream`, `Converse`,
///   `ConverseStream` and SageMaker `InvokeEndpoint`/`InvokeEndpointAsync`: `model` is the model
///   id or endpoint name, `method`/`path` are the API's documented REST route (`POST
///   /model/{modelId}/invoke`, `POST /endpoints/{EndpointName}/invocations`; CloudTrail records
///   the operation, not the URL), `request_id` is `requestID`; CloudTrail does not log request
///   bodies, so `input_hash` is null;
/// - **registry** — SageMaker `CreateModel`, `CreateModelPackage`, `UpdateModelPackage`
///   (`ModelApprovalStatus` → `to_stage`), `CreateEndpoint`, `UpdateEndpoint`,
///   `UpdateEndpointWeightsAndCapacities`, `DeleteEndpoint`, `DeleteModel`, `DeleteModelPackage`.
/// Every record, whatever its kind, also keeps an **audit** row (``AuditRow``, source
/// `cloudtrail`): service `eventSource`, action `eventName`, principal, source address, user
/// agent, target (first resource ARN or request-parameter name), outcome, and the whole record,
/// so console logins, IAM and CloudTrail changes, secret reads and every other management event
/// are kept and can be hunted with their own field names.
///
/// `principal` is the first of `userIdentity.arn`, `.userName`, `.principalId`, `.accessKeyId`,
/// `.invokedBy`. CloudTrail has no HTTP status: `status` is derived from `errorCode` (none →
/// 200, `AccessDenied`/`Unauthorized…` → 403, `NoSuch…`/`…NotFound…` → 404, `Throttling…` → 429,
/// any other → 400); registry rows carry `success`/`failure`. A record without `eventTime` but
/// with `@timestamp` (as exported by log shippers) takes that time.
public enum CloudTrailFormat {
    public static let descriptor = FormatDescriptor(
        name: "cloudtrail",
        summary: "AWS CloudTrail records (Records files or JSON Lines): every record as audit, plus S3, Bedrock/SageMaker inference, SageMaker registry.",
        kinds: [.audit, .storage, .inference, .registry],
        fieldMap: [
            ("time", "eventTime | @timestamp"), ("src_ip", "sourceIPAddress"),
            ("source", "cloudtrail (audit)"), ("service", "eventSource (audit)"), ("action", "eventName (audit)"),
            ("target", "resources[0].ARN | requestParameters userName, roleName, bucketName, name, … (audit)"),
            ("outcome", "errorCode → failure, else success (audit)"), ("record", "the whole record (audit)"),
            ("principal", "userIdentity.arn | .userName | .principalId | .accessKeyId"),
            ("operation", "eventName (storage)"), ("bucket", "requestParameters.bucketName"),
            ("key", "requestParameters.key"), ("user_agent", "userAgent"),
            ("bytes", "additionalEventData.bytesTransferredOut | bytesTransferredIn"),
            ("status", "errorCode → 200/403/404/429/400; registry: success/failure"),
            ("model", "requestParameters.modelId | endpointName | modelName | modelPackageGroupName"),
            ("path", "REST route of eventName (inference)"), ("request_id", "requestID"),
            ("version", "model package version | endpointConfigName | image tag"),
            ("event", "create | registered | stage | deploy | scale | delete"),
            ("to_stage", "requestParameters.modelApprovalStatus | deployed | deleted"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in
                root.has("eventSource") && root.has("eventName")
                    && (root.has("eventVersion") || root.has("userIdentity") || root.has("eventTime"))
            } ? 60 : 0
        },
        make: { context throws(IngestError) in CloudTrailDecoder(context: context) }
    )
}

/// Decoder for ``CloudTrailFormat``.
package final class CloudTrailDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let forcedKind: SourceKind?
    private let actions = OperationActions()
    private static let timePaths = JSONPaths.split(["eventTime", "@timestamp"])
    private static let principalPaths = JSONPaths.split([
        "userIdentity.arn", "userIdentity.userName", "userIdentity.principalId", "userIdentity.accessKeyId",
        "userIdentity.invokedBy",
    ])
    private let storage = SourceKind.storage.schema
    private let inference = SourceKind.inference.schema
    private let registry = SourceKind.registry.schema

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
        forcedKind = context.kind ?? context.profile?.kind
    }

    /// What a record becomes.
    private enum Target {
        case storage
        case inference(method: String, route: (String) -> String, modelKey: String)
        case registry(RegistryCall)
        case skip
    }

    private enum RegistryCall {
        case createModel, createPackage, updatePackage, createEndpoint, updateEndpoint, scaleEndpoint
        case deleteEndpoint, deleteModel, deletePackage
    }

    private func target(source: ByteView, name: ByteView) -> Target {
        if source.equals("s3.amazonaws.com") { return .storage }
        if source.equals("bedrock.amazonaws.com") {
            if name.equals("InvokeModel") { return .inference(method: "POST", route: { "/model/\($0)/invoke" }, modelKey: "modelId") }
            if name.equals("InvokeModelWithResponseStream") {
                return .inference(method: "POST", route: { "/model/\($0)/invoke-with-response-stream" }, modelKey: "modelId")
            }
            if name.equals("Converse") { return .inference(method: "POST", route: { "/model/\($0)/converse" }, modelKey: "modelId") }
            if name.equals("ConverseStream") {
                return .inference(method: "POST", route: { "/model/\($0)/converse-stream" }, modelKey: "modelId")
            }
            return .skip
        }
        if source.equals("sagemaker.amazonaws.com") || source.equals("runtime.sagemaker.amazonaws.com") {
            if name.equals("InvokeEndpoint") {
                return .inference(method: "POST", route: { "/endpoints/\($0)/invocations" }, modelKey: "endpointName")
            }
            if name.equals("InvokeEndpointAsync") {
                return .inference(method: "POST", route: { "/endpoints/\($0)/async-invocations" }, modelKey: "endpointName")
            }
            let calls: [(String, RegistryCall)] = [
                ("CreateModel", .createModel), ("CreateModelPackage", .createPackage),
                ("UpdateModelPackage", .updatePackage), ("CreateEndpoint", .createEndpoint),
                ("UpdateEndpoint", .updateEndpoint), ("UpdateEndpointWeightsAndCapacities", .scaleEndpoint),
                ("DeleteEndpoint", .deleteEndpoint), ("DeleteModel", .deleteModel),
                ("DeleteModelPackage", .deletePackage),
            ]
            for (call, value) in calls where name.equals(call) { return .registry(value) }
        }
        return .skip
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("CloudTrail: missing or unparseable eventTime")
        }
        guard let sourceValue = root["eventSource"], let nameValue = root["eventName"],
              sourceValue.kind == .string, nameValue.kind == .string else {
            throw RecordReject("CloudTrail: record without eventSource or eventName")
        }
        let target = sourceValue.withDecodedString { source in
            nameValue.withDecodedString { name in self.target(source: source, name: name) } ?? .skip
        } ?? .skip
        let kind: SourceKind?
        switch target {
        case .storage: kind = .storage
        case .inference: kind = .inference
        case .registry: kind = .registry
        case .skip: kind = nil
        }
        // Every record keeps its audit row; the AI/ML row comes beside it when a kind applies.
        // A kind forced by --kind or a profile keeps only rows of that kind.
        if forcedKind == nil || forcedKind == .audit {
            auditRow(root, source: sourceValue, name: nameValue).write(
                time: time, record: record, overrides: .json(overrides, root: root), into: rows)
        }
        guard let kind, forcedKind == nil || forcedKind == kind else {
            if forcedKind != nil && forcedKind != .audit { rows.skipRecord() }
            return
        }
        rows.begin(kind, time: time, overrides: .json(overrides, root: root))
        let schema = kind.schema
        let errorCode = root["errorCode"].flatMap { $0.isNull ? nil : $0 }
        if let principal = JSONPaths.first(Self.principalPaths, in: root), let column = schema.index(of: "principal") {
            JSONFields.writeString(principal, column: column, into: rows)
        }
        if let column = schema.index(of: "src_ip"), let ip = root["sourceIPAddress"] {
            JSONFields.write(ip, role: .address, column: column, kind: kind, into: rows)
        }
        let parameters = root["requestParameters"]
        switch target {
        case .storage:
            if let name = nameValue.rawStringContent { actions.write(name, kind: .storage, into: rows) }
            write(parameters?["bucketName"], "bucket", schema, rows)
            write(parameters?["key"], "key", schema, rows)
            write(root["userAgent"], "user_agent", schema, rows)
            if let column = schema.index(of: "status") { rows.setInt64(Self.httpStatus(errorCode), at: column) }
            let data = root["additionalEventData"]
            if let column = schema.index(of: "bytes") {
                let out = data?["bytesTransferredOut"]?.int64 ?? 0
                let inbound = data?["bytesTransferredIn"]?.int64 ?? 0
                if out > 0 || inbound > 0 { rows.setInt64(out > 0 ? out : inbound, at: column) }
            }
        case let .inference(method, route, modelKey):
            if let column = schema.index(of: "method") { rows.setString(method, at: column) }
            if let model = parameters?[modelKey]?.string, !model.isEmpty {
                if let column = schema.index(of: "model") { rows.setString(model, at: column) }
                if let column = schema.index(of: "path") { rows.setString(route(model), at: column) }
            }
            if let column = schema.index(of: "status") { rows.setInt64(Self.httpStatus(errorCode), at: column) }
            write(root["requestID"], "request_id", schema, rows)
        case let .registry(call):
            writeRegistry(call, parameters: parameters, response: root["responseElements"], rows: rows)
            if let column = schema.index(of: "status") {
                rows.setString(errorCode == nil ? "success" : "failure", at: column)
            }
        case .skip:
            break
        }
        rows.commit()
    }

    /// The audit row of a record: service and action are `eventSource` and `eventName`, the
    /// target the first resource ARN or the first resource name of `requestParameters`, the
    /// outcome `failure` when the record has an `errorCode`.
    private func auditRow(_ root: JSONValue, source: JSONValue, name: JSONValue) -> AuditRow {
        var row = AuditRow(source: "cloudtrail")
        row.service = source
        row.action = name
        row.principal = JSONPaths.first(Self.principalPaths, in: root)
        row.sourceAddress = root["sourceIPAddress"]
        row.userAgent = root["userAgent"]
        let errorCode = root["errorCode"].flatMap { $0.isNull ? nil : $0 }
        row.outcome = errorCode == nil ? "success" : "failure"
        row.target = Self.resourceName(root)
        return row
    }

    private static let targetPaths = JSONPaths.split([
        "userName", "roleName", "groupName", "policyArn", "bucketName", "name", "trailName", "secretId",
        "keyId", "functionName", "modelId", "endpointName", "guardrailIdentifier", "instanceId", "snapshotId",
        "clusterName", "dBInstanceIdentifier", "repositoryName", "logGroupName", "detectorId",
    ])

    /// What a CloudTrail record acted on: `resources[0].ARN`, else the first of the common resource
    /// names in `requestParameters` (`userName`, `bucketName`, `name`, …), else nil.
    package static func resourceName(_ root: JSONValue) -> String? {
        if let resources = root["resources"], resources.kind == .array,
           let first = resources.elements.first, let arn = first["ARN"]?.string ?? first["arn"]?.string, !arn.isEmpty {
            return arn
        }
        guard let parameters = root["requestParameters"], parameters.kind == .object,
              let value = JSONPaths.first(targetPaths, in: parameters) else { return nil }
        switch value.kind {
        case .string: return value.string
        case .number: return String(decoding: value.rawBytes.array, as: UTF8.self)
        default: return nil
        }
    }

    private func write(_ value: JSONValue?, _ column: String, _ schema: KindSchema, _ rows: RowWriter) {
        guard let value, !value.isNull, let index = schema.index(of: column) else { return }
        JSONFields.writeString(value, column: index, into: rows)
    }

    private func writeRegistry(_ call: RegistryCall, parameters: JSONValue?, response: JSONValue?, rows: RowWriter) {
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        switch call {
        case .createModel, .deleteModel:
            set("model", parameters?["modelName"]?.string)
            set("version", Self.imageTag(parameters?["primaryContainer"]?["image"]?.string))
            set("event", call == .createModel ? "create" : "delete")
            set("to_stage", call == .createModel ? "created" : "deleted")
        case .createPackage:
            let arn = response?["modelPackageArn"]?.string
            set("model", parameters?["modelPackageGroupName"]?.string ?? parameters?["modelPackageName"]?.string
                ?? Self.packageParts(arn)?.group)
            set("version", Self.packageParts(arn)?.version)
            set("event", "registered")
            set("to_stage", parameters?["modelApprovalStatus"]?.string)
        case .updatePackage, .deletePackage:
            let parts = Self.packageParts(parameters?["modelPackageArn"]?.string ?? parameters?["modelPackageName"]?.string)
            set("model", parts?.group)
            set("version", parts?.version)
            set("event", call == .updatePackage ? "stage" : "delete")
            set("to_stage", call == .updatePackage ? parameters?["modelApprovalStatus"]?.string : "deleted")
        case .createEndpoint, .updateEndpoint, .scaleEndpoint, .deleteEndpoint:
            set("model", parameters?["endpointName"]?.string)
            set("version", parameters?["endpointConfigName"]?.string)
            switch call {
            case .scaleEndpoint: set("event", "scale"); set("to_stage", "deployed")
            case .deleteEndpoint: set("event", "delete"); set("to_stage", "deleted")
            default: set("event", "deploy"); set("to_stage", "deployed")
            }
        }
    }

    /// `arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud-models/3` → (`fraud-models`, `3`).
    package static func packageParts(_ arn: String?) -> (group: String, version: String?)? {
        guard let arn, let range = arn.range(of: "model-package/") else { return nil }
        let parts = arn[range.upperBound...].split(separator: "/")
        guard let group = parts.first else { return nil }
        return (String(group), parts.count > 1 ? String(parts[1]) : nil)
    }

    /// The tag of a container image reference (`repo/name:1.4` → `1.4`), or its digest.
    package static func imageTag(_ image: String?) -> String? {
        guard let image else { return nil }
        if let at = image.lastIndex(of: "@") { return String(image[image.index(after: at)...]) }
        guard let colon = image.lastIndex(of: ":") else { return nil }
        let tag = image[image.index(after: colon)...]
        return tag.contains("/") ? nil : String(tag)
    }

    /// An HTTP-like status for a CloudTrail `errorCode` (see ``CloudTrailFormat``).
    package static func httpStatus(_ errorCode: JSONValue?) -> Int64 {
        guard let code = errorCode?.string, !code.isEmpty else { return 200 }
        if code.contains("AccessDenied") || code.hasPrefix("Unauthorized") || code.contains("Forbidden") { return 403 }
        if code.hasPrefix("NoSuch") || code.contains("NotFound") { return 404 }
        if code.hasPrefix("Throttl") || code.contains("TooManyRequests") { return 429 }
        return 400
    }
}
