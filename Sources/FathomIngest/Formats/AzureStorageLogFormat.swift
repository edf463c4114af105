import FathomStore
import FathomSupport
import FathomCatalog

/// Azure Storage (blob) resource logs, in both shapes responders receive them:
///
/// - **diagnostic settings** (archived to a storage account or streamed to Event Hubs), inside
///   `{"records":[…]}` or one record per line: `time`, `operationName`, `callerIpAddress`
///   (`ip:port`), `statusCode`, `identity.requester.*`, `properties.objectKey`,
///   `properties.userAgentHeader`, `properties.responseBodySize`;
/// - **Log Analytics** `StorageBlobLogs` rows (exported query results): `TimeGenerated` (seven
///   fractional digits), `OperationName`, `CallerIpAddress`, `ObjectKey`, `StatusCode` (a
///   string), `RequesterUpn`, `UserAgentHeader`, `ResponseBodySize`.
///
/// Specification: "Azure Blob Storage monitoring data reference", section "Resource logs" and
/// its "Fields that describe the operation / the authentication / the service" tables,
/// https://learn.microsoft.com/azure/storage/blobs/monitor-blob-storage-reference ; the
/// `StorageBlobLogs` table reference,
/// https://learn.microsoft.com/azure/azure-monitor/reference/tables/storagebloblogs .
///
/// `objectKey` is `/account/container/blob/path`: the container becomes `bucket`, the rest
/// (percent-decoded) `key`. `principal` is the requester's UPN, else its object id, app id, the
/// token hash (account key or SAS), else the authentication type. `bytes` is the response body
/// size or the request body size, whichever is larger (a read sends the one, a write the other).
/// Records without an operation (metrics, other categories) are kept whole as **audit** rows of
/// source `azure-storage`.
public enum AzureStorageLogFormat {
    public static let descriptor = FormatDescriptor(
        name: "azure-storage",
        summary: "Azure Storage blob resource logs: diagnostic-settings records and StorageBlobLogs rows.",
        kinds: [.storage, .audit],
        fieldMap: [
            ("time", "time | TimeGenerated"), ("src_ip", "callerIpAddress | CallerIpAddress (port removed)"),
            ("principal", "identity.requester.upn | .objectId | .appId | identity.tokenHash | RequesterUpn | …"),
            ("operation", "operationName | OperationName"), ("action", "operation → read/write/delete/list/other"),
            ("bucket", "objectKey container"), ("key", "objectKey blob path (percent-decoded)"),
            ("user_agent", "properties.userAgentHeader | UserAgentHeader"), ("status", "statusCode | StatusCode"),
            ("bytes", "max(responseBodySize, requestBodySize) (properties. or Log Analytics columns)"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in isStorageRecord(root) } ? 60 : 0
        },
        make: { context throws(IngestError) in AzureStorageLogDecoder(context: context) }
    )

    /// Whether `root` is a blob storage log record of either shape.
    package static func isStorageRecord(_ root: JSONValue) -> Bool {
        if root.has("operationName"), root.has("time") {
            if let category = root["category"], category.withDecodedString({ $0.starts(with: Array("Storage".utf8)) }) == true {
                return true
            }
            if let properties = root["properties"], properties.has("objectKey") || properties.has("serviceType") {
                return true
            }
            return root["resourceId"]?.string?.lowercased().contains("/microsoft.storage/") ?? false
        }
        if root.has("OperationName"), root.has("TimeGenerated") {
            if root["Type"]?.string?.hasPrefix("Storage") == true { return true }
            return root.has("ObjectKey") || (root.has("AccountName") && root.has("ServiceType"))
        }
        return false
    }
}

/// Decoder for ``AzureStorageLogFormat``.
package final class AzureStorageLogDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let scratch = ScratchBuffer(capacity: 256)
    private let actions = OperationActions()
    private let schema = SourceKind.storage.schema
    package static let timePaths = JSONPaths.split(["time", "TimeGenerated", "TimeGenerated [UTC]"])
    package static let operationPaths = JSONPaths.split(["operationName", "OperationName"])
    package static let ipPaths = JSONPaths.split(["callerIpAddress", "CallerIpAddress"])
    package static let principalPaths = JSONPaths.split([
        "identity.requester.upn", "identity.requester.objectId", "identity.requester.appId", "identity.tokenHash",
        "RequesterUpn", "RequesterObjectId", "RequesterAppId", "AuthenticationHash", "identity.type", "AuthenticationType",
    ])
    package static let keyPaths = JSONPaths.split(["properties.objectKey", "ObjectKey"])
    package static let agentPaths = JSONPaths.split(["properties.userAgentHeader", "UserAgentHeader"])
    package static let statusPaths = JSONPaths.split(["statusCode", "StatusCode"])

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("Azure storage log: missing or unparseable time")
        }
        guard let operation = JSONPaths.first(Self.operationPaths, in: root), operation.kind == .string else {
            AuditRow.generic(source: "azure-storage", root: root).write(
                time: time, record: record, overrides: .json(overrides, root: root), into: rows)
            return
        }
        rows.begin(.storage, time: time, overrides: .json(overrides, root: root))
        _ = operation.withDecodedString { actions.write($0, kind: .storage, into: rows) }
        if let ip = JSONPaths.first(Self.ipPaths, in: root), let column = schema.index(of: "src_ip") {
            JSONFields.write(ip, role: .address, column: column, kind: .storage, into: rows)
        }
        if let principal = JSONPaths.first(Self.principalPaths, in: root), let column = schema.index(of: "principal") {
            JSONFields.writeString(principal, column: column, into: rows)
        }
        if let key = JSONPaths.first(Self.keyPaths, in: root) {
            _ = key.withDecodedString { writeObjectKey($0, into: rows) }
        }
        if let agent = JSONPaths.first(Self.agentPaths, in: root), let column = schema.index(of: "user_agent") {
            JSONFields.writeString(agent, column: column, into: rows)
        }
        if let status = JSONPaths.first(Self.statusPaths, in: root)?.int64, let column = schema.index(of: "status") {
            rows.setInt64(status, at: column)
        }
        if let column = schema.index(of: "bytes") {
            // Reads send a response body, writes a request body: the larger is what moved.
            let response = (root["properties"]?["responseBodySize"] ?? root["ResponseBodySize"])?.int64
            let request = (root["properties"]?["requestBodySize"] ?? root["RequestBodySize"])?.int64
            if response != nil || request != nil { rows.setInt64(max(response ?? 0, request ?? 0), at: column) }
        }
        rows.commit()
    }

    /// `/account/container/dir/blob.bin` → bucket `container`, key `dir/blob.bin` (percent-decoded).
    private func writeObjectKey(_ raw: ByteView, into rows: RowWriter) {
        var value = TextCodecs.trimmed(raw)
        if value.count >= 2, value[0] == UInt8(ascii: "\""), value[value.count - 1] == UInt8(ascii: "\"") {
            value = value[1..<value.count - 1]
        }
        guard value.count > 1, value[0] == UInt8(ascii: "/"),
              let second = value.firstIndex(of: UInt8(ascii: "/"), from: 1) else {
            if let column = schema.index(of: "key") {
                rows.setString(TextCodecs.percentDecode(value, into: scratch), at: column)
            }
            return
        }
        let rest = value[second + 1..<value.count]
        let slash = rest.firstIndex(of: UInt8(ascii: "/"))
        let container = rest[0..<(slash ?? rest.count)]
        if let column = schema.index(of: "bucket") { rows.setString(container, at: column) }
        if let slash, let column = schema.index(of: "key") {
            rows.setString(TextCodecs.percentDecode(rest[slash + 1..<rest.count], into: scratch), at: column)
        }
    }
}
