/// Who produced a generated record: background traffic or a planted actor. Ground truth only:
/// the reference answers never use it to decide a hit, only to label one.
enum ActorLabel: Sendable, Equatable {
    case background
    /// Background text that trips the phrase rule in an innocent sense.
    case benignPhrase
    case attacker(String)

    var isPlanted: Bool { if case .attacker = self { return true } else { return false } }
}

/// One inference request, as the gateway (JSON Lines) or the nginx front-end (combined log) saw it.
/// Strings are decoded values; the writers apply each format's escapes.
struct InferenceEvent: Sendable {
    var time: Int64
    var srcIP: String
    var apiKey: String?
    var method: String
    var path: String
    var status: Int
    var latencyMicros: Int
    var bytes: Int
    var requestID: String
    var model: String?
    var version: String?
    /// The decoded request body; nil for nginx rows (not logged) and bodiless requests.
    var body: String?
    var userAgent: String
    var isNginx: Bool
    var escaping: ByteWriter.JSONEscaping
    var label: ActorLabel
}

/// One decision of the fraud-detector, joined to its request by `requestID`.
struct PredictionEvent: Sendable {
    var time: Int64
    var model: String
    var version: String
    var requestID: String
    var decision: String
    /// Score in millionths.
    var scoreMicros: Int
    var customerID: String
}

/// The eras of the S3 server access log format (how many fields a line has).
enum S3LogEra: Int, Sendable {
    /// Through Version Id (18 fields).
    case legacy = 18
    /// Through Host Header (23 fields).
    case hostHeader = 23
    /// Through TLS version (24 fields).
    case tls = 24
    /// Through aclRequired (26 fields), the current format.
    case current = 26
}

/// One object-storage request, S3 or Azure Blob.
struct StorageEvent: Sendable {
    var time: Int64
    var srcIP: String
    var port: Int
    var principal: String?
    /// Raw operation: `REST.GET.OBJECT`, `GetBlob`, …
    var operation: String
    var bucket: String
    /// Decoded key (S3) or blob path within the container (Azure); nil when the operation has none.
    var key: String?
    var status: Int
    var errorCode: String?
    var bytesSent: Int
    var objectSize: Int
    var totalTimeMs: Int
    var userAgent: String
    var isAzure: Bool
    var era: S3LogEra
    var requestID: String
    var authType: String
    var label: ActorLabel
}

/// One LLM gateway exchange.
struct LLMEvent: Sendable {
    var time: Int64
    var user: String
    var session: String
    var clientIP: String
    var model: String
    /// (role, content) in order; the prompt is the last `user` message.
    var messages: [(role: String, content: String)]
    var response: String
    var label: ActorLabel
}

/// One MLOps pipeline action.
struct PipelineEvent: Sendable {
    var time: Int64
    var user: String
    var action: String
    var pipeline: String
    var status: String
    var runID: String
    var label: ActorLabel
}

/// One Kubernetes audit event on a Deployment (or its scale subresource).
struct DeploymentAuditEvent: Sendable {
    var time: Int64
    var verb: String
    var namespace: String
    var name: String
    var subresource: String?
    var username: String
    var sourceIP: String
    var code: Int
    /// Image set by the request (`registry.example.com/NAME:vN`), if any.
    var image: String?
    var replicas: Int?
    var label: ActorLabel
}

/// One row of MLflow's `model_versions`.
struct ModelVersionRow: Sendable {
    var name: String
    var version: Int
    var creationTime: Int64
    var lastUpdatedTime: Int64
    var description: String
    var userID: String
    var currentStage: String
    var runID: String
    var status: String
}

/// One row of MLflow's `registered_models`.
struct RegisteredModelRow: Sendable {
    var name: String
    var creationTime: Int64
    var lastUpdatedTime: Int64
    var description: String
}
