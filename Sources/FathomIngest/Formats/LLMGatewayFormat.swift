import FathomStore
import FathomSupport
import FathomCatalog

/// LLM gateway logs in the shapes OpenAI-compatible gateways write: chat `messages` arrays
/// (top level or under `request`), LiteLLM spend-log rows, and plain `prompt`/`response` records.
///
/// Specification: OpenAI API reference, "Create chat completion" — request `messages` (objects
/// with `role` `system`/`user`/`assistant` and `content` as a string or an array of parts) and
/// response `choices[].message.content` (https://platform.openai.com/docs/api-reference/chat/create);
/// LiteLLM proxy, "Spend Tracking" / `LiteLLM_SpendLogs` columns (`request_id`, `api_key`
/// (hashed), `startTime`, `model`, `user`, `messages`, `response`, `metadata.user_api_key_user_id`,
/// `requester_ip_address`, `session_id`) (https://docs.litellm.ai/docs/proxy/cost_tracking).
///
/// The prompt is the **last** user message; the first system message goes to `system_prompt`
/// (kept apart so an injected instruction in the prompt is not confused with the operator's
/// own); the response is `choices[0].message.content` (or `choices[0].text`, or `content`).
/// `principal` is the first non-empty of `user`, `metadata.user_api_key_user_id`, `end_user`,
/// `user_id`, `api_key`. Records with neither a prompt nor a response (embedding calls, health
/// checks) are kept whole as **audit** rows of source `llm-gateway`.
public enum LLMGatewayFormat {
    package static let builtIn: [(column: String, paths: [String])] = [
        ("time", ["timestamp", "startTime", "start_time", "created_at", "time", "@timestamp", "ts", "created"]),
        ("src_ip", ["client_ip", "requester_ip_address", "metadata.requester_ip_address", "src_ip", "remote_addr", "ip"]),
        ("principal", ["user", "metadata.user_api_key_user_id", "end_user", "user_id", "api_key", "metadata.user_api_key"]),
        ("session", ["session_id", "metadata.session_id", "conversation_id", "thread_id", "session"]),
        ("prompt", ["messages", "request.messages", "prompt", "request.prompt", "input", "proxy_server_request.messages"]),
        ("response", ["response", "completion", "output", "response_text"]),
        ("model", ["model", "request.model", "model_group", "response.model"]),
        ("system_prompt", ["system_prompt", "system", "request.system"]),
    ]

    public static let descriptor = FormatDescriptor(
        name: "llm-gateway",
        summary: "LLM gateway logs: OpenAI-style messages, LiteLLM spend logs, prompt/response records.",
        kinds: [.llm, .audit],
        fieldMap: builtIn.map { ($0.column, $0.paths.prefix(4).joined(separator: " | ")) },
        sniff: { sample in
            SniffSupport.majorityOfObjects(sample) { root in isLLMRecord(root) } ? 40 : 0
        },
        make: { context throws(IngestError) in LLMGatewayDecoder(context: context) }
    )

    package static func isLLMRecord(_ root: JSONValue) -> Bool {
        if root.has("specversion") { return false }
        for messages in [root["messages"], root["request"]?["messages"]] {
            if let messages, messages.kind == .array,
               messages.elements.first.map({ $0.kind == .object && $0.has("role") }) == true {
                return true
            }
        }
        return root.has("prompt") && (root.has("response") || root.has("completion"))
    }
}

/// Decoder for ``LLMGatewayFormat``.
package final class LLMGatewayDecoder: RecordDecoder {
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    /// Where each column's candidate paths are in ``paths``, in order, and how its value is written.
    private struct Binding: BitwiseCopyable {
        var column: Int
        var first: Int
        var end: Int
        var role: FieldRole
    }
    /// The time's candidate paths are paths `0..<timeEnd`.
    private let timeEnd: Int
    private let bindings: [Binding]
    /// Every candidate path of every column, found in one pass over each record's members
    /// (``JSONPathSet/find(in:)``), where each path was looked up key by key before.
    private let paths: JSONPathSet
    private let promptColumn: Int
    private let responseColumn: Int
    private let columns = JSONFields.Columns(.llm)

    package init(context: DecoderContext) {
        overrides = JSONProfileOverrides(profile: context.profile)
        let schema = SourceKind.llm.schema
        var all: [[String]] = []
        var timeEnd = 0
        var bindings: [Binding] = []
        for (column, candidates) in LLMGatewayFormat.builtIn {
            let split = JSONPaths.split(candidates)
            if column == "time" {
                all += split
                timeEnd = all.count
                continue
            }
            guard let index = schema.index(of: column) else { continue }
            bindings.append(Binding(column: index, first: all.count, end: all.count + split.count,
                                    role: FieldRole.forColumn(schema.columns[index])))
            all += split
        }
        self.timeEnd = timeEnd
        self.bindings = bindings
        paths = JSONPathSet(all)
        promptColumn = schema.index(of: "prompt") ?? 0
        responseColumn = schema.index(of: "response") ?? 0
    }

    /// Moves `cursor` to the first of paths `first..<end` whose value is neither null nor an
    /// empty string (``JSONPaths/first(_:in:)``); false when none is.
    @inline(__always)
    private func first(_ first: Int, _ end: Int, cursor: inout JSONValue, root: Int) -> Bool {
        for index in first..<end {
            guard paths.move(&cursor, to: index, root: root), !cursor.isNull else { continue }
            if cursor.kind == .string, cursor.rawStringContent?.isEmpty ?? true { continue }
            return true
        }
        return false
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root = try JSONFields.object(record, parser: parser)
        paths.find(in: root)
        let rootIndex = root.position
        var cursor = root
        // The profile's time when it maps one, else the first of the format's own time paths.
        let time: Int64?
        if let mapped = overrides.time(in: root) {
            time = mapped
        } else {
            time = first(0, timeEnd, cursor: &cursor, root: rootIndex) ? JSONFields.time(of: cursor) : nil
        }
        guard let time else {
            throw RecordReject("LLM log: missing or unparseable time")
        }
        rows.begin(.llm, time: time, overrides: .json(overrides, root: root))
        for binding in bindings {
            guard first(binding.first, binding.end, cursor: &cursor, root: rootIndex) else { continue }
            JSONFields.write(cursor, role: binding.role, column: binding.column, columns: columns, into: rows)
        }
        guard rows.isSet(promptColumn) || rows.isSet(responseColumn) else {
            // No prompt or response (an embedding or moderation call, a health check): kept whole
            // as an audit row rather than dropped.
            rows.abandon()
            AuditRow.generic(source: "llm-gateway", root: root).write(
                time: time, record: record, overrides: .json(overrides, root: root), into: rows)
            return
        }
        rows.commit()
    }
}
