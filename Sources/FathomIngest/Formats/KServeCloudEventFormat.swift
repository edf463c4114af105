import FathomStore
import FathomSupport
import FathomCatalog

/// KServe and Seldon inference-logger CloudEvents, as captured in structured mode (one CloudEvent
/// JSON object per line) or with binary-mode headers kept as `ce-…` keys.
///
/// Specification: CloudEvents 1.0 — "JSON Event Format" (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md,
/// sections 2 and 3: `specversion`, `id`, `source`, `type`, `time`, `data`, `data_base64`,
/// extension attributes as top-level members) and the HTTP binding's binary mode (`ce-` headers);
/// KServe "Inference Logger" (https://kserve.github.io/website/docs/model-serving/predictive-inference/logger/basic-logger:
/// events of type `org.kubeflow.serving.inference.request` / `.response`, extensions
/// `inferenceservicename`, `namespace`, `component`, `endpoint`); Seldon Core request logging
/// (`io.seldon.serving.inference.request`/`.response`, extensions `modelid`, `requestid`).
///
/// A request and its response share the CloudEvent `id`, kept as `request_id` on both rows so they
/// join. The **request** becomes an **inference** row: `input_hash` = hash of `data` (its JSON
/// text, or the decoded `data_base64`), `method` `POST` and `path` the route of the protocol the
/// payload uses (`/v1/models/<name>:predict` for `instances`, `/v2/models/<name>/infer` for
/// `inputs`; the logger does not record the URL). The **response** becomes a **predictions**
/// row: `decision` = `predictions[0]` (v1) or `outputs[0].data[0]` (v2), `score` from
/// `scores[0]`/`probabilities[0]` when present, `version` = `model_version` of the payload, else
/// the `modelversion` or `endpoint` extension; a response without a model name takes its
/// request's. Other event types are kept whole as **audit** rows of source `cloudevents`.
public enum KServeCloudEventFormat {
    public static let descriptor = FormatDescriptor(
        name: "kserve-cloudevents",
        summary: "KServe/Seldon inference-logger CloudEvents: requests → inference, responses → predictions.",
        kinds: [.inference, .predictions, .audit],
        fieldMap: [
            ("time", "time | ce-time"), ("request_id", "id | ce-id"),
            ("model", "inferenceservicename | modelid | data.model_name"),
            ("version", "data.model_version | modelversion | endpoint"),
            ("input_hash", "data | data_base64 (request)"), ("path", "/v1/models/<m>:predict | /v2/models/<m>/infer"),
            ("decision", "data.predictions[0] | data.outputs[0].data[0] (response)"),
            ("score", "data.scores[0] | data.probabilities[0]"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in
                guard let type = attribute("type", in: root)?.string else { return false }
                return (root.has("specversion") || root.has("ce-specversion") || root.has("ce_specversion"))
                    && (type.hasSuffix("inference.request") || type.hasSuffix("inference.response"))
            } ? 60 : 0
        },
        make: { context throws(IngestError) in KServeCloudEventDecoder(context: context) }
    )

    /// A CloudEvent attribute: a top-level member (structured mode) or a `ce-`/`ce_` key (headers).
    package static func attribute(_ name: String, in root: JSONValue) -> JSONValue? {
        for key in [name, "ce-" + name, "ce_" + name, "Ce-" + name.prefix(1).uppercased() + name.dropFirst()] {
            if let value = root[key], !value.isNull { return value }
        }
        return nil
    }
}

/// Decoder for ``KServeCloudEventFormat``.
package final class KServeCloudEventDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let inference = SourceKind.inference.schema
    private let predictions = SourceKind.predictions.schema
    /// Model names of recent requests by event id, so a response without one takes its request's.
    private var modelByID: [String: String] = [:]
    private static let joinLimit = 4096

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let type = KServeCloudEventFormat.attribute("type", in: root)?.string else {
            throw RecordReject("CloudEvent: missing type")
        }
        let isRequest = type.hasSuffix(".request")
        let timeValue = KServeCloudEventFormat.attribute("time", in: root)
        guard let time = overrides.time(in: root) ?? timeValue.flatMap(JSONFields.time(of:)) else {
            throw RecordReject("CloudEvent: missing or unparseable time")
        }
        guard isRequest || type.hasSuffix(".response") else {
            // Another CloudEvent type: kept whole as an audit row.
            var row = AuditRow(source: "cloudevents")
            row.action = KServeCloudEventFormat.attribute("type", in: root)
            row.service = KServeCloudEventFormat.attribute("source", in: root)
            row.write(time: time, record: record, overrides: .json(overrides, root: root), into: rows)
            return
        }
        let id = KServeCloudEventFormat.attribute("id", in: root)?.string
        let data = root["data"] ?? root["data_base64"]
        var model = KServeCloudEventFormat.attribute("inferenceservicename", in: root)?.string
            ?? KServeCloudEventFormat.attribute("modelid", in: root)?.string
            ?? data?["model_name"]?.string
        if model?.isEmpty == true { model = nil }
        if isRequest {
            if let id, let model {
                if modelByID.count >= Self.joinLimit { modelByID.removeAll(keepingCapacity: true) }
                modelByID[id] = model
            }
            writeRequest(root, time: time, id: id, model: model, data: data, into: rows)
        } else {
            if model == nil, let id { model = modelByID[id] }
            writeResponse(root, time: time, id: id, model: model, data: data, into: rows)
        }
    }

    private func writeRequest(_ root: JSONValue, time: Int64, id: String?, model: String?, data: JSONValue?,
                              into rows: RowWriter) {
        let schema = inference
        rows.begin(.inference, time: time, overrides: .json(overrides, root: root))
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        set("model", model)
        set("request_id", id)
        set("method", "POST")
        if let model, let data {
            if data.has("inputs"), data["inputs"]?.kind == .array, data["inputs"]?.elements.first?.kind == .object {
                set("path", "/v2/models/\(model)/infer")
            } else {
                set("path", "/v1/models/\(model):predict")
            }
        }
        if let data, let column = schema.index(of: "input_hash") {
            JSONFields.write(data, role: .hash, column: column, kind: .inference, into: rows)
        }
        rows.commit()
    }

    private func writeResponse(_ root: JSONValue, time: Int64, id: String?, model: String?, data: JSONValue?,
                               into rows: RowWriter) {
        let schema = predictions
        rows.begin(.predictions, time: time, overrides: .json(overrides, root: root))
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        set("model", model)
        set("request_id", id)
        set("version", data?["model_version"]?.string ?? KServeCloudEventFormat.attribute("modelversion", in: root)?.string
            ?? KServeCloudEventFormat.attribute("endpoint", in: root)?.string)
        let decision = data?["predictions"]?.elements.first
            ?? data?["outputs"]?.elements.first?["data"]?.elements.first
        if let decision, let column = schema.index(of: "decision") {
            JSONFields.writeString(decision, column: column, into: rows)
        }
        let score = data?["scores"]?.elements.first ?? data?["probabilities"]?.elements.first
        if let value = score?.double, let column = schema.index(of: "score") {
            rows.setDouble(value, at: column)
        }
        rows.commit()
    }
}
