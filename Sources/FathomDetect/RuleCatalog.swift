import FathomStore
import FathomSupport
import FathomCatalog

/// What a rule is: id, title, level, MITRE ATLAS technique ids, the source kind it reads, and its
/// exact semantics in words (and, for the playbook rules, the equivalent KQL query).
public struct RuleInfo: Sendable, Codable, Equatable {
    public var id: String
    public var title: String
    /// Sigma's levels: informational, low, medium, high, critical.
    public var level: String
    public var atlas: [String]
    public var kind: SourceKind
    /// Whether this is one of the playbook's five rules (reproducible with the playbook's queries).
    public var isPlaybook: Bool
    /// Where the rule comes from: `built-in` or the path of a Sigma file.
    public var origin: String
    public var semantics: String
    public var kql: String?

    public init(id: String, title: String, level: String, atlas: [String], kind: SourceKind, isPlaybook: Bool = false,
                origin: String = "built-in", semantics: String, kql: String? = nil) {
        self.id = id
        self.title = title
        self.level = level
        self.atlas = atlas
        self.kind = kind
        self.isPlaybook = isPlaybook
        self.origin = origin
        self.semantics = semantics
        self.kql = kql
    }
}

/// A built-in rule: its description, the settings it reads (as text for `fathom rules show`) and
/// its implementation.
public struct BuiltInRule: Sendable {
    public let info: RuleInfo
    public let settings: @Sendable (RuleSettings) -> [(String, String)]
    package let body: @Sendable (HuntContext) throws -> [Hit]

    package func run(_ context: HuntContext) throws -> [Hit] { try body(context) }
}

/// All built-in rules, playbook first.
public enum RuleCatalog {
    public static let builtIn: [BuiltInRule] = [
        ExtractionVolume.rule, ArtifactExternalAccess.rule, InjectionPhrase.rule, PipelineBurst.rule, RegistryChangeRule.rule,
        ExtractionBeyond.slidingRule, ExtractionBeyond.principalRule, ExtractionBeyond.networkRule, ExtractionBeyond.budgetRule,
        ArtifactExternalAccess.widerRule, InjectionNormalized.rule, InjectionModelRule.rule, SensitiveOutput.rule, ControlPlane.rule,
    ]

    /// The built-in rule with `id`.
    public static func rule(_ id: String) -> BuiltInRule? { builtIn.first { $0.info.id == id } }

    package static func list(_ values: [String]) -> String { values.joined(separator: ", ") }

    /// `fathom rules show` text: semantics, settings, ATLAS ids and the KQL query.
    public static func describe(_ rule: BuiltInRule, settings: RuleSettings) -> String {
        var lines = [
            "\(rule.info.id) — \(rule.info.title)",
            "level: \(rule.info.level)    kind: \(rule.info.kind.rawValue)    "
                + (rule.info.isPlaybook ? "playbook rule" : "beyond the playbook"),
            "ATLAS: " + rule.info.atlas.joined(separator: ", "),
            "",
            "Semantics:",
            rule.info.semantics,
            "",
            "Settings (current values):",
        ]
        for (name, value) in rule.settings(settings) { lines.append("  \(name): \(value)") }
        if let kql = rule.info.kql {
            lines += ["", "Equivalent KQL:", kql]
        }
        return lines.joined(separator: "\n")
    }
}
