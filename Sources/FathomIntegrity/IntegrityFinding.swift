import Foundation
import FathomStore
import FathomSupport

/// The playbook branch an integrity finding is evidence for.
public enum IncidentCategory: String, Codable, Sendable, Comparable {
    case trainingDataPipelineCompromise = "training data / pipeline compromise"
    case supplyChainCompromise = "supply-chain compromise"

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How urgent a finding is. Ordered from least to most severe.
public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
    case info, low, medium, high, critical

    package var rank: Int { Severity.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Where the evidence for a finding is: the file, and inside it the byte offset, zip member or line.
public struct FindingEvidence: Codable, Sendable, Hashable {
    public var file: String
    public var offset: Int?
    public var member: String?
    public var line: Int?

    public init(file: String, offset: Int? = nil, member: String? = nil, line: Int? = nil) {
        self.file = file
        self.offset = offset
        self.member = member
        self.line = line
    }
}

/// One piece of integrity or supply-chain evidence, in a shape the analysis layer consumes for
/// every command of this area (`verify`, `deps`, `scan-artifacts`).
///
/// `time` is nanoseconds since the epoch (UTC); JSON also carries it as ISO-8601 in `timeUTC`.
public struct IntegrityFinding: Codable, Sendable, Hashable, Comparable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case trainingDataChanged = "training-data-changed"
        case trainingDataMissing = "training-data-missing"
        case trainingDataNew = "training-data-new"
        case unreadable
        case dependencyMatch = "dependency-match"
        case unsafePickleImport = "unsafe-pickle-import"
        case artifactHashMismatch = "artifact-hash-mismatch"
    }

    public var kind: Kind
    public var category: IncidentCategory
    public var severity: Severity
    /// The path or model the finding is about.
    public var subject: String
    /// One line for a human: what was found.
    public var detail: String
    public var evidence: FindingEvidence
    public var time: Int64?
    /// Structured facts (old/new hash and size, dependency path, import name) for machines.
    public var attributes: [String: String]

    public init(kind: Kind, category: IncidentCategory, severity: Severity, subject: String, detail: String,
                evidence: FindingEvidence, time: Int64? = nil, attributes: [String: String] = [:]) {
        self.kind = kind
        self.category = category
        self.severity = severity
        self.subject = subject
        self.detail = detail
        self.evidence = evidence
        self.time = time
        self.attributes = attributes
    }

    package enum CodingKeys: String, CodingKey {
        case kind, category, severity, subject, detail, evidence, time, timeUTC, attributes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        category = try container.decode(IncidentCategory.self, forKey: .category)
        severity = try container.decode(Severity.self, forKey: .severity)
        subject = try container.decode(String.self, forKey: .subject)
        detail = try container.decode(String.self, forKey: .detail)
        evidence = try container.decode(FindingEvidence.self, forKey: .evidence)
        time = try container.decodeIfPresent(Int64.self, forKey: .time)
        attributes = try container.decodeIfPresent([String: String].self, forKey: .attributes) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(category, forKey: .category)
        try container.encode(severity, forKey: .severity)
        try container.encode(subject, forKey: .subject)
        try container.encode(detail, forKey: .detail)
        try container.encode(evidence, forKey: .evidence)
        try container.encodeIfPresent(time, forKey: .time)
        try container.encodeIfPresent(time.map { Timestamp(nanoseconds: $0).rfc3339 }, forKey: .timeUTC)
        if !attributes.isEmpty { try container.encode(attributes, forKey: .attributes) }
    }

    /// Deterministic order: by subject, evidence file, member, offset, line, kind, detail.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        func key(_ f: Self) -> (String, String, String, Int, Int, String, String) {
            (f.subject, f.evidence.file, f.evidence.member ?? "", f.evidence.offset ?? -1, f.evidence.line ?? -1,
             f.kind.rawValue, f.detail)
        }
        let (a, b) = (key(lhs), key(rhs))
        if a.0 != b.0 { return a.0.utf8.lexicographicallyPrecedes(b.0.utf8) }
        if a.1 != b.1 { return a.1.utf8.lexicographicallyPrecedes(b.1.utf8) }
        if a.2 != b.2 { return a.2.utf8.lexicographicallyPrecedes(b.2.utf8) }
        if a.3 != b.3 { return a.3 < b.3 }
        if a.4 != b.4 { return a.4 < b.4 }
        if a.5 != b.5 { return a.5 < b.5 }
        return a.6.utf8.lexicographicallyPrecedes(b.6.utf8)
    }
}


/// JSON encoding shared by the integrity commands: sorted keys, stable output.
public enum IntegrityJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return JSONText.escapeInvisible(String(decoding: data, as: UTF8.self), where: UntrustedText.isUnsafe)
    }
}

/// The outcome class of an integrity command, mapped to its exit status by the CLI.
public enum IntegrityOutcome: String, Codable, Sendable {
    /// Everything checked and nothing found.
    case clean
    /// Differences, matches or unsafe content found (exit 5).
    case findings
    /// Nothing found, but some inputs could not be read (exit 2).
    case incomplete

    /// Findings win over unreadable inputs: a definite compromise is the more urgent signal, and
    /// the unreadable entries are listed in the same report.
    public static func of(_ findings: [IntegrityFinding]) -> IntegrityOutcome {
        if findings.contains(where: { $0.kind != .unreadable }) { return .findings }
        if findings.contains(where: { $0.kind == .unreadable }) { return .incomplete }
        return .clean
    }

    /// Like ``of(_:)``, but findings below `level` are listed without making the outcome
    /// `findings` (an unknown pickle import at `low` passes a gate at `high`).
    public static func of(_ findings: [IntegrityFinding], failingAt level: Severity) -> IntegrityOutcome {
        if findings.contains(where: { $0.kind != .unreadable && $0.severity >= level }) { return .findings }
        if findings.contains(where: { $0.kind == .unreadable }) { return .incomplete }
        return .clean
    }

    /// 0 = clean, 5 = findings, 2 = incomplete.
    public var exitStatus: Int32 {
        switch self {
        case .clean: 0
        case .findings: 5
        case .incomplete: 2
        }
    }
}

/// A directory walk for the integrity commands: the entries, and every entry that could not be
/// read as an `unreadable` finding of `category`.
package enum IntegrityWalk {
    package static func walk(root: String, category: IncidentCategory) throws(IntegrityError)
        -> (walk: DirectoryWalker.Result, unreadable: [IntegrityFinding]) {
        let walk: DirectoryWalker.Result
        do throws(StoreError) {
            walk = try DirectoryWalker.walk(root: root)
        } catch {
            throw .unreadableInput(path: root, reason: error.description)
        }
        return (walk, walk.problems.map { IntegrityFinding.unreadable(path: $0.path, reason: $0.description, category: category) })
    }
}
