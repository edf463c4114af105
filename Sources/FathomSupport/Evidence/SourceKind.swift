import FathomStore

/// The six kinds of evidence Fathom reads. Every input record becomes a row of exactly one kind.
public enum SourceKind: String, CaseIterable, Codable, Sendable, Comparable {
    /// Model-serving and API gateway access logs.
    case inference
    /// Object-storage access: S3 server access logs, CloudTrail S3 data events, Azure blob logs.
    case storage
    /// LLM gateway and chat logs.
    case llm
    /// MLOps pipeline and training-job activity.
    case pipeline
    /// Model registry and deployment events.
    case registry
    /// Decision logs of a served model.
    case predictions
    /// Audit and activity logs kept whole (CloudTrail, Kubernetes audit, Azure activity and Entra
    /// logs, and any other well-formed record no AI/ML kind describes): who did what to which
    /// resource, from where, with what outcome, and the original record.
    case audit

    /// The number stored in segment headers. Append-only: never renumber.
    public var code: UInt8 {
        switch self {
        case .inference: 1
        case .storage: 2
        case .llm: 3
        case .pipeline: 4
        case .registry: 5
        case .predictions: 6
        case .audit: 7
        }
    }

    public init?(code: UInt8) {
        guard let kind = SourceKind.allCases.first(where: { $0.code == code }) else { return nil }
        self = kind
    }

    public static func < (lhs: SourceKind, rhs: SourceKind) -> Bool { lhs.code < rhs.code }

    /// Hashes the code, not the raw-value string `RawRepresentable` would hash: kinds key the
    /// schema table and per-kind maps looked up for every ingested row.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
    }

    /// The canonical columns of this kind, in segment order. The first is always `time`; the
    /// provenance columns `member` and `line` come last.
    public var schema: KindSchema { KindSchema.of(self) }
}

/// A canonical column: its name as rules, reports and JSON use it, and how it is stored.
public struct CanonicalColumn: Sendable, Hashable {
    public let name: String
    public let type: ColumnType
    /// Stored zstd-compressed in segments: long text read rarely (inflated by blocks as rows are
    /// read), or a column off the detections' hot path that compresses well (inflated when opened).
    public let compressed: Bool

    public init(_ name: String, _ type: ColumnType, compressed: Bool = false) {
        self.name = name
        self.type = type
        self.compressed = compressed
    }
}

/// The canonical columns of one source kind (ARCHITECTURE.md, "Source kinds and canonical columns").
public struct KindSchema: Sendable {
    public let kind: SourceKind
    public let columns: [CanonicalColumn]
    private let indexByName: [String: Int]
    /// The columns an event hit copies (all but the provenance columns and the whole record), in
    /// byte order of their names, and those names (one array every hit can share).
    public let hitColumns: [CanonicalColumn]
    public let hitColumnNames: [String]

    package init(kind: SourceKind, columns: [CanonicalColumn]) {
        self.kind = kind
        let all = [CanonicalColumn("time", .int64)] + columns
            + [CanonicalColumn("member", .dictionary, compressed: true), CanonicalColumn("line", .int64, compressed: true)]
        self.columns = all
        var index: [String: Int] = [:]
        for (position, column) in all.enumerated() { index[column.name] = position }
        self.indexByName = index
        hitColumns = all.filter { !["member", "line", "record"].contains($0.name) }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        hitColumnNames = hitColumns.map(\.name)
    }

    /// The position of `name` among the columns, or nil when this kind has no such column.
    public func index(of name: String) -> Int? { indexByName[name] }

    public var columnSpecs: [ColumnSpec] { columns.map { ColumnSpec(name: $0.name, type: $0.type, compressed: $0.compressed) } }

    /// Column names without the provenance columns.
    public var fieldNames: [String] { columns.map(\.name).filter { $0 != "member" && $0 != "line" } }

    private static let schemas: [SourceKind: KindSchema] = {
        var result: [SourceKind: KindSchema] = [:]
        // Packed (compressed: true) are the columns off the hot path of the rules that scan every
        // row — time, addresses, paths, input hashes stay plain and are read in place, and so do the
        // columns a built-in rule reads on every row of its kind: the inference principal (the
        // extraction family's principal groups, the sliding window), LLM prompts and responses (the
        // prompt rules, the sensitive-output rule), and storage operations, actions and object keys
        // (the artifact rules). Inflating those was a sixth of every-rule `hunt`'s CPU on the 4 GB
        // high-cardinality store (3.17 against 2.72 core-s, `--playbook` 0.92 against 0.77), read
        // again by each scan of a segment; plain, they take the store from 0.89× to 1.19× the
        // compressed evidence there (default shape 1.02× to 1.24×; the budget is 1.5×).
        result[.inference] = KindSchema(kind: .inference, columns: [
            .init("src_ip", .dictionary), .init("principal", .dictionary), .init("method", .dictionary),
            .init("path", .dictionary), .init("status", .int64, compressed: true), .init("latency_ms", .float64, compressed: true),
            .init("bytes", .int64, compressed: true), .init("input_hash", .hash128), .init("model", .dictionary, compressed: true),
            .init("request_id", .text, compressed: true), .init("user_agent", .dictionary, compressed: true),
            .init("referer", .dictionary, compressed: true), .init("host", .dictionary, compressed: true),
        ])
        result[.storage] = KindSchema(kind: .storage, columns: [
            .init("src_ip", .dictionary), .init("principal", .dictionary, compressed: true),
            .init("operation", .dictionary), .init("action", .dictionary),
            .init("bucket", .dictionary, compressed: true), .init("key", .text),
            .init("user_agent", .dictionary, compressed: true), .init("status", .int64, compressed: true),
            .init("bytes", .int64, compressed: true),
        ])
        result[.llm] = KindSchema(kind: .llm, columns: [
            .init("src_ip", .dictionary), .init("principal", .dictionary), .init("session", .dictionary, compressed: true),
            .init("prompt", .text), .init("response", .text),
            .init("model", .dictionary, compressed: true), .init("system_prompt", .text, compressed: true),
        ])
        result[.pipeline] = KindSchema(kind: .pipeline, columns: [
            .init("principal", .dictionary), .init("action", .dictionary), .init("pipeline", .dictionary),
            .init("status", .dictionary), .init("run_id", .dictionary),
        ])
        result[.registry] = KindSchema(kind: .registry, columns: [
            .init("model", .dictionary), .init("version", .dictionary), .init("event", .dictionary),
            .init("from_stage", .dictionary), .init("to_stage", .dictionary), .init("principal", .dictionary),
            .init("status", .dictionary), .init("environment", .dictionary),
        ])
        result[.predictions] = KindSchema(kind: .predictions, columns: [
            .init("model", .dictionary, compressed: true), .init("version", .dictionary, compressed: true),
            .init("request_id", .text, compressed: true), .init("decision", .dictionary, compressed: true),
            .init("score", .float64, compressed: true), .init("subject", .dictionary, compressed: true),
        ])
        result[.audit] = KindSchema(kind: .audit, columns: [
            .init("source", .dictionary), .init("service", .dictionary), .init("action", .dictionary),
            .init("principal", .dictionary), .init("src_ip", .dictionary), .init("target", .text, compressed: true),
            .init("outcome", .dictionary), .init("user_agent", .dictionary), .init("record", .text, compressed: true),
        ])
        return result
    }()

    /// The schemas by kind code, so the lookup made for every row is an array index.
    private static let byCode: [KindSchema?] = {
        var result = [KindSchema?](repeating: nil, count: 8)
        for (kind, schema) in schemas { result[Int(kind.code)] = schema }
        return result
    }()

    package static func of(_ kind: SourceKind) -> KindSchema { byCode[Int(kind.code)]! }
}
