import FathomStore
import FathomSupport
import FathomCatalog

/// Amazon Bedrock model invocation logs, as LLM rows.
///
/// Specification: Amazon Bedrock User Guide, "Monitor model invocation using CloudWatch Logs and
/// Amazon S3" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html):
/// one JSON object per invocation with `schemaType` `ModelInvocationLog`, `timestamp`,
/// `identity.arn`, `requestId`, `operation` (`InvokeModel`, `InvokeModelWithResponseStream`,
/// `Converse`, `ConverseStream`), `modelId`, `input` {`inputBodyJson`, `inputTokenCount`} and
/// `output` {`outputBodyJson`, `outputTokenCount`}; bodies larger than the logging limit are
/// delivered to S3 (`inputBodyS3Path`, `outputBodyS3Path`) instead. The bodies are the model
/// providers' request and response formats (Bedrock User Guide, "Inference request parameters and
/// response fields for foundation models").
///
/// Mapped: `time` ← `timestamp`; `principal` ← `identity.arn`; `model` ← `modelId`; `prompt` ← the
/// last user message of `messages` (Converse and the Anthropic Messages API, content as a string
/// or text blocks), else `inputText` (Amazon Titan), `prompt` (Meta Llama, Mistral, Anthropic text
/// completions) or `texts` (Cohere embeddings, joined); `system_prompt` ← `system` (a string or
/// text blocks); `response` ← `output.message.content` (Converse), `content` (Anthropic),
/// `results[].outputText` (Titan), `generation` (Llama), `outputs[].text` (Mistral), `completion`,
/// `generations[].text` (Cohere), or, for streamed invocations whose body is an array of chunks,
/// the text of every chunk joined. An invocation whose bodies went to S3 is kept with its model
/// and principal (its text is not in the log). Token counts have no column; the whole record
/// stays in the evidence archive.
public enum BedrockInvocationFormat {
    public static let descriptor = FormatDescriptor(
        name: "bedrock-invocation",
        summary: "Amazon Bedrock model invocation logs (CloudWatch Logs or S3 delivery) as LLM prompts and responses.",
        kinds: [.llm],
        fieldMap: [
            ("time", "timestamp"), ("principal", "identity.arn"), ("model", "modelId"),
            ("prompt", "input.inputBodyJson: last user message of messages | inputText | prompt | texts"),
            ("system_prompt", "input.inputBodyJson.system"),
            ("response", "output.outputBodyJson: output.message.content | content | results[].outputText | generation | outputs[].text | completion"),
        ],
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in isInvocationRecord(root) } ? 90 : 0
        },
        make: { context throws(IngestError) in BedrockInvocationDecoder(context: context) }
    )

    package static func isInvocationRecord(_ root: JSONValue) -> Bool {
        if root["schemaType"]?.isString("ModelInvocationLog") == true { return true }
        return root["modelId"]?.kind == .string && root["input"]?.kind == .object
            && root["output"]?.kind == .object && root["operation"]?.kind == .string
    }

    /// The prompt of a request body: the last user message, else the single-text fields.
    package static func prompt(of body: JSONValue) -> String? {
        if let messages = body["messages"], messages.kind == .array {
            var last: String?
            for message in messages.elements where message.kind == .object && message["role"]?.string == "user" {
                if let content = message["content"], let text = JSONFields.messageText(content) { last = text }
            }
            if let last { return last }
        }
        for key in ["inputText", "prompt"] {
            if let text = body[key]?.string, !text.isEmpty { return text }
        }
        if let texts = body["texts"], texts.kind == .array {
            let joined = texts.elements.compactMap(\.string).joined(separator: "\n")
            if !joined.isEmpty { return joined }
        }
        return nil
    }

    /// The system prompt of a request body (`system` as a string or text blocks).
    package static func systemPrompt(of body: JSONValue) -> String? {
        guard let system = body["system"] else { return nil }
        return JSONFields.messageText(system)
    }

    /// The text of a response body, or of every chunk of a streamed one.
    package static func response(of body: JSONValue) -> String? {
        if body.kind == .array {
            let parts = body.elements.compactMap { chunk -> String? in
                if let text = response(of: chunk) { return text }
                // Streamed chunks of the Anthropic Messages API: {"type": "content_block_delta", "delta": {"text": …}}.
                return chunk["delta"]?["text"]?.string
            }
            return parts.isEmpty ? nil : parts.joined()
        }
        guard body.kind == .object else { return body.string }
        if let content = body["output"]?["message"]?["content"], let text = JSONFields.messageText(content) { return text }
        if let content = body["content"], let text = JSONFields.messageText(content) { return text }
        for (list, key) in [("results", "outputText"), ("outputs", "text"), ("generations", "text")] {
            if let items = body[list], items.kind == .array {
                let texts = items.elements.compactMap { $0[key]?.string }
                if !texts.isEmpty { return texts.joined(separator: "\n") }
            }
        }
        for key in ["outputText", "generation", "completion", "text"] {
            if let text = body[key]?.string { return text }
        }
        return nil
    }
}

/// Decoder for ``BedrockInvocationFormat``.
package final class BedrockInvocationDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let schema = SourceKind.llm.schema
    private static let timePaths = JSONPaths.split(["timestamp", "time", "@timestamp"])

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        guard let time = overrides.recordTime(in: root, builtIn: Self.timePaths) else {
            throw RecordReject("Bedrock invocation log: missing or unparseable timestamp")
        }
        guard let model = root["modelId"]?.string else {
            throw RecordReject("Bedrock invocation log: record without modelId")
        }
        rows.begin(.llm, time: time, overrides: .json(overrides, root: root))
        func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
        set("model", model)
        set("principal", root["identity"]?["arn"]?.string)
        if let body = root["input"]?["inputBodyJson"] {
            set("prompt", BedrockInvocationFormat.prompt(of: body))
            set("system_prompt", BedrockInvocationFormat.systemPrompt(of: body))
        }
        if let body = root["output"]?["outputBodyJson"] {
            set("response", BedrockInvocationFormat.response(of: body))
        }
        rows.commit()
    }
}
