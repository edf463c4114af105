import FathomStore
import FathomSupport
import FathomCatalog

/// Where the events of a Sigma `logsource` are, and how its rules' field names are read
/// (SIGMA.md, "Logsources and field names").
///
/// Rules over an audit log (CloudTrail, Kubernetes audit, Azure activity and Entra logs) are
/// written with the log's own field names (`eventName`, `requestParameters.bucketName`, `verb`,
/// `objectRef.subresource`, `operationName`, `properties.message`): such a name is read from the
/// original record each `audit` row keeps, as a dotted path, except where a column of the row
/// holds exactly the same value (`eventName` is the `action` column of a CloudTrail row), which is
/// read instead because it is faster. Rules of `product: fathom` use Fathom's column names.
package struct SigmaLogSource: Sendable, Equatable {
    package var kind: SourceKind
    /// For the audit kind: the `source` values whose rows the rule reads (nil: every row).
    package var auditSources: [String]?
    /// Whether field names that are not one of the kind's columns are read from the record.
    package var readsRecord: Bool
    /// Log field names whose value a column holds exactly, and that column.
    package var aliases: [String: String]

    /// How problems name it: the kind, and the audit sources when the rule reads some only.
    package var name: String {
        kind.rawValue + (auditSources.map { " (" + $0.joined(separator: ", ") + ")" } ?? "")
    }

    /// How a field is read.
    package enum Field: Sendable, Equatable {
        case column(String)
        /// A part of a column's text (the query of the request target).
        case part(String, TextPart)
        /// A dotted path into the `record` column, as the rule spells it.
        case record(String)
    }

    /// How the field a rule names is read, or nil when this logsource has no such field.
    package func field(_ name: String) -> Field? {
        if let column = aliases[name] { return .column(column) }
        if !readsRecord || auditSources == nil, kind.schema.index(of: name) != nil { return .column(name) }
        if kind == .inference, let column = SigmaParser.webFieldNames[name] { return .column(column) }
        if kind == .inference, let part = SigmaParser.webURIParts[name] { return .part("path", part) }
        if readsRecord { return .record(name) }
        return nil
    }

    package static func fathom(_ kind: SourceKind) -> SigmaLogSource {
        SigmaLogSource(kind: kind, auditSources: nil, readsRecord: kind == .audit, aliases: [:])
    }

    /// An audit log's rows, fields by the log's own names.
    package static func auditLog(_ sources: [String], aliases: [String: String] = [:]) -> SigmaLogSource {
        SigmaLogSource(kind: .audit, auditSources: sources, readsRecord: true, aliases: aliases)
    }

    /// The logsource → events mapping (documented in SIGMA.md); nil when Fathom reads no such log.
    package static func of(product: String?, service: String?, category: String?) -> SigmaLogSource? {
        let product = product?.lowercased(), service = service?.lowercased(), category = category?.lowercased()
        if product == "fathom", let service, let kind = SourceKind(rawValue: service) { return .fathom(kind) }
        switch (product, service) {
        case ("aws", "cloudtrail"):
            // eventName and eventSource are in every CloudTrail record, and are the action and service columns.
            return .auditLog(["cloudtrail"], aliases: ["eventName": "action", "eventSource": "service"])
        case ("kubernetes", "audit"):
            // verb is in every audit Event; the action column holds it (for GKE entries, the verb of methodName).
            return .auditLog(["k8s-audit"], aliases: ["verb": "action"])
        case ("azure", "activitylogs"): return .auditLog(["azure-activity"])
        case ("azure", "auditlogs"): return .auditLog(["azure-audit"])
        case ("azure", "signinlogs"): return .auditLog(["azure-signin"])
        case ("azure", "riskdetection"): return .auditLog(["azure-riskdetection"])
        default: break
        }
        if let category, let kind = SourceKind(rawValue: category) { return .fathom(kind) }
        switch category {
        case "webserver", "proxy", "ml_inference", "model_api", "api_gateway": return .fathom(.inference)
        case "object_storage", "cloud_storage": return .fathom(.storage)
        case "llm_gateway", "chat", "genai", "llm_chat": return .fathom(.llm)
        case "mlops", "training", "ml_pipeline": return .fathom(.pipeline)
        case "model_registry", "deployment": return .fathom(.registry)
        case "decisions", "model_decisions": return .fathom(.predictions)
        default: break
        }
        switch (product, service) {
        case ("aws", "s3"), ("azure", "storage"), ("azure", "blob"), ("azure", "storageblob"),
             ("gcp", "gcs"), ("gcp", "storage"): return .fathom(.storage)
        case ("nginx", _), ("apache", _): return .fathom(.inference)
        case ("mlflow", _): return .fathom(.registry)
        default: return nil
        }
    }
}

/// Reads fields of the original record an `audit` row keeps, by a Sigma field name: a dotted path
/// through objects (each step matched exactly, else ignoring case; a name that is itself a key,
/// dots included, is tried first), fanning out over arrays, as Sigma treats a list value as any of
/// its items.
package final class RecordFields {
    private let column: TextColumn
    private let parser = JSONParser()
    private var row = -1
    private var document: JSONDocument?

    package init(_ column: TextColumn) { self.column = column }

    /// One value at a path: null, or its text (strings decoded, numbers and booleans as written,
    /// objects and arrays as their JSON text).
    package enum Value: Equatable {
        case null
        case text(String)
    }

    /// The values at `path` in the record of `row`; empty when the path is absent.
    package func values(_ path: String, row: Int) -> [Value] {
        if row != self.row {
            self.row = row
            document = try? parser.parse(column[row])
        }
        guard let root = document?.root, root.kind == .object else { return [] }
        var found: [JSONValue] = []
        if let whole = RecordFields.member(root, path) {
            found = [whole]
        } else {
            var current = [root]
            for segment in path.split(separator: ".", omittingEmptySubsequences: false) {
                var next: [JSONValue] = []
                for value in current {
                    switch value.kind {
                    case .object:
                        if let member = RecordFields.member(value, String(segment)) { next.append(member) }
                    case .array:
                        for element in value.elements where element.kind == .object {
                            if let member = RecordFields.member(element, String(segment)) { next.append(member) }
                        }
                    default: break
                    }
                }
                current = next
                if current.isEmpty { return [] }
            }
            found = current
        }
        var result: [Value] = []
        for value in found {
            if value.kind == .array {
                for element in value.elements { result.append(RecordFields.value(element)) }
                if value.count == 0 { result.append(.text("[]")) }
            } else {
                result.append(RecordFields.value(value))
            }
        }
        return result
    }

    private static func member(_ object: JSONValue, _ key: String) -> JSONValue? {
        if let exact = object[key] { return exact }
        let lowered = key.lowercased()
        var found: JSONValue?
        object.forEachMember { name, value in
            if found == nil, name.string?.lowercased() == lowered { found = value }
        }
        return found
    }

    private static func value(_ value: JSONValue) -> Value {
        switch value.kind {
        case .null: return .null
        case .string: return .text(value.string ?? "")
        default: return .text(String(decoding: value.rawBytes.array, as: UTF8.self))
        }
    }
}

/// A part of a column's text that a field name stands for.
package enum TextPart: Sendable, Equatable {
    case uriStem, uriQuery, uriExtension

    /// The part of `text`; empty (null) when it has none.
    package func of(_ text: String) -> String {
        let question = text.firstIndex(of: "?")
        let stem = question.map { text[..<$0] } ?? text[...]
        switch self {
        case .uriStem: return String(stem)
        case .uriQuery: return question.map { String(text[text.index(after: $0)...]) } ?? ""
        case .uriExtension:
            let last = stem.lastIndex(of: "/").map { stem[stem.index(after: $0)...] } ?? stem
            guard let dot = last.lastIndex(of: ".") else { return "" }
            return String(last[last.index(after: dot)...])
        }
    }
}
