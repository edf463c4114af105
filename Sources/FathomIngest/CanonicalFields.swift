import FathomStore
import FathomSupport
import FathomCatalog

/// The field names Fathom recognises without a profile, per canonical column, and how the source
/// kind of a generic record is told from the fields it has.
public enum CanonicalFields {
    /// Canonical column → common source field names, most specific first. Paths use dots for
    /// nested objects. `input` is the request body, hashed into `input_hash`.
    public static let candidates: [(column: String, names: [String])] = [
        ("time", ["timestamp", "@timestamp", "time", "ts", "eventTime", "TimeGenerated", "datetime", "date",
                  "event_time", "created_at", "createdAt", "stageTimestamp", "requestReceivedTimestamp", "logged_at"]),
        ("src_ip", ["src_ip", "client_ip", "clientIp", "remote_addr", "remote_ip", "callerIpAddress",
                    "sourceIPAddress", "source_ip", "client_address", "ip", "ip_address", "client.ip", "sourceIp"]),
        ("principal", ["principal", "api_key", "apiKey", "api_key_id", "key_id", "user", "user_id", "userId",
                       "username", "user_name", "identity", "caller", "requester", "actor", "user.username"]),
        ("method", ["method", "http_method", "request_method", "httpMethod"]),
        ("path", ["path", "request_path", "uri", "request_uri", "url", "endpoint", "route", "requestUri"]),
        ("status", ["status", "status_code", "statusCode", "http_status", "response_code", "httpStatus", "state"]),
        ("latency_ms", ["latency_ms", "duration_ms", "response_time_ms", "elapsed_ms", "latencyMs", "latency"]),
        ("bytes", ["bytes", "bytes_sent", "body_bytes_sent", "response_bytes", "bytes_out", "content_length", "size"]),
        ("input", ["request_body", "requestBody", "body", "input", "inputs", "payload", "features", "instances"]),
        ("model", ["model", "model_name", "modelName", "model_id", "deployment"]),
        ("version", ["version", "model_version", "modelVersion"]),
        ("request_id", ["request_id", "requestId", "req_id", "trace_id", "correlation_id", "id"]),
        ("operation", ["operation", "operationName", "op", "eventName", "api", "verb"]),
        ("action", ["action", "activity", "step", "task"]),
        ("bucket", ["bucket", "bucket_name", "bucketName", "container"]),
        ("key", ["key", "object_key", "objectKey", "object", "blob", "blob_name"]),
        ("user_agent", ["user_agent", "userAgent", "http_user_agent", "ua"]),
        ("referer", ["referer", "referrer", "http_referer", "http_referrer"]),
        ("host", ["host", "http_host", "request_host", "authority", "request.host", "request.headers.host", "headers.host"]),
        ("session", ["session", "session_id", "sessionId", "conversation_id", "conversationId", "thread_id"]),
        ("prompt", ["prompt", "messages", "request.messages", "query", "question", "user_input"]),
        ("response", ["response", "completion", "output", "answer", "response.choices"]),
        ("system_prompt", ["system_prompt", "system"]),
        ("pipeline", ["pipeline", "pipeline_name", "pipelineName", "workflow", "job", "job_name", "dag_id"]),
        ("run_id", ["run_id", "runId", "job_id", "jobId", "execution_id"]),
        ("event", ["event", "event_type", "eventType", "change"]),
        ("from_stage", ["from_stage", "fromStage", "previous_stage", "old_stage"]),
        ("to_stage", ["to_stage", "toStage", "stage", "new_stage", "current_stage"]),
        ("environment", ["environment", "namespace", "env", "cluster"]),
        ("decision", ["decision", "prediction", "outcome", "label", "verdict"]),
        ("score", ["score", "confidence", "probability", "risk_score"]),
        ("subject", ["subject", "customer_id", "customerId", "account_id", "applicant_id", "entity_id"]),
    ]

    public static var allNames: [String] { candidates.map(\.column) + ["input_hash"] }

    public static func isKnown(_ column: String) -> Bool { allNames.contains(column) }

    /// The canonical columns whose presence points to each kind, with weights. The kind with the
    /// highest total wins; ties and totals under 2 are undecidable.
    package static let kindEvidence: [(kind: SourceKind, fields: [(String, Int)])] = [
        (.predictions, [("decision", 3), ("score", 1), ("subject", 1), ("version", 1)]),
        (.llm, [("prompt", 3), ("response", 2), ("session", 1), ("system_prompt", 1)]),
        (.registry, [("to_stage", 3), ("from_stage", 3), ("version", 1), ("event", 1)]),
        (.pipeline, [("pipeline", 3), ("run_id", 1), ("action", 1)]),
        (.storage, [("bucket", 2), ("key", 2), ("operation", 1), ("user_agent", 1)]),
        (.inference, [("path", 2), ("method", 1), ("latency_ms", 1), ("input", 1), ("status", 1)]),
    ]

    /// The kind that the present canonical columns point to, or nil when undecidable.
    package static func kind(forPresent present: Set<String>) -> SourceKind? {
        var scored: [(SourceKind, Int)] = []
        for (kind, fields) in kindEvidence {
            let score = fields.reduce(0) { $0 + (present.contains($1.0) ? $1.1 : 0) }
            scored.append((kind, score))
        }
        scored.sort { $0.1 > $1.1 }
        guard let best = scored.first, best.1 >= 2 else { return nil }
        if scored.count > 1, scored[1].1 == best.1 { return nil }
        return best.0
    }

    /// How a raw storage operation maps onto an action: the first rule whose needle the
    /// lower-cased operation contains wins; none: `other`. Data, so the Spark job reads the same
    /// table (`fathom spark-job`).
    public static let storageActionRules: [(needle: String, action: String)] = [
        ("list", "list"), ("get.bucket", "list"),
        ("delete", "delete"),
        ("put", "write"), ("post", "write"), ("copy", "write"), ("write", "write"), ("upload", "write"),
        ("create", "write"), ("append", "write"),
        ("get", "read"), ("read", "read"), ("head", "read"), ("download", "read"),
    ]

    /// Maps a raw storage operation onto `read`, `write`, `delete`, `list` or `other`
    /// (``storageActionRules``).
    public static func storageAction(forOperation operation: String) -> String {
        let text = operation.lowercased()
        for rule in storageActionRules where text.contains(rule.needle) { return rule.action }
        return "other"
    }
}
