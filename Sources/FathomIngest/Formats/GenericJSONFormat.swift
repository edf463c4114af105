import FathomStore
import FathomSupport
import FathomCatalog

/// Generic JSON records (JSON Lines, or the elements of a top-level array / `Records` envelope)
/// whose fields are mapped onto canonical columns by a profile or by the common field names of
/// ``CanonicalFields``.
///
/// Specification: RFC 8259 (JSON) and the JSON Lines convention (one value per line).
public enum GenericJSONFormat {
    public static let descriptor = FormatDescriptor(
        name: "json",
        summary: "Generic JSON Lines or JSON arrays; fields mapped by profile or by common names.",
        kinds: SourceKind.allCases,
        fieldMap: CanonicalFields.candidates.map { ($0.column, $0.names.prefix(4).joined(separator: " | ")) },
        sniff: { sample in
            let objects = sample.jsonObjects { $0.kind == .object ? true : nil }
            return objects.isEmpty ? 0 : 10
        },
        make: { context throws(IngestError) in try GenericJSONDecoder(context: context) }
    )
}

/// How a source field feeds a canonical column.
package enum FieldRole: Sendable, BitwiseCopyable {
    case string, int, double, hash, prompt, response, address, operation
}

/// A binding's column and role: what the per-record loop needs of a ``FieldBinding``.
package struct FieldSlot: Sendable, BitwiseCopyable {
    package var column: Int
    package var role: FieldRole
}

/// A resolved field: where it is in the record and which column it fills.
package struct FieldBinding: Sendable {
    package var column: Int
    package var path: [String]
    package var role: FieldRole
}

/// Resolves canonical columns to source paths from a profile, the built-in names and a sample.
package struct FieldResolver {
    package let profile: Profile?
    /// Returns, for `column`, the candidate paths in priority order.
    package func candidates(for column: String) -> [String] {
        var result = profile?.fields[column] ?? []
        if let builtIn = CanonicalFields.candidates.first(where: { $0.column == column }) {
            result += builtIn.names
        }
        return result
    }

    /// The first candidate of `column` present (case-insensitively for top-level keys) in any sample
    /// object; returns the path with the sample's own spelling.
    package func resolve(_ column: String, in samples: [[String: JSONKind]]) -> [String]? {
        // Each sample's keys lower-cased once, in the sample's own order (not once per candidate
        // and key: that was most of a decoder's set-up).
        var lowered: [[(key: String, lower: String)]?] = Array(repeating: nil, count: samples.count)
        for candidate in candidates(for: column) {
            let path = candidate.split(separator: ".").map(String.init)
            guard let head = path.first else { continue }
            let lowerHead = head.lowercased()
            for (index, keys) in samples.enumerated() {
                // A dotted candidate names a nested field when its head is an object; the samples
                // list nested names in dotted form too, so test that before the literal key.
                if path.count > 1, keys[head] == .object { return path }
                if keys[candidate] != nil { return [candidate] }
                if path.count > 1, keys[head] != nil { return path }
                let pairs = lowered[index] ?? keys.keys.map { ($0, $0.lowercased()) }
                lowered[index] = pairs
                if let spelled = pairs.first(where: { $0.lower == lowerHead }) {
                    return [spelled.key] + path.dropFirst()
                }
            }
        }
        return nil
    }
}

/// Decoder for ``GenericJSONFormat``.
package final class GenericJSONDecoder: RecordDecoder {
    package let kind: SourceKind
    package let timePath: [String]
    package let bindings: [FieldBinding]
    package let parser = JSONParser()
    package private(set) var note: String?
    private static let audit = SourceKind.audit.schema
    private static let auditSource = audit.index(of: "source")!
    private static let auditRecord = audit.index(of: "record")!

    package init(context: DecoderContext) throws(IngestError) {
        // Top-level keys of the sampled objects, and one level of nesting as dotted names.
        let samples: [[String: JSONKind]] = context.sample.jsonObjects { root in
            var keys: [String: JSONKind] = [:]
            for (key, value) in root.members {
                keys[key] = value.kind
                if value.kind == .object {
                    for (inner, innerValue) in value.members { keys[key + "." + inner] = innerValue.kind }
                }
            }
            return keys
        }
        let resolver = FieldResolver(profile: context.profile)
        var present = Set<String>()
        for (column, _) in CanonicalFields.candidates where resolver.resolve(column, in: samples) != nil {
            present.insert(column)
        }
        let seen = Set(samples.flatMap(\.keys)).sorted().prefix(40).joined(separator: ", ")
        guard let timePath = resolver.resolve("time", in: samples) else {
            throw .undecidableKind(input: context.inputName,
                                   detail: "no time field among: \(seen.isEmpty ? "none" : seen); map one with a --profile")
        }
        let kind: SourceKind
        if let decided = context.kind ?? context.profile?.kind ?? CanonicalFields.kind(forPresent: present) {
            kind = decided
        } else {
            // Kept rather than refused: every record whole, as an audit row of source `json`.
            kind = .audit
            note = "source kind not decidable from the fields (\(seen.isEmpty ? "none" : seen)): every record kept whole "
                + "as an audit row (source json); pass --kind or a --profile to map its fields"
        }
        self.kind = kind
        self.timePath = timePath
        let schema = kind.schema
        var bindings: [FieldBinding] = []
        // An audit row's source and record are the format's and the record's own, not mapped fields.
        let unmapped: Set<String> = kind == .audit ? ["time", "member", "line", "source", "record"] : ["time", "member", "line"]
        for column in schema.columns where !unmapped.contains(column.name) {
            let source = column.name == "input_hash" ? "input" : column.name
            guard let path = resolver.resolve(source, in: samples) else { continue }
            guard let index = schema.index(of: column.name) else { continue }
            let role: FieldRole
            switch (column.name, column.type) {
            case ("src_ip", _): role = .address
            case ("prompt", _): role = .prompt
            case ("response", _): role = .response
            case ("operation", _): role = .operation
            case (_, .int64): role = .int
            case (_, .float64): role = .double
            case (_, .hash128): role = .hash
            default: role = .string
            }
            bindings.append(FieldBinding(column: index, path: path, role: role))
        }
        self.bindings = bindings
        slots = bindings.map { FieldSlot(column: $0.column, role: $0.role) }
        columns = JSONFields.Columns(kind)
        paths = JSONPathSet([timePath] + bindings.map(\.path))
    }

    /// Where each binding's value goes, without its path: the per-record loop copies these, and a
    /// value holding no reference copies without reference counting.
    private let slots: [FieldSlot]
    private let columns: JSONFields.Columns

    /// The time path (path 0) and the bindings' paths (path 1 + binding index), found in one pass
    /// over each record's members.
    private let paths: JSONPathSet

    /// Flat scans tried and failed since the last that succeeded: a source whose records nest
    /// (the scan gives up at the first array or object) stops trying after a few.
    private var flatMisses = 0
    private static let flatMissLimit = 32

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        let root: JSONValue
        if flatMisses < Self.flatMissLimit, let document = parser.parseFlat(record, paths: paths) {
            flatMisses = 0
            root = document.root
        } else {
            if paths.isFlat { flatMisses += 1 }
            root = try JSONFields.object(record, parser: parser)
            paths.find(in: root)
        }
        guard let timeValue = paths.value(0, in: root), let time = JSONFields.time(of: timeValue) else {
            throw RecordReject("missing or unparseable time")
        }
        rows.begin(kind, time: time, overrides: .none)
        // One cursor moved from field to field: a value made per field retained and released the
        // record's tape each time (``JSONPathSet/move(_:to:root:)``).
        // The root itself becomes the cursor (moved, not copied: no reference taken for it either).
        let rootIndex = root.position
        var cursor = consume root
        for index in slots.indices {
            guard paths.move(&cursor, to: index + 1, root: rootIndex), cursor.kind != .null else { continue }
            let slot = slots[index]
            JSONFields.write(cursor, role: slot.role, column: slot.column, columns: columns, into: rows)
        }
        if kind == .audit {
            rows.setString("json", at: Self.auditSource)
            rows.setString(record, at: Self.auditRecord)
        }
        rows.commit()
    }
}

/// Shared helpers that move JSON values into canonical columns.
package enum JSONFields {
    /// The record parsed as a JSON object (the value keeps the parser's tape alive).
    package static func object(_ record: ByteView, parser: JSONParser) throws(RecordReject) -> JSONValue {
        let document: JSONDocument
        do { document = try parser.parse(record) } catch {
            throw RecordReject("malformed JSON: \(error.reason)")
        }
        let root = document.root
        guard root.kind == .object else { throw RecordReject("JSON record is not an object") }
        return root
    }

    /// A time from a JSON string (RFC 3339, CLF…) or number (epoch, unit by magnitude).
    package static func time(of value: JSONValue) -> Int64? {
        switch value.kind {
        case .string: return value.withDecodedString { TimeParser.parse($0) } ?? nil
        case .number: return TimeParser.parse(value.rawBytes)
        default: return nil
        }
    }

    /// The columns of a kind that a field writes besides its own (an operation's action, a
    /// conversation's system prompt), looked up once per decoder rather than once per record.
    package struct Columns: Sendable, BitwiseCopyable {
        package var action: Int?
        package var systemPrompt: Int?

        package init() {}

        package init(_ kind: SourceKind) {
            let schema = kind.schema
            action = schema.index(of: "action")
            systemPrompt = schema.index(of: "system_prompt")
        }
    }

    package static func write(_ value: JSONValue, role: FieldRole, column: Int, kind: SourceKind, into rows: RowWriter) {
        // Only an operation or a prompt writes a second column: look the kind's columns up for those.
        let columns = role == .operation || role == .prompt ? Columns(kind) : Columns()
        write(value, role: role, column: column, columns: columns, into: rows)
    }

    /// Inlined into the decoders' per-field loops, so the value they pass borrows the record's tape
    /// instead of retaining and releasing it for every field.
    @inline(__always)
    package static func write(_ value: JSONValue, role: FieldRole, column: Int, columns: Columns, into rows: RowWriter) {
        switch role {
        case .string:
            writeString(value, column: column, into: rows)
        case .address:
            _ = value.withDecodedString { rows.setString(TextCodecs.address(ofEndpoint: $0), at: column) }
        case .int:
            if let number = value.int64 { rows.setInt64(number, at: column) }
        case .double:
            if let number = value.double { rows.setDouble(number, at: column) }
        case .hash:
            if value.kind == .string {
                _ = value.withDecodedString { rows.setHash(of: $0, at: column) }
            } else {
                rows.setHash(of: value.rawBytes, at: column)
            }
        case .prompt:
            writeMessages(value, column: column, systemColumn: columns.systemPrompt, into: rows)
        case .response:
            writeResponse(value, column: column, into: rows)
        case .operation:
            writeString(value, column: column, into: rows)
            if let actionColumn = columns.action, let operation = value.string {
                rows.setString(CanonicalFields.storageAction(forOperation: operation), at: actionColumn)
            }
        }
    }

    /// Strings as decoded text; numbers and booleans as their JSON spelling.
    @inline(__always)
    package static func writeString(_ value: JSONValue, column: Int, into rows: RowWriter) {
        switch value.kind {
        case .string: _ = value.withDecodedString { rows.setString($0, at: column) }
        case .number, .bool: rows.setString(value.rawBytes, at: column)
        case .object, .array: rows.setString(value.rawBytes, at: column)
        case .null: break
        }
    }

    /// The text of a chat message `content`: a string, or an array of parts whose `text` are joined.
    package static func messageText(_ content: JSONValue) -> String? {
        switch content.kind {
        case .string: return content.string
        case .array:
            let parts = content.elements.compactMap { part -> String? in
                if part.kind == .string { return part.string }
                return part["text"]?.string
            }
            return parts.isEmpty ? nil : parts.joined(separator: "\n")
        default: return nil
        }
    }

    /// Whether a chat message's `role` is the string `role`.
    static func hasRole(_ message: JSONValue, _ role: String) -> Bool {
        message["role"]?.withDecodedString { $0.equals(role) } ?? false
    }

    /// Writes ``messageText(_:)`` of `content` to `column`; false when it has none. A string is
    /// written from its bytes (decoded, valid UTF-8: the record was checked).
    static func writeMessageText(_ content: JSONValue, column: Int, into rows: RowWriter) -> Bool {
        if content.kind == .string {
            writeString(content, column: column, into: rows)
            return true
        }
        guard let text = messageText(content) else { return false }
        rows.setString(text, at: column)
        return true
    }

    /// A prompt: a string, or OpenAI-style `messages` (the last user message is the prompt; the
    /// first system message goes to `system_prompt`).
    package static func writeMessages(_ value: JSONValue, column: Int, kind: SourceKind, into rows: RowWriter) {
        writeMessages(value, column: column, systemColumn: kind.schema.index(of: "system_prompt"), into: rows)
    }

    package static func writeMessages(_ value: JSONValue, column: Int, systemColumn: Int?, into rows: RowWriter) {
        var messages = value
        if value.kind == .object, let inner = value["messages"] { messages = inner }
        switch messages.kind {
        case .string:
            writeString(messages, column: column, into: rows)
        case .array:
            // The last user message with a text, and the first system message with one: only their
            // texts are read (each message's text made a `String`, most of them dropped).
            let all = messages.elements
            for message in all.reversed() where message.kind == .object && hasRole(message, "user") {
                if let content = message["content"], writeMessageText(content, column: column, into: rows) { break }
            }
            if let systemColumn {
                for message in all where message.kind == .object && hasRole(message, "system") {
                    if let content = message["content"], writeMessageText(content, column: systemColumn, into: rows) { break }
                }
            }
        default:
            break
        }
    }

    /// A response: a string, or an OpenAI-style completion (`choices[0].message.content`,
    /// `choices[0].text`), or a message object with `content`.
    package static func writeResponse(_ value: JSONValue, column: Int, into rows: RowWriter) {
        switch value.kind {
        case .string:
            writeString(value, column: column, into: rows)
        case .object, .array:
            let choices = value.kind == .array ? value : value["choices"]
            if let first = choices?.elements.first {
                if let content = first["message"]?["content"], let text = messageText(content) {
                    rows.setString(text, at: column)
                    return
                }
                if let text = first["text"]?.string {
                    rows.setString(text, at: column)
                    return
                }
            }
            if value.kind == .object {
                if let content = value["content"], let text = messageText(content) {
                    rows.setString(text, at: column)
                } else if let content = value["message"]?["content"], let text = messageText(content) {
                    rows.setString(text, at: column)
                } else if let text = value["text"]?.string {
                    rows.setString(text, at: column)
                }
            }
        default:
            break
        }
    }
}
