import Foundation
import FathomStore
import FathomSupport

/// `fathom scan-artifacts --format sarif`: the report as a SARIF 2.1.0 log (OASIS), the format code
/// scanning services and CI gates read.
///
/// One run; one rule per finding kind (`unsafe-pickle-import`, `unreadable`,
/// `artifact-hash-mismatch`); one result per finding, with `level` from the severity (critical and
/// high → `error`, medium → `warning`, low → `note`), `properties.severity` and
/// `properties.security-severity` (the 0–10 score GitHub ranks by), the file as a relative URI under
/// the `SCANROOT` base, the byte offset as a region when it is an offset in the file itself (stored
/// bytes), and the zip member or decoded layer as a logical location. Results are in the report's
/// deterministic order and carry a fingerprint of file, member, offset and import, so a gate can
/// track them across runs.
public enum ArtifactSARIF {
    public static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    struct Log: Encodable {
        let schema = ArtifactSARIF.schema
        let version = "2.1.0"
        let runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }

    struct Run: Encodable {
        let tool: Tool
        let originalUriBaseIds: [String: ArtifactLocation]
        let results: [Result]
        let properties: [String: String]
    }

    struct Tool: Encodable { let driver: Driver }

    struct Driver: Encodable {
        let name = "fathom"
        let version: String
        let rules: [Rule]
    }

    struct Message: Encodable { let text: String }

    struct Rule: Encodable {
        let id: String
        let name: String
        let shortDescription: Message
        let defaultConfiguration: [String: String]
    }

    struct ArtifactLocation: Encodable {
        let uri: String
        let uriBaseId: String?
    }

    struct Region: Encodable { let byteOffset: Int }

    struct PhysicalLocation: Encodable {
        let artifactLocation: ArtifactLocation
        let region: Region?
    }

    struct LogicalLocation: Encodable {
        let fullyQualifiedName: String
        let kind: String
    }

    struct Location: Encodable {
        let physicalLocation: PhysicalLocation
        let logicalLocations: [LogicalLocation]?
    }

    struct Result: Encodable {
        let ruleId: String
        let ruleIndex: Int
        let level: String
        let message: Message
        let locations: [Location]
        let partialFingerprints: [String: String]
        let properties: [String: String]
    }

    static let rules: [(IntegrityFinding.Kind, String, String)] = [
        (.unsafePickleImport, "UnsafePickleImport", "A pickle imports a global that is not allowlisted; loading it imports and may call it."),
        (.unreadable, "UnreadableContent", "Content that could not be read to its end: malformed pickle, damaged or refused container."),
        (.artifactHashMismatch, "ArtifactHashMismatch", "The artifact's SHA-256 differs from the model registry's."),
    ]

    /// The SARIF level of a severity.
    public static func level(_ severity: Severity, kind: IntegrityFinding.Kind) -> String {
        if kind == .unreadable { return "warning" }
        switch severity {
        case .critical, .high: return "error"
        case .medium: return "warning"
        case .low, .info: return "note"
        }
    }

    /// GitHub's `security-severity` score of a severity.
    public static func securityScore(_ severity: Severity) -> String {
        switch severity {
        case .critical: "9.8"
        case .high: "8.0"
        case .medium: "5.5"
        case .low: "3.0"
        case .info: "0.0"
        }
    }

    /// A relative path as a URI reference: unreserved bytes and `/` kept, the rest percent-encoded.
    public static func uri(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            let isUnreserved = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
                || byte == UInt8(ascii: "/")
            if isUnreserved { out.append(Character(Unicode.Scalar(byte))) }
            else { out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) }
        }
        return out
    }

    /// FNV-1a (64 bits) of `text`, in hex: a stable fingerprint, not a security hash.
    static func fingerprintHash(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }

    /// The report as SARIF JSON text (sorted keys; invisible and control characters escaped).
    public static func encode(_ report: ArtifactScanReport, toolVersion: String = Manifest.toolVersion) throws -> String {
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($0.element.0, $0.offset) })
        var results: [Result] = []
        for finding in report.findings {
            let index = ruleIndex[finding.kind] ?? 0
            let member = finding.evidence.member
            var region: Region?
            if member == nil, let offset = finding.evidence.offset { region = Region(byteOffset: offset) }
            if let offset = finding.attributes["fileOffset"].flatMap({ Int($0) }) { region = Region(byteOffset: offset) }
            var properties = finding.attributes
            properties["severity"] = finding.severity.rawValue
            properties["security-severity"] = securityScore(finding.severity)
            if let offset = finding.evidence.offset { properties["streamOffset"] = String(offset) }
            let fingerprint = [finding.evidence.file, member ?? "", finding.evidence.offset.map(String.init) ?? "",
                               finding.kind.rawValue, finding.attributes["import"] ?? finding.detail].joined(separator: "\u{0}")
            results.append(Result(
                ruleId: finding.kind.rawValue, ruleIndex: index, level: level(finding.severity, kind: finding.kind),
                message: Message(text: finding.detail),
                locations: [Location(
                    physicalLocation: PhysicalLocation(artifactLocation: ArtifactLocation(uri: uri(finding.evidence.file), uriBaseId: "SCANROOT"),
                                                       region: region),
                    logicalLocations: member.map { [LogicalLocation(fullyQualifiedName: $0, kind: "member")] })],
                partialFingerprints: ["fathom/v1": fingerprintHash(fingerprint)],
                properties: properties))
        }
        let root = URL(fileURLWithPath: report.root, isDirectory: true).standardizedFileURL.absoluteString
        let run = Run(
            tool: Tool(driver: Driver(version: toolVersion, rules: rules.map { kind, name, text in
                Rule(id: kind.rawValue, name: name, shortDescription: Message(text: text),
                     defaultConfiguration: ["level": kind == .unreadable ? "warning" : "error"])
            })),
            originalUriBaseIds: ["SCANROOT": ArtifactLocation(uri: root, uriBaseId: nil)],
            results: results,
            properties: ["failOn": report.failOn.rawValue, "outcome": report.outcome.rawValue,
                         "exitStatus": String(report.outcome.exitStatus), "policy": report.policy.joined(separator: ", ")])
        return try IntegrityJSON.encode(Log(runs: [run]))
    }
}
