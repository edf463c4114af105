import FathomStore
import FathomSupport
import FathomCatalog

/// Azure activity logs and Microsoft Entra ID logs as resource logs (the diagnostic-settings export
/// to a storage account or event hub, `{"records":[…]}` or one record per line), kept whole as
/// **audit** rows.
///
/// Specification: Azure Monitor, "Azure Monitor activity log schema"
/// (https://learn.microsoft.com/azure/azure-monitor/essentials/activity-log-schema: the storage
/// and event-hub schema with `time`, `resourceId`, `operationName`, `category`, `resultType`,
/// `callerIpAddress`, `identity`, `properties`; categories `Administrative`, `Security`,
/// `ServiceHealth`, `Alert`, `Recommendation`, `Policy`, `Autoscale`, `ResourceHealth`), and
/// Microsoft Entra "Stream logs to an event hub" / "Archive logs to a storage account" (categories
/// `AuditLogs`, `SignInLogs`, `NonInteractiveUserSignInLogs`, `ServicePrincipalSignInLogs`,
/// `ManagedIdentitySignInLogs`, `UserRiskEvents`, `RiskyUsers`, …; the event in `properties`). A
/// record of the directory (`resourceId` under `/providers/Microsoft.aadiam`) whose `category` is
/// its audit category (`ApplicationManagement`, …) is an audit (or sign-in) record too.
///
/// The `source` column names the log as Sigma's `product: azure` logsources do: `azure-activity`
/// (`service: activitylogs`), `azure-audit` (`auditlogs`), `azure-signin` (`signinlogs`) and
/// `azure-riskdetection` (`riskdetection`). The same sources are given to the Log Analytics rows of
/// the `AzureActivity`, `AuditLogs`, `SigninLogs`, `AAD…SignInLogs` and `AADUserRiskEvents`
/// tables read by ``AzureMonitorFormat``.
public enum AzureActivityLogFormat {
    public static let descriptor = FormatDescriptor(
        name: "azure-activity-log",
        summary: "Azure activity log and Entra ID audit, sign-in and risk records (resource-log shape), kept whole as audit rows.",
        kinds: [.audit],
        fieldMap: [
            ("time", "time | TimeGenerated"), ("source", "category → azure-activity | azure-audit | azure-signin | azure-riskdetection"),
            ("action", "operationName | OperationName | OperationNameValue"),
            ("service", "resource provider of operationName | properties.loggedByService | category"),
            ("principal", "caller | identity.claims upn, name, appid | properties.initiatedBy.user.userPrincipalName | properties.userPrincipalName | identity"),
            ("src_ip", "callerIpAddress | properties.ipAddress | properties.initiatedBy.user.ipAddress"),
            ("target", "resourceId | properties.targetResources[0] (userPrincipalName | displayName)"),
            ("outcome", "resultType | properties.result | properties.status.errorCode → success | failure"),
            ("user_agent", "properties.userAgent"), ("record", "the whole record"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in resourceLogSource(root) != nil } ? 62 : 0
        },
        make: { context throws(IngestError) in AzureActivityLogDecoder(context: context) }
    )

    /// The audit source of a resource-log record, from its `category`; nil when the record is not one.
    package static func resourceLogSource(_ root: JSONValue) -> String? {
        // Key names are matched ignoring case (exports differ: `operationName`, `OperationName`, `operationname`).
        var operation: String?
        var category: String?
        var resource: String?
        root.forEachMember { key, value in
            switch key.string?.lowercased() {
            case "operationname": operation = value.string
            case "category": category = value.string
            case "resourceid": resource = value.string
            default: break
            }
        }
        guard let operation, let category else { return nil }
        if let source = categorySources[category.lowercased()] { return source }
        // An Entra ID record whose `category` is its audit category (ApplicationManagement,
        // UserManagement, …), as some exports put it: the directory's resource id says what it is.
        if let resource, resource.lowercased().contains("/microsoft.aadiam") {
            return operation.lowercased().contains("sign-in") ? "azure-signin" : "azure-audit"
        }
        return nil
    }

    /// The audit source of a Log Analytics row, from its `Type` (or, for `AzureActivity` rows
    /// exported without it, their column names); nil when the row is of no such table.
    package static func tableSource(_ root: JSONValue) -> String? {
        if let type = root["Type"]?.string, let source = tableSources[type.lowercased()] { return source }
        return AzureMonitorFormat.isActivityRow(root) ? "azure-activity" : nil
    }

    private static let categorySources: [String: String] = {
        var result: [String: String] = [:]
        for category in ["administrative", "security", "servicehealth", "alert", "recommendation", "policy", "autoscale",
                         "resourcehealth"] { result[category] = "azure-activity" }
        result["auditlogs"] = "azure-audit"
        for category in ["signinlogs", "noninteractiveusersigninlogs", "serviceprincipalsigninlogs", "managedidentitysigninlogs",
                         "adfssigninlogs"] { result[category] = "azure-signin" }
        for category in ["userriskevents", "riskyusers", "serviceprincipalriskevents", "riskyserviceprincipals"] {
            result[category] = "azure-riskdetection"
        }
        return result
    }()

    private static let tableSources: [String: String] = [
        "azureactivity": "azure-activity", "auditlogs": "azure-audit", "signinlogs": "azure-signin",
        "aadnoninteractiveusersigninlogs": "azure-signin", "aadserviceprincipalsigninlogs": "azure-signin",
        "aadmanagedidentitysigninlogs": "azure-signin", "aaduserriskevents": "azure-riskdetection",
        "aadriskyusers": "azure-riskdetection",
    ]

    private static let actionPaths = JSONPaths.split(["operationName", "OperationName", "OperationNameValue", "operationname"])
    private static let principalPaths = JSONPaths.split([
        "caller", "Caller", "properties.caller", "properties.initiatedBy.user.userPrincipalName", "properties.initiatedBy.app.displayName",
        "properties.userPrincipalName", "UserPrincipalName", "InitiatedBy.user.userPrincipalName", "Identity", "identity",
    ])
    private static let addressPaths = JSONPaths.split([
        "callerIpAddress", "CallerIpAddress", "properties.ipAddress", "IPAddress",
        "properties.initiatedBy.user.ipAddress", "InitiatedBy.user.ipAddress",
    ])
    private static let targetPaths = JSONPaths.split(["resourceId", "_ResourceId", "ResourceId"])
    private static let outcomePaths = JSONPaths.split([
        "resultType", "ResultType", "ActivityStatusValue", "properties.result", "Result", "properties.status.errorCode",
    ])

    /// The audit row of a record of source `source` (either shape).
    package static func auditRow(_ root: JSONValue, source: String) -> AuditRow {
        var row = AuditRow(source: source)
        row.action = JSONPaths.first(actionPaths, in: root)
        row.principal = JSONPaths.first(principalPaths, in: root)
        if let claims = root["identity"]?["claims"], claims.kind == .object {
            // The claim names are URLs, dots included: looked up whole, not as a dotted path.
            row.principal = claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"]
                ?? claims["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"]
                ?? claims["appid"] ?? row.principal
        }
        row.sourceAddress = JSONPaths.first(addressPaths, in: root)
        row.userAgent = root["properties"]?["userAgent"] ?? root["UserAgent"]
        if let target = JSONPaths.first(targetPaths, in: root)?.string {
            row.target = target
        } else if let resources = (root["properties"]?["targetResources"] ?? root["TargetResources"]), resources.kind == .array,
                  let first = resources.elements.first {
            row.target = (first["userPrincipalName"] ?? first["displayName"] ?? first["id"])?.string
        }
        if let service = root["properties"]?["loggedByService"] ?? root["LoggedByService"] ?? root["ResourceProviderValue"] {
            row.service = service
        } else if let action = row.action?.string, let slash = action.firstIndex(of: "/") {
            row.serviceText = String(action[..<slash])
        } else {
            row.service = root["category"] ?? root["Category"]
        }
        if let outcome = JSONPaths.first(outcomePaths, in: root) {
            row.outcome = Self.outcome(outcome, isSignIn: source == "azure-signin")
        }
        return row
    }

    /// `success` / `failure` from an activity `resultType` (`Success`, `Failure`, `Start`, …) or a
    /// sign-in result type (`0` is success, an error code is a failure); other words as they are.
    static func outcome(_ value: JSONValue, isSignIn: Bool) -> String? {
        let text: String
        switch value.kind {
        case .string: text = value.string ?? ""
        case .number: text = String(decoding: value.rawBytes.array, as: UTF8.self)
        default: return nil
        }
        if isSignIn, let code = Int(text) { return code == 0 ? "success" : "failure" }
        let lowered = text.lowercased()
        if lowered.hasPrefix("succe") { return "success" }
        if lowered.hasPrefix("fail") { return "failure" }
        return lowered.isEmpty ? nil : lowered
    }
}

/// Decoder for ``AzureActivityLogFormat``.
package final class AzureActivityLogDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private static let timePaths = JSONPaths.split(["time", "TimeGenerated", "eventTimestamp", "properties.activityDateTime",
                                                    "properties.createdDateTime"])

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("Azure activity log: missing or unparseable time")
        }
        let source = AzureActivityLogFormat.resourceLogSource(root) ?? AzureActivityLogFormat.tableSource(root) ?? "azure-activity"
        AzureActivityLogFormat.auditRow(root, source: source).write(
            time: time, record: record, overrides: .json(overrides, root: root), into: rows)
    }
}
