import FathomStore
import FathomSupport
import FathomCatalog

/// Azure Monitor Log Analytics rows, as exported from the `AzureDiagnostics` and `AzureActivity`
/// tables (the column names used by Azure KQL queries).
///
/// Specification: Azure Monitor table references —
/// `AzureDiagnostics` (https://learn.microsoft.com/azure/azure-monitor/reference/tables/azurediagnostics;
/// resource-specific columns carry a type suffix: `_s` string, `_d` double, `_g` GUID) with the
/// Application Gateway access-log columns (https://learn.microsoft.com/azure/application-gateway/monitor-application-gateway-reference,
/// "Access log": `clientIP_s`, `httpMethod_s`, `requestUri_s`, `httpStatus_d`, `timeTaken_d`,
/// `sentBytes_d`) and API Management gateway columns (`callerIpAddress_s`, `method_s`,
/// `url_s`, `responseCode_d`, `durationMs_d`); and `AzureActivity`
/// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/azureactivity: `TimeGenerated`,
/// `OperationNameValue`, `Caller`, `CallerIpAddress`, `ActivityStatusValue`, `_ResourceId`).
///
/// - `AzureDiagnostics` rows with a request URI become **inference** rows (`requestBody_s` is
///   hashed into `input_hash`; `timeTaken_d` is in seconds, as Application Gateway v2 logs it;
///   `durationMs_d` wins when present). Rows without a request URI are kept as audit rows (below).
/// - `AzureActivity` rows of Azure Machine Learning workspaces (`MICROSOFT.MACHINELEARNINGSERVICES/…`):
///   `JOBS/WRITE` → pipeline `retrain`, `JOBS/CANCEL/ACTION` → `cancel`, data and datastore writes →
///   `modify_data`, compute/environment/component writes → `update_config` (pipeline = workspace,
///   run_id = job name); `MODELS/VERSIONS/WRITE` → registry `registered`; online/batch endpoint
///   deployment writes → registry `deploy` (`to_stage` `deployed`); deletes → registry `delete`.
///   Reads, list-keys actions, other providers and the `Start`/`Accept` status rows that precede
///   each operation's final row make no pipeline or registry row, so one operation counts once.
/// - Every `AzureActivity` row, and every `SigninLogs`, `AuditLogs`, `AAD…SignInLogs` and
///   `AADUserRiskEvents` row, keeps an **audit** row (``AzureActivityLogFormat``); `AzureDiagnostics`
///   rows of other resources (firewalls, key vaults) keep an audit row of source `azure-diagnostics`.
public enum AzureMonitorFormat {
    public static let descriptor = FormatDescriptor(
        name: "azure-monitor",
        summary: "Azure Log Analytics AzureDiagnostics gateway rows and AzureActivity Machine Learning operations.",
        kinds: [.audit, .inference, .pipeline, .registry],
        fieldMap: [
            ("time", "TimeGenerated | time"),
            ("src_ip", "callerIpAddress_s | clientIP_s | CallerIpAddress"),
            ("principal", "apimSubscriptionId_s | userId_s | identity_claim_upn_s | Caller"),
            ("method", "httpMethod_s | method_s"), ("path", "requestUri_s | url_s"),
            ("status", "httpStatus_d | responseCode_d | ActivityStatusValue"),
            ("latency_ms", "durationMs_d | timeTaken_d × 1000"), ("bytes", "sentBytes_d | responseSize_d"),
            ("input_hash", "requestBody_s"), ("model", "model_s | modelDeploymentName_s | models/<name>"),
            ("request_id", "requestId_s | transactionId_g | CorrelationId"),
            ("action", "OperationNameValue → retrain | cancel | modify_data | update_config"),
            ("pipeline", "workspace in _ResourceId"), ("run_id", "jobs/<name> in _ResourceId"),
            ("version", "versions/<n> | deployments/<name> in _ResourceId"),
            ("event", "registered | deploy | delete"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in
                isDiagnosticsRow(root) || isActivityRow(root) || AzureActivityLogFormat.tableSource(root) != nil
            } ? 55 : 0
        },
        make: { context throws(IngestError) in AzureMonitorDecoder(context: context) }
    )

    package static func isDiagnosticsRow(_ root: JSONValue) -> Bool {
        if root["Type"]?.isString("AzureDiagnostics") == true { return true }
        return (root.has("TimeGenerated") || root.has("time"))
            && (root.has("requestUri_s") || root.has("url_s") || root.has("callerIpAddress_s") || root.has("clientIP_s"))
    }

    package static func isActivityRow(_ root: JSONValue) -> Bool {
        if root["Type"]?.isString("AzureActivity") == true { return true }
        return root.has("OperationNameValue") && (root.has("ActivityStatusValue") || root.has("Caller"))
    }
}

/// Decoder for ``AzureMonitorFormat``.
package final class AzureMonitorDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let forcedKind: SourceKind?
    private let inference = SourceKind.inference.schema

    private static let timePaths = JSONPaths.split(["TimeGenerated", "time", "TimeGenerated [UTC]", "timeStamp_t"])
    private static let ipPaths = JSONPaths.split([
        "callerIpAddress_s", "clientIP_s", "clientIp_s", "CallerIPAddress", "callerIpAddress", "CallerIpAddress",
    ])
    private static let principalPaths = JSONPaths.split([
        "apimSubscriptionId_s", "userId_s", "identity_claim_upn_s", "identity_claim_appid_g", "callerIdentity_s",
    ])
    private static let methodPaths = JSONPaths.split(["httpMethod_s", "method_s", "requestMethod_s"])
    private static let pathPaths = JSONPaths.split(["requestUri_s", "url_s", "originalRequestUriWithArgs_s", "requestUri"])
    private static let statusPaths = JSONPaths.split(["httpStatus_d", "responseCode_d", "httpStatusCode_d", "statusCode_d"])
    private static let bytesPaths = JSONPaths.split(["sentBytes_d", "responseSize_d", "bytesSent_d"])
    private static let bodyPaths = JSONPaths.split(["requestBody_s", "RequestBody", "requestBody"])
    private static let modelPaths = JSONPaths.split(["model_s", "modelDeploymentName_s", "deploymentName_s", "modelName_s"])
    private static let requestIDPaths = JSONPaths.split([
        "requestId_s", "transactionId_g", "CorrelationId", "correlationId", "correlationId_g",
    ])

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
        forcedKind = context.kind ?? context.profile?.kind
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("Azure Monitor: missing or unparseable TimeGenerated")
        }
        if let source = AzureActivityLogFormat.tableSource(root) {
            if forcedKind == nil || forcedKind == .audit {
                AzureActivityLogFormat.auditRow(root, source: source).write(
                    time: time, record: record, overrides: .json(overrides, root: root), into: rows)
            }
            if AzureMonitorFormat.isActivityRow(root) {
                decodeActivity(root, time: time, into: rows)
            } else if forcedKind != nil && forcedKind != .audit {
                rows.skipRecord()
            }
        } else {
            decodeDiagnostics(root, record: record, time: time, into: rows)
        }
    }

    private func decodeDiagnostics(_ root: JSONValue, record: ByteView, time: Int64, into rows: RowWriter) {
        guard let path = JSONPaths.first(Self.pathPaths, in: root), forcedKind == nil || forcedKind == .inference else {
            // A row of another resource (a firewall, a key vault): kept whole as an audit row.
            if forcedKind == nil || forcedKind == .audit {
                var row = AuditRow.generic(source: "azure-diagnostics", root: root)
                row.service = root["ResourceProvider"] ?? root["ResourceType"]
                row.action = root["OperationName"] ?? root["operationName"] ?? root["Category"] ?? row.action
                row.target = (root["_ResourceId"] ?? root["ResourceId"] ?? root["resourceId"])?.string
                row.write(time: time, record: record, overrides: .json(overrides, root: root), into: rows)
            } else {
                rows.skipRecord()
            }
            return
        }
        let schema = inference
        rows.begin(.inference, time: time, overrides: .json(overrides, root: root))
        func put(_ paths: [[String]], _ column: String, _ role: FieldRole) {
            guard let value = JSONPaths.first(paths, in: root), let index = schema.index(of: column) else { return }
            JSONFields.write(value, role: role, column: index, kind: .inference, into: rows)
        }
        if let index = schema.index(of: "path") { JSONFields.writeString(path, column: index, into: rows) }
        put(Self.ipPaths, "src_ip", .address)
        put(Self.principalPaths, "principal", .string)
        put(Self.methodPaths, "method", .string)
        put(Self.statusPaths, "status", .int)
        put(Self.bytesPaths, "bytes", .int)
        put(Self.bodyPaths, "input_hash", .hash)
        put(Self.modelPaths, "model", .string)
        put(Self.requestIDPaths, "request_id", .string)
        if let index = schema.index(of: "latency_ms") {
            if let milliseconds = root["durationMs_d"]?.double ?? root["DurationMs"]?.double {
                rows.setDouble(milliseconds, at: index)
            } else if let seconds = root["timeTaken_d"]?.double {
                rows.setDouble(seconds * 1000, at: index)
            }
        }
        rows.commit()
    }

    /// What an Azure ML activity operation is, from `OperationNameValue`.
    package enum Activity {
        case pipeline(action: String)
        case registry(event: String, toStage: String?)
    }

    package static func activity(forOperation operation: String) -> Activity? {
        let op = operation.uppercased()
        guard op.hasPrefix("MICROSOFT.MACHINELEARNINGSERVICES/") else { return nil }
        let isWrite = op.hasSuffix("/WRITE")
        let isDelete = op.hasSuffix("/DELETE")
        if op.contains("/JOBS/") {
            if op.hasSuffix("/CANCEL/ACTION") { return .pipeline(action: "cancel") }
            if isWrite { return .pipeline(action: "retrain") }
            if isDelete { return .pipeline(action: "delete") }
            return nil
        }
        if op.contains("/MODELS/") {
            if isWrite { return .registry(event: op.contains("/VERSIONS/") ? "registered" : "create", toStage: nil) }
            if isDelete { return .registry(event: "delete", toStage: "deleted") }
            return nil
        }
        if op.contains("ENDPOINTS/") {
            if isWrite { return .registry(event: "deploy", toStage: "deployed") }
            if isDelete { return .registry(event: "delete", toStage: "deleted") }
            return nil
        }
        if op.contains("/DATA/") || op.contains("/DATASETS/") || op.contains("/DATASTORES/") {
            return isWrite || isDelete ? .pipeline(action: "modify_data") : nil
        }
        if op.contains("/COMPUTES/") || op.contains("/ENVIRONMENTS/") || op.contains("/COMPONENTS/") {
            return isWrite || isDelete ? .pipeline(action: "update_config") : nil
        }
        return nil
    }

    /// The path segment after `/<name>/` in an Azure resource id (case-insensitive).
    package static func segment(after name: String, in resourceID: String) -> String? {
        let parts = resourceID.split(separator: "/")
        guard let index = parts.firstIndex(where: { $0.lowercased() == name }), index + 1 < parts.count else { return nil }
        return String(parts[index + 1])
    }

    private func decodeActivity(_ root: JSONValue, time: Int64, into rows: RowWriter) {
        let status = (root["ActivityStatusValue"] ?? root["ActivityStatus"])?.string ?? ""
        guard let operation = (root["OperationNameValue"] ?? root["OperationName"])?.string,
              let activity = Self.activity(forOperation: operation),
              !["start", "started", "accept", "accepted"].contains(status.lowercased()) else {
            if forcedKind != nil && forcedKind != .audit { rows.skipRecord() }
            return
        }
        let resourceID = (root["_ResourceId"] ?? root["ResourceId"] ?? root["resourceId"])?.string ?? ""
        let kind: SourceKind
        switch activity {
        case .pipeline: kind = .pipeline
        case .registry: kind = .registry
        }
        if let forcedKind, forcedKind != kind {
            if forcedKind != .audit { rows.skipRecord() }
            return
        }
        rows.begin(kind, time: time, overrides: .json(overrides, root: root))
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        set("principal", root["Caller"]?.string ?? root["caller"]?.string)
        switch activity {
        case let .pipeline(action):
            set("action", action)
            set("pipeline", Self.segment(after: "workspaces", in: resourceID))
            set("status", status)
            set("run_id", Self.segment(after: "jobs", in: resourceID))
        case let .registry(event, toStage):
            if let endpoint = Self.segment(after: "onlineendpoints", in: resourceID)
                ?? Self.segment(after: "batchendpoints", in: resourceID) {
                set("model", endpoint)
                set("version", Self.segment(after: "deployments", in: resourceID))
            } else {
                set("model", Self.segment(after: "models", in: resourceID))
                set("version", Self.segment(after: "versions", in: resourceID))
            }
            set("event", event)
            set("to_stage", toStage)
            let lowered = status.lowercased()
            set("status", lowered.hasPrefix("succe") ? "success" : lowered.hasPrefix("fail") ? "failure" : lowered)
        }
        rows.commit()
    }
}
