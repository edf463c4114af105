import FathomStore
import FathomSupport

/// The on-disk spellings of the simulated records: the same shapes the platforms export.
///
/// Each function appends one record (a line, or one element of a JSON array) to a ``ByteWriter``.
/// Values in the events are decoded; escapes are applied here, per format.
package enum RecordFormat {
    /// API gateway JSON Lines: `{"timestamp":…,"client_ip":…,"api_key":…,"method":…,"path":…,
    /// "status":…,"latency_ms":…,"bytes_sent":…,"request_id":…,"model":…,"model_version":…,
    /// "request_body":"<escaped JSON text>","user_agent":…}`.
    package static func gatewayLine(_ event: InferenceEvent, into w: inout ByteWriter) {
        let e = event.escaping
        w.append("{\"timestamp\":\""); w.appendRFC3339(event.time, fractionDigits: 3)
        w.append("\",\"client_ip\":"); w.appendJSONString(event.srcIP, e)
        w.append(",\"api_key\":")
        if let key = event.apiKey { w.appendJSONString(key, e) } else { w.append("null") }
        w.append(",\"method\":"); w.appendJSONString(event.method, e)
        w.append(",\"path\":"); w.appendJSONString(event.path, e)
        w.append(",\"status\":"); w.append(int: event.status)
        w.append(",\"latency_ms\":"); w.append(fixed: event.latencyMicros / 100 * 100, scale: 3)
        w.append(",\"bytes_sent\":"); w.append(int: event.bytes)
        w.append(",\"request_id\":"); w.appendJSONString(event.requestID, e)
        if let model = event.model {
            w.append(",\"model\":"); w.appendJSONString(model, e)
            w.append(",\"model_version\":")
            if let version = event.version { w.appendJSONString(version, e) } else { w.append("null") }
        }
        w.append(",\"request_body\":")
        if let body = event.body { w.appendJSONString(body, e) } else { w.append("null") }
        w.append(",\"user_agent\":"); w.appendJSONString(event.userAgent, e)
        w.append("}\n")
    }

    /// nginx `combined` plus `$request_time`:
    /// `203.0.113.7 - - [02/Mar/2026:10:00:00 +0000] "POST /v1/completions HTTP/1.1" 200 512 "-" "python-requests/2.31" 0.012`.
    package static func nginxLine(_ event: InferenceEvent, into w: inout ByteWriter) {
        w.append(event.srcIP); w.append(" - - [")
        w.appendCommonLogTime(event.time)
        w.append("] \""); w.append(event.method); w.append(" "); w.append(event.path)
        w.append(" HTTP/1.1\" "); w.append(int: event.status); w.append(" "); w.append(int: event.bytes)
        w.append(" \"-\" \""); appendNginxEscaped(event.userAgent, into: &w)
        let millis = event.latencyMicros / 1000
        w.append("\" "); w.append(int: millis / 1000); w.append(".")
        w.appendPadded(millis % 1000, width: 3)
        w.append("\n")
    }

    /// nginx escapes `"`, `\` and bytes outside printable ASCII as `\xXX` in logged strings.
    private static func appendNginxEscaped(_ text: String, into w: inout ByteWriter) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x7F {
                w.append("\\x"); w.append(byte: hex[Int(byte >> 4)]); w.append(byte: hex[Int(byte & 0xF)])
            } else {
                w.append(byte: byte)
            }
        }
    }

    /// Decision log JSON Lines.
    package static func predictionLine(_ event: PredictionEvent, into w: inout ByteWriter) {
        w.append("{\"timestamp\":\""); w.appendRFC3339(event.time, fractionDigits: 3)
        w.append("\",\"model\":"); w.appendJSONString(event.model)
        w.append(",\"model_version\":"); w.appendJSONString(event.version)
        w.append(",\"request_id\":"); w.appendJSONString(event.requestID)
        w.append(",\"decision\":"); w.appendJSONString(event.decision)
        w.append(",\"score\":"); w.append(fixed: event.scoreMicros, scale: 6)
        w.append(",\"customer_id\":"); w.appendJSONString(event.customerID)
        w.append("}\n")
    }

    package static let s3BucketOwner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

    /// One AWS S3 server access log line, fields in the order of the AWS documentation:
    /// bucket owner, bucket, [time], remote IP, requester, request ID, operation, key,
    /// "request-URI", HTTP status, error code, bytes sent, object size, total time, turn-around
    /// time, "referer", "user-agent", version ID, then (newer eras) host ID, signature version,
    /// cipher suite, authentication type, host header, TLS version, access point ARN, aclRequired.
    package static func s3Line(_ event: StorageEvent, hostID: String, into w: inout ByteWriter) {
        w.append(s3BucketOwner); w.append(" "); w.append(event.bucket); w.append(" [")
        w.appendCommonLogTime(event.time); w.append("] ")
        w.append(event.srcIP); w.append(" ")
        w.append(event.principal ?? "-"); w.append(" ")
        w.append(event.requestID); w.append(" ")
        w.append(event.operation); w.append(" ")
        if let key = event.key { w.appendURLEncoded(key) } else { w.append("-") }
        w.append(" \"")
        let verb = event.operation.split(separator: ".").dropFirst().first.map(String.init) ?? "GET"
        w.append(verb == "COPY" ? "PUT" : verb); w.append(" /"); w.append(event.bucket)
        if let key = event.key {
            w.append("/"); w.appendURLEncoded(key)
            if event.operation.hasSuffix("_TAGGING") { w.append("?tagging") }
            if event.authType == "QueryString" {
                w.append("?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAXQ2LHNZ4W7EXAMPL%2F20260303%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260303T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=")
                let signature = event.requestID.lowercased()
                for _ in 0..<4 { w.append(signature) }
            }
        } else {
            w.append("?list-type=2&prefix=models%2F")
        }
        w.append(" HTTP/1.1\" "); w.append(int: event.status); w.append(" ")
        w.append(event.errorCode ?? "-"); w.append(" ")
        if event.bytesSent > 0 { w.append(int: event.bytesSent) } else { w.append("-") }
        w.append(" ")
        if event.key != nil && event.objectSize > 0 { w.append(int: event.objectSize) } else { w.append("-") }
        w.append(" "); w.append(int: event.totalTimeMs); w.append(" ")
        if event.status < 300 { w.append(int: max(1, event.totalTimeMs / 3)) } else { w.append("-") }
        w.append(" \"-\" \""); w.append(event.userAgent); w.append("\" -")
        if event.era.rawValue >= S3LogEra.hostHeader.rawValue {
            w.append(" "); w.append(hostID)
            w.append(" SigV4 ")
            w.append(event.era == .current ? "TLS_AES_128_GCM_SHA256" : "ECDHE-RSA-AES128-GCM-SHA256")
            w.append(" "); w.append(event.authType); w.append(" ")
            w.append(event.bucket); w.append(".s3.us-east-1.amazonaws.com")
        }
        if event.era.rawValue >= S3LogEra.tls.rawValue {
            w.append(event.era == .current ? " TLSv1.3" : " TLSv1.2")
        }
        if event.era == .current {
            w.append(" - -")
        }
        w.append("\n")
    }

    package static let azureResourceID = "/subscriptions/6f1d2c3b-8a9e-4b7c-9d0e-1f2a3b4c5d6e/resourceGroups/rg-ml-prod/providers/Microsoft.Storage/storageAccounts/contosomlstore/blobServices/default"
    package static let azureAccount = "contosomlstore"

    /// One Azure Storage resource-log record (the `StorageBlobLogs` shape inside
    /// `{"records":[…]}`), without a trailing separator.
    package static func azureRecord(_ event: StorageEvent, correlationID: String, into w: inout ByteWriter) {
        w.append("{\"time\":\""); w.appendRFC3339(event.time, fractionDigits: 7)
        w.append("\",\"resourceId\":\""); w.append(azureResourceID)
        let category: String
        switch event.operation {
        case "PutBlob", "PutBlock", "PutBlockList": category = "StorageWrite"
        case "DeleteBlob": category = "StorageDelete"
        default: category = "StorageRead"
        }
        w.append("\",\"category\":\""); w.append(category)
        w.append("\",\"operationName\":\""); w.append(event.operation)
        w.append("\",\"operationVersion\":\"2021-12-02\",\"schemaVersion\":\"1.0\",\"statusCode\":")
        w.append(int: event.status)
        w.append(",\"statusText\":\"")
        w.append(event.status < 300 ? "Success" : (event.errorCode ?? "ClientOtherError"))
        w.append("\",\"durationMs\":"); w.append(int: event.totalTimeMs)
        w.append(",\"callerIpAddress\":\""); w.append(event.srcIP); w.append(":"); w.append(int: event.port)
        w.append("\",\"correlationId\":\""); w.append(correlationID)
        w.append("\",\"identity\":")
        if let principal = event.principal, principal.contains("@") {
            w.append("{\"type\":\"OAuth\",\"tokenHash\":\"sha256:"); w.append(String(correlationID.prefix(16)))
            w.append("\",\"requester\":{\"appId\":\"04b07795-8ddb-461a-bbee-02f9e1bf7b46\",\"audience\":\"https://storage.azure.com/\",\"objectId\":\"")
            w.append(correlationID); w.append("\",\"tenantId\":\"72f988bf-86f1-41af-91ab-2d7cd011db47\",\"upn\":")
            w.appendJSONString(principal); w.append("}}")
        } else if event.authType == "SAS" {
            w.append("{\"type\":\"SAS\",\"tokenHash\":\"key1(6C6F2A3B),SasSignature(")
            w.append(String(correlationID.suffix(12)).uppercased()); w.append(")\"}")
        } else {
            w.append("{\"type\":\"AccountKey\",\"tokenHash\":\"key1(6C6F2A3B)\"}")
        }
        w.append(",\"location\":\"westeurope\",\"properties\":{\"accountName\":\""); w.append(azureAccount)
        w.append("\",\"userAgentHeader\":"); w.appendJSONString(event.userAgent)
        w.append(",\"serviceType\":\"blob\",\"objectKey\":\"/"); w.append(azureAccount); w.append("/")
        w.append(event.bucket)
        if let key = event.key { w.append("/"); w.appendJSONStringBody(key) }
        w.append("\",\"metricResponseType\":\"")
        w.append(event.status < 300 ? "Success" : (event.status == 403 ? "AuthorizationError" : "ClientOtherError"))
        w.append("\",\"serverLatencyMs\":"); w.append(int: max(1, event.totalTimeMs - 2))
        w.append(",\"responseBodySize\":"); w.append(int: event.bytesSent)
        w.append(",\"tlsVersion\":\"TLS 1.2\"},\"uri\":\"https://"); w.append(azureAccount)
        w.append(".blob.core.windows.net:443/"); w.append(event.bucket)
        if let key = event.key { w.append("/"); w.appendURLEncoded(key) } else { w.append("?restype=container&comp=list") }
        w.append("\",\"protocol\":\"HTTPS\",\"resourceType\":\"Microsoft.Storage/storageAccounts/blobServices\"}")
    }

    /// LLM gateway JSON Lines with OpenAI-style messages; non-ASCII written as `\uXXXX` (the
    /// gateway is Python: `json.dumps` with its default `ensure_ascii`).
    package static func llmLine(_ event: LLMEvent, responseID: String, into w: inout ByteWriter) {
        let e = ByteWriter.JSONEscaping(escapesSlash: false, isASCIIOnly: true)
        w.append("{\"timestamp\":\""); w.appendRFC3339(event.time, fractionDigits: 3)
        w.append("\",\"user\":"); w.appendJSONString(event.user, e)
        w.append(",\"session_id\":"); w.appendJSONString(event.session, e)
        w.append(",\"client_ip\":"); w.appendJSONString(event.clientIP, e)
        w.append(",\"model\":"); w.appendJSONString(event.model, e)
        w.append(",\"request\":{\"model\":"); w.appendJSONString(event.model, e)
        w.append(",\"messages\":[")
        var promptChars = 0
        for (index, message) in event.messages.enumerated() {
            if index > 0 { w.append(",") }
            w.append("{\"role\":"); w.appendJSONString(message.role, e)
            w.append(",\"content\":"); w.appendJSONString(message.content, e); w.append("}")
            promptChars += message.content.utf8.count
        }
        w.append("],\"temperature\":0.2},\"response\":{\"id\":\"chatcmpl-"); w.append(responseID)
        w.append("\",\"object\":\"chat.completion\",\"model\":"); w.appendJSONString(event.model, e)
        w.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":")
        w.appendJSONString(event.response, e)
        w.append("},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"); w.append(int: promptChars / 4 + 7)
        w.append(",\"completion_tokens\":"); w.append(int: event.response.utf8.count / 4 + 1)
        w.append(",\"total_tokens\":"); w.append(int: promptChars / 4 + 8 + event.response.utf8.count / 4)
        w.append("}}}\n")
    }

    /// MLOps pipeline JSON Lines.
    package static func pipelineLine(_ event: PipelineEvent, into w: inout ByteWriter) {
        w.append("{\"timestamp\":\""); w.appendRFC3339(event.time, fractionDigits: 3)
        w.append("\",\"user\":"); w.appendJSONString(event.user)
        w.append(",\"action\":"); w.appendJSONString(event.action)
        w.append(",\"pipeline\":"); w.appendJSONString(event.pipeline)
        w.append(",\"status\":"); w.appendJSONString(event.status)
        w.append(",\"run_id\":"); w.appendJSONString(event.runID)
        w.append("}\n")
    }

    /// A Kubernetes `audit.k8s.io/v1` `Event` at stage `ResponseComplete`, one JSON line.
    package static func auditLine(_ event: DeploymentAuditEvent, auditID: String) -> String {
        var objectRef: [String: JSONTree] = [
            "resource": "deployments", "namespace": .string(event.namespace), "name": .string(event.name),
            "apiGroup": "apps", "apiVersion": "v1",
        ]
        var uri = "/apis/apps/v1/namespaces/\(event.namespace)/deployments/\(event.name)"
        if let sub = event.subresource { objectRef["subresource"] = .string(sub); uri += "/\(sub)" }
        if event.verb == "create" { uri = "/apis/apps/v1/namespaces/\(event.namespace)/deployments" }
        var requestObject: JSONTree = .null
        if let image = event.image {
            let container: JSONTree = ["name": .string(event.name), "image": .string(image)]
            let template: JSONTree = ["spec": ["containers": [container]],
                                       "metadata": ["labels": ["app": .string(event.name)]]]
            if event.verb == "create" {
                requestObject = ["kind": "Deployment", "apiVersion": "apps/v1",
                                 "metadata": ["name": .string(event.name), "namespace": .string(event.namespace)],
                                 "spec": ["replicas": 3, "template": template]]
            } else {
                requestObject = ["spec": ["template": template]]
            }
        } else if let replicas = event.replicas {
            requestObject = ["kind": "Scale", "apiVersion": "autoscaling/v1",
                             "metadata": ["name": .string(event.name), "namespace": .string(event.namespace)],
                             "spec": ["replicas": .int(replicas)]]
        }
        let received = event.time - 3_000_000
        var value: [String: JSONTree] = [
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
            "auditID": .string(auditID), "stage": "ResponseComplete", "requestURI": .string(uri),
            "verb": .string(event.verb),
            "user": ["username": .string(event.username),
                     "groups": event.username.hasPrefix("system:serviceaccount:")
                        ? ["system:serviceaccounts", "system:authenticated"] : ["ml-platform", "system:authenticated"]],
            "sourceIPs": [.string(event.sourceIP)],
            "userAgent": event.username.contains("horizontal-pod-autoscaler")
                ? "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/system:serviceaccount:kube-system:horizontal-pod-autoscaler"
                : "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",
            "objectRef": .object(objectRef),
            "responseStatus": event.code < 300 ? ["metadata": [:], "code": .int(event.code)]
                : ["metadata": [:], "status": "Failure", "reason": event.code == 403 ? "Forbidden" : "Conflict", "code": .int(event.code)],
            "requestReceivedTimestamp": .string(ScenarioTime.rfc3339(received, fractionDigits: 6)),
            "stageTimestamp": .string(ScenarioTime.rfc3339(event.time, fractionDigits: 6)),
            "annotations": ["authorization.k8s.io/decision": event.code == 403 ? "forbid" : "allow"],
        ]
        if requestObject != .null { value["requestObject"] = requestObject }
        return JSONTree.object(value).compact() + "\n"
    }
}
