import FathomStore
import FathomSupport

/// Who produced a generated record: background traffic or a planted actor. Ground truth only:
/// the reference answers never use it to decide a hit, only to label one.
package enum ActorLabel: Sendable, Equatable {
    case background
    /// Background text that trips the phrase rule in an innocent sense.
    case benignPhrase
    case attacker(String)

    package var isPlanted: Bool { if case .attacker = self { return true } else { return false } }
}

/// One inference request, as the gateway (JSON Lines) or the nginx front-end (combined log) saw it.
/// Strings are decoded values; the writers apply each format's escapes.
package struct InferenceEvent: Sendable {
    package var time: Int64
    package var srcIP: String
    package var apiKey: String?
    package var method: String
    package var path: String
    package var status: Int
    package var latencyMicros: Int
    package var bytes: Int
    package var requestID: String
    package var model: String?
    package var version: String?
    /// The decoded request body; nil for nginx rows (not logged) and bodiless requests.
    package var body: String?
    package var userAgent: String
    package var isNginx: Bool
    package var escaping: ByteWriter.JSONEscaping
    package var label: ActorLabel
}

/// One decision of the fraud-detector, joined to its request by `requestID`.
package struct PredictionEvent: Sendable {
    package var time: Int64
    package var model: String
    package var version: String
    package var requestID: String
    package var decision: String
    /// Score in millionths.
    package var scoreMicros: Int
    package var customerID: String
}

/// The eras of the S3 server access log format (how many fields a line has).
package enum S3LogEra: Int, Sendable {
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
package struct StorageEvent: Sendable {
    package var time: Int64
    package var srcIP: String
    package var port: Int
    package var principal: String?
    /// Raw operation: `REST.GET.OBJECT`, `GetBlob`, …
    package var operation: String
    package var bucket: String
    /// Decoded key (S3) or blob path within the container (Azure); nil when the operation has none.
    package var key: String?
    package var status: Int
    package var errorCode: String?
    package var bytesSent: Int
    package var objectSize: Int
    package var totalTimeMs: Int
    package var userAgent: String
    package var isAzure: Bool
    package var era: S3LogEra
    package var requestID: String
    package var authType: String
    package var label: ActorLabel
}

/// One LLM gateway exchange.
package struct LLMEvent: Sendable {
    package var time: Int64
    package var user: String
    package var session: String
    package var clientIP: String
    package var model: String
    /// (role, content) in order; the prompt is the last `user` message.
    package var messages: [(role: String, content: String)]
    package var response: String
    package var label: ActorLabel
}

/// One MLOps pipeline action.
package struct PipelineEvent: Sendable {
    package var time: Int64
    package var user: String
    package var action: String
    package var pipeline: String
    package var status: String
    package var runID: String
    package var label: ActorLabel
}

/// One Kubernetes audit event on a Deployment (or its scale subresource).
package struct DeploymentAuditEvent: Sendable {
    package var time: Int64
    package var verb: String
    package var namespace: String
    package var name: String
    package var subresource: String?
    package var username: String
    package var sourceIP: String
    package var code: Int
    /// Image set by the request (`registry.example.com/NAME:vN`), if any.
    package var image: String?
    package var replicas: Int?
    package var label: ActorLabel
}

/// One row of MLflow's `model_versions`.
package struct ModelVersionRow: Sendable {
    package var name: String
    package var version: Int
    package var creationTime: Int64
    package var lastUpdatedTime: Int64
    package var description: String
    package var userID: String
    package var currentStage: String
    package var runID: String
    package var status: String
}

/// One row of MLflow's `registered_models`.
package struct RegisteredModelRow: Sendable {
    package var name: String
    package var creationTime: Int64
    package var lastUpdatedTime: Int64
    package var description: String
}
