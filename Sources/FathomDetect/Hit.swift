import FathomStore
import FathomSupport
import FathomCatalog

/// A value in a hit's `key`, `metrics` or `fields`: what JSON can say about one log field.
public enum HitValue: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case strings([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Int64.self) { self = .int(value); return }
        if let value = try? container.decode(Double.self) { self = .double(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        self = .strings(try container.decode([String].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .int(value): try container.encode(value)
        case let .double(value):
            if value.isFinite { try container.encode(value) } else { try container.encodeNil() }
        case let .string(value): try container.encode(value)
        case let .strings(value): try container.encode(value)
        }
    }

    /// The value as plain text for tables (not escaped: escape before printing).
    public var description: String {
        switch self {
        case .null: ""
        case let .bool(value): value ? "true" : "false"
        case let .int(value): String(value)
        case let .double(value): HitValue.format(value)
        case let .string(value): value
        case let .strings(value): value.joined(separator: ",")
        }
    }

    package static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    public static func < (lhs: HitValue, rhs: HitValue) -> Bool { lhs.description < rhs.description }
}

/// Where one event came from: the archive's path as recorded in the catalog, the tar member (empty
/// when the archive is not a tar bundle) and the line or record number.
public struct EvidenceRef: Sendable, Hashable, Codable, Comparable {
    public var archive: String
    public var member: String
    public var line: Int64
    /// The event time (only in the `first`/`last` of an aggregate).
    public var time: Timestamp?

    public init(archive: String, member: String, line: Int64, time: Timestamp? = nil) {
        self.archive = archive
        self.member = member
        self.line = line
        self.time = time
    }

    /// Ordered by archive, member, then line (the reading order of the evidence).
    public static func < (lhs: EvidenceRef, rhs: EvidenceRef) -> Bool {
        (lhs.archive, lhs.member, lhs.line) < (rhs.archive, rhs.member, rhs.line)
    }
}

/// The evidence of a hit: the event itself, or the first and last event of an aggregate.
public struct HitEvidence: Sendable, Hashable, Codable {
    public var archive: String?
    public var member: String?
    public var line: Int64?
    public var first: EvidenceRef?
    public var last: EvidenceRef?

    public static func event(_ ref: EvidenceRef) -> HitEvidence {
        HitEvidence(archive: ref.archive, member: ref.member, line: ref.line, first: nil, last: nil)
    }

    public static func aggregate(first: EvidenceRef, last: EvidenceRef) -> HitEvidence {
        HitEvidence(archive: nil, member: nil, line: nil, first: first, last: last)
    }
}

/// The time window of an aggregate hit, `[start, end)`.
public struct HitWindow: Sendable, Hashable {
    public var start: Timestamp
    public var end: Timestamp

    public init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    /// The window `[start, end)` of nanoseconds since the epoch (as segments store times).
    public init(start: Int64, end: Int64) {
        self.init(start: Timestamp(nanoseconds: start), end: Timestamp(nanoseconds: end))
    }

    /// Bucket `bucket` of `width` nanoseconds (``EndpointAggregate/bucket(_:_:)``): `[bucket × width,
    /// (bucket + 1) × width)`, kept inside the times a column holds — the buckets of evidence dated
    /// 1677 or 2262 start before or end after them.
    package init(bucket: Int64, width: Int64) {
        let first = Timestamp.start(ofSlot: bucket, width: width)
        self.init(start: first, end: Timestamp.offset(first, by: width))
    }
}

/// One detection: an event that matched a rule, or a group of events whose aggregate did.
///
/// JSON shape (one object per line in `fathom hunt --format jsonl`, keys sorted):
///
/// ```
/// { "rule": "extraction.volume", "title": "…", "level": "high", "atlas": ["AML.T0024"],
///   "kind": "inference",
///   "time": "2026-03-03T15:00:01.307Z"                  ← event hits
///   "window": {"start": "…", "end": "…"}                 ← aggregate hits ([start, end))
///   "key": {"src_ip": "198.51.100.23"},
///   "metrics": {Metric.queryCount: 1364, Metric.distinctInputs: 360},
///   "fields": {…canonical fields of the event…}          ← event hits
///   "evidence": {"archive": "…", "member": "", "line": 42}                   ← event hits
///   "evidence": {"first": {"archive":…,"member":…,"line":…,"time":…}, "last": {…}}  ← aggregates
/// }
/// ```
public struct Hit: Sendable, Hashable, Codable {
    public var rule: String
    public var title: String
    public var level: String
    public var atlas: [String]
    public var kind: SourceKind
    /// The event time (event hits).
    public var time: Timestamp?
    /// The window (aggregate hits).
    public var window: HitWindow?
    public var key: [String: HitValue]
    public var metrics: [String: HitValue]
    /// The canonical fields of the event (event hits), packed (``HitFields``).
    public var fields: HitFields?
    public var evidence: HitEvidence

    public init(rule: RuleInfo, time: Timestamp? = nil, window: HitWindow? = nil, key: [String: HitValue],
                metrics: [String: HitValue] = [:], fields: HitFields? = nil, evidence: HitEvidence) {
        self.rule = rule.id
        self.title = rule.title
        self.level = rule.level
        self.atlas = rule.atlas
        self.kind = rule.kind
        self.time = time
        self.window = window
        self.key = key
        self.metrics = metrics
        self.fields = fields
        self.evidence = evidence
    }

    /// The time the hit sorts by: the event time or the window start.
    public var sortTime: Timestamp { time ?? window?.start ?? Timestamp(nanoseconds: .min) }

    /// The key as one comparable string (`name=value` pairs in name order).
    public var keyText: String {
        key.keys.sorted().map { $0 + "=" + (key[$0]?.description ?? "") }.joined(separator: " ")
    }

    /// The deterministic order of hits: rule id, then time or window start, then key, then evidence.
    public static func precedes(_ lhs: Hit, _ rhs: Hit) -> Bool {
        if lhs.rule != rhs.rule { return lhs.rule < rhs.rule }
        if lhs.sortTime != rhs.sortTime { return lhs.sortTime < rhs.sortTime }
        let (leftKey, rightKey) = (lhs.keyText, rhs.keyText)
        if leftKey != rightKey { return leftKey < rightKey }
        let left = lhs.evidence.first ?? EvidenceRef(archive: lhs.evidence.archive ?? "", member: lhs.evidence.member ?? "",
                                                     line: lhs.evidence.line ?? 0)
        let right = rhs.evidence.first ?? EvidenceRef(archive: rhs.evidence.archive ?? "", member: rhs.evidence.member ?? "",
                                                      line: rhs.evidence.line ?? 0)
        if left.archive != right.archive { return left.archive < right.archive }
        if left.member != right.member { return left.member < right.member }
        return left.line < right.line
    }

    package enum CodingKeys: String, CodingKey {
        case rule, title, level, atlas, kind, time, window, key, metrics, fields, evidence
    }

    package enum WindowKeys: String, CodingKey { case start, end }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rule = try container.decode(String.self, forKey: .rule)
        title = try container.decode(String.self, forKey: .title)
        level = try container.decode(String.self, forKey: .level)
        atlas = try container.decode([String].self, forKey: .atlas)
        kind = try container.decode(SourceKind.self, forKey: .kind)
        time = try container.decodeIfPresent(String.self, forKey: .time).flatMap(Timestamp.init(parsing:))
        if container.contains(.window) {
            let window = try container.nestedContainer(keyedBy: WindowKeys.self, forKey: .window)
            let start = Timestamp(parsing: try window.decode(String.self, forKey: .start)) ?? Timestamp(nanoseconds: 0)
            let end = Timestamp(parsing: try window.decode(String.self, forKey: .end)) ?? Timestamp(nanoseconds: 0)
            self.window = HitWindow(start: start, end: end)
        }
        key = try container.decode([String: HitValue].self, forKey: .key)
        metrics = try container.decode([String: HitValue].self, forKey: .metrics)
        fields = try container.decodeIfPresent(HitFields.self, forKey: .fields)
        evidence = try container.decode(HitEvidence.self, forKey: .evidence)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rule, forKey: .rule)
        try container.encode(title, forKey: .title)
        try container.encode(level, forKey: .level)
        try container.encode(atlas, forKey: .atlas)
        try container.encode(kind, forKey: .kind)
        if let time { try container.encode(time.rfc3339, forKey: .time) }
        if let window {
            var nested = container.nestedContainer(keyedBy: WindowKeys.self, forKey: .window)
            try nested.encode(window.start.rfc3339, forKey: .start)
            try nested.encode(window.end.rfc3339, forKey: .end)
        }
        try container.encode(key, forKey: .key)
        try container.encode(metrics, forKey: .metrics)
        try container.encodeIfPresent(fields, forKey: .fields)
        try container.encode(evidence, forKey: .evidence)
    }
}
