import Foundation
import FathomStore
import FathomSupport
import FathomIngest
import FathomDetect

/// The data the PySpark job reads: everything the native ingest and rules decide by data — the
/// canonical columns of each kind, the field names and paths of every format, the rule settings
/// and the rule catalog — exported from the Swift definitions so the two engines share one truth.
///
/// Written by `fathom spark-job` as `fathom-spec.json` beside `fathom_spark_job.py`; the job never
/// carries a copy of its own. Keys are sorted, so the file is byte-stable for the same build and
/// settings.
public struct SparkSpec: Codable, Sendable, Equatable {
    /// The format version of this file; the job refuses another.
    public static let version = 1

    public struct Column: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
    }

    public struct Format: Codable, Sendable, Equatable {
        public var name: String
        public var kinds: [String]
        /// Canonical column and the source field behind it, as `fathom formats` prints them.
        public var fieldMap: [[String]]
    }

    public struct Rule: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var level: String
        public var atlas: [String]
        public var kind: String
        public var isPlaybook: Bool
        public var settings: [[String]]
    }

    public struct Settings: Codable, Sendable, Equatable {
        public var endpointPatterns: [String]
        public var extractionBucketSeconds: Int64
        public var maxQueries: Int64
        public var maxDistinctInputs: Int64
        public var slidingWindowSeconds: Int64
        public var slideSeconds: Int64
        public var totalMaxQueries: Int64
        public var totalMaxDistinctInputs: Int64
        public var dailyBudget: Int64
        public var artifactPattern: String
        public var artifactOperations: [String]
        public var artifactInternalNetworks: [String]
        public var injectionPhrases: [String]
        public var normalizedPhrases: [String]
        public var injectionContextPhrases: [String]
        public var injectionContextWords: [String]
        public var modelThreshold: Double?
        public var pipelineActions: [String]
        public var pipelineBucketSeconds: Int64
        public var pipelineSigmas: Double
        public var internalNetworks: [String]

        public init(_ settings: RuleSettings) {
            endpointPatterns = settings.endpointPatterns
            extractionBucketSeconds = settings.extractionBucketSeconds
            maxQueries = settings.maxQueries
            maxDistinctInputs = settings.maxDistinctInputs
            slidingWindowSeconds = settings.slidingWindowSeconds
            slideSeconds = settings.slideSeconds
            totalMaxQueries = settings.totalMaxQueries
            totalMaxDistinctInputs = settings.totalMaxDistinctInputs
            dailyBudget = settings.dailyBudget
            artifactPattern = settings.artifactPattern
            artifactOperations = settings.artifactOperations
            artifactInternalNetworks = settings.artifactInternalNetworks
            injectionPhrases = settings.injectionPhrases
            normalizedPhrases = settings.normalizedPhrases
            injectionContextPhrases = settings.injectionContextPhrases
            injectionContextWords = settings.injectionContextWords
            modelThreshold = settings.modelThreshold
            pipelineActions = settings.pipelineActions
            pipelineBucketSeconds = settings.pipelineBucketSeconds
            pipelineSigmas = settings.pipelineSigmas
            internalNetworks = settings.internalNetworks
        }
    }

    public var specVersion: Int
    public var toolVersion: String
    /// Kind → its columns in segment order (time first, provenance last).
    public var kinds: [String: [Column]]
    public var formats: [Format]
    /// Generic JSON: canonical column → common source names, most specific first.
    public var genericCandidates: [[String]]
    public struct KindEvidence: Codable, Sendable, Equatable {
        public var kind: String
        /// (canonical column, weight) pairs.
        public var fields: [[String]]
    }

    /// Generic JSON: per kind, in the order ties are broken, the columns that point to it.
    public var kindEvidence: [KindEvidence]
    /// Azure storage logs: role → source paths, first present wins.
    public var azureStoragePaths: [String: [String]]
    /// An audit row of a JSON record no kind describes: role → source paths.
    public var auditGenericPaths: [String: [String]]
    /// Kubernetes audit: the time paths, first present wins.
    public var k8sAuditTimePaths: [String]
    /// Storage operation → action: (needle, action), the first needle the lower-cased operation holds wins.
    public var storageActions: [[String]]
    /// LLM gateway: canonical column → source paths, first present wins.
    public var llmGatewayPaths: [[String]]
    /// Positional field names of the text formats.
    public var s3AccessLogFields: [String]
    public var s3AccessLogMinimumFields: Int
    public var accessLogFields: [String]
    /// Kubernetes resources whose changes are registry rows.
    public var k8sServingResources: [String]
    public var settings: Settings
    public var rules: [Rule]

    /// `FoldedText.fold` as data: every scalar that folds to another one, as [scalar, folded]
    /// (ASCII A–Z included), so the job's case-insensitive matching is the native one.
    public var foldTable: [[UInt32]]
    /// The artifact pattern's literals (folded substring search, as `TextPattern` runs it), or nil
    /// when the pattern is a regular expression beyond an alternation of literals.
    public var artifactLiterals: [String]?

    /// `registry.change`'s event and status tables (`RegistryChangeRule`).
    public struct RegistryTables: Codable, Sendable, Equatable {
        public var notChangeNeedles: [String]
        /// [change, needle, needle…], first entry whose needle the lower-cased event holds wins.
        public var changeNeedles: [[String]]
        public var successStatuses: [String]
        public var workloadEvents: [String]
        public var workloadStage: String
    }

    public var registry: RegistryTables

    /// The Sigma rules of `--rules` compiled to Spark SQL (``SparkSigma``), and those left to the
    /// native engine with the reason; absent when no rules were given.
    public var sigma: SparkSigma.RuleSet?

    /// The SHA-256 of this spec without `sigma` and without this field — ``sha256(settings:)`` of
    /// the settings it was made with — which the job records as its manifest's `spec_sha256`, so
    /// that results of a job written with `--rules` are still taken by a native run with the same
    /// settings (Sigma rules do not change the built-in rules' hits). Nil in
    /// ``sha256(settings:)``'s own spec.
    public var detectionSha256: String?
    /// `audit.control-plane`'s tables (`ControlPlane`): action → category per audit source.
    public struct ControlPlaneTables: Codable, Sendable, Equatable {
        // [action, category] pairs, sorted (not JSON objects: the snake-case key strategy would
        // rewrite the actions).
        /// CloudTrail `eventName` → category (exact).
        public var cloudtrail: [[String]]
        /// Azure activity operation name, upper-cased → category (the action compared upper-cased).
        public var azureActivity: [[String]]
        /// Entra ID audit activity name → category (exact).
        public var azureAudit: [[String]]
        /// Kubernetes [verb, resource, category].
        public var kubernetes: [[String]]
        /// Kubernetes users whose secret reads are not reported (name prefix).
        public var kubernetesSystemPrefix: String
    }

    public var controlPlane: ControlPlaneTables

    /// `llm.sensitive-output`'s detectors (`SensitiveData`): the regular expressions in order, the
    /// check each match must pass, and the checks' data.
    public struct SensitiveOutputTables: Codable, Sendable, Equatable {
        /// [category, pattern (ICU syntax, ASCII classes only), validation: "" luhn ssn nino iban].
        public var detectors: [[String]]
        public var cardDigits: [Int]
        public var ssnExcludedAreas: [Int]
        public var ssnAreaLimit: Int
        public var ninoExcludedFirst: String
        public var ninoExcludedSecond: String
        public var ninoNeverIssued: [String]
        public var ibanLength: [Int]
    }

    public var sensitiveOutput: SensitiveOutputTables

    /// A table as sorted [action, category] pairs.
    static func pairs(_ table: [String: FathomDetect.ControlPlane.Category]) -> [[String]] {
        table.map { [$0.key, $0.value.rawValue] }.sorted { $0[0] < $1[0] }
    }

    /// Every scalar whose fold differs from itself (surrogates skipped).
    static let foldPairs: [[UInt32]] = {
        var pairs: [[UInt32]] = []
        for value in UInt32(0)...0x10FFFF where !(0xD800...0xDFFF).contains(value) {
            let folded = FoldedText.fold(value)
            if folded != value { pairs.append([value, folded]) }
        }
        return pairs
    }()

    /// The spec for `settings` (after a case file's internal networks are applied).
    public init(settings: RuleSettings) {
        specVersion = Self.version
        toolVersion = FathomVersion.current
        var kinds: [String: [Column]] = [:]
        for kind in SourceKind.allCases {
            kinds[kind.rawValue] = kind.schema.columns.map { Column(name: $0.name, type: "\($0.type)") }
        }
        self.kinds = kinds
        formats = FormatRegistry.builtIn.formats.map { format in
            Format(name: format.name, kinds: format.kinds.map(\.rawValue), fieldMap: format.fieldMap.map { [$0.canonical, $0.source] })
        }
        genericCandidates = CanonicalFields.candidates.map { [$0.column] + $0.names }
        kindEvidence = CanonicalFields.kindEvidence.map { entry in
            KindEvidence(kind: entry.kind.rawValue, fields: entry.fields.map { [$0.0, String($0.1)] })
        }
        func joined(_ paths: [[String]]) -> [String] { paths.map { $0.joined(separator: ".") } }
        azureStoragePaths = [
            "time": joined(AzureStorageLogDecoder.timePaths), "operation": joined(AzureStorageLogDecoder.operationPaths),
            "address": joined(AzureStorageLogDecoder.ipPaths), "principal": joined(AzureStorageLogDecoder.principalPaths),
            "key": joined(AzureStorageLogDecoder.keyPaths), "user_agent": joined(AzureStorageLogDecoder.agentPaths),
            "status": joined(AzureStorageLogDecoder.statusPaths),
        ]
        auditGenericPaths = [
            "action": joined(AuditRow.genericActionPaths), "principal": joined(AuditRow.genericPrincipalPaths),
            "address": joined(AuditRow.genericAddressPaths), "user_agent": joined(AuditRow.genericAgentPaths),
        ]
        k8sAuditTimePaths = joined(KubernetesAuditDecoder.timePaths)
        storageActions = CanonicalFields.storageActionRules.map { [$0.needle, $0.action] }
        llmGatewayPaths = LLMGatewayFormat.builtIn.map { [$0.column] + $0.paths }
        s3AccessLogFields = S3AccessLogFormat.fields.names
        s3AccessLogMinimumFields = S3AccessLogFormat.minimumFields
        accessLogFields = CombinedAccessLogFormat.fields.names
        k8sServingResources = KubernetesAuditFormat.servingResources.sorted()
        self.settings = Settings(settings)
        foldTable = Self.foldPairs
        artifactLiterals = TextPattern.expand(settings.artifactPattern)
        registry = RegistryTables(
            notChangeNeedles: RegistryChangeRule.notChangeNeedles,
            changeNeedles: RegistryChangeRule.changeNeedles.map { [$0.change] + $0.needles },
            successStatuses: RegistryChangeRule.successStatuses, workloadEvents: RegistryChangeRule.workloadEvents,
            workloadStage: RegistryChangeRule.workloadStage)
        controlPlane = ControlPlaneTables(
            cloudtrail: Self.pairs(FathomDetect.ControlPlane.cloudTrail), azureActivity: Self.pairs(FathomDetect.ControlPlane.azureActivity),
            azureAudit: Self.pairs(FathomDetect.ControlPlane.entraAudit),
            kubernetes: FathomDetect.ControlPlane.kubernetes.map { [$0.verb, $0.resource, $0.category.rawValue] },
            kubernetesSystemPrefix: FathomDetect.ControlPlane.kubernetesSystemPrefix)
        sensitiveOutput = SensitiveOutputTables(
            detectors: SensitiveData.detectors.map { [$0.category, $0.regex.pattern, $0.validation.rawValue] },
            cardDigits: [SensitiveData.cardDigits.lowerBound, SensitiveData.cardDigits.upperBound],
            ssnExcludedAreas: SensitiveData.ssnExcludedAreas.sorted(), ssnAreaLimit: SensitiveData.ssnAreaLimit,
            ninoExcludedFirst: SensitiveData.ninoExcludedFirst, ninoExcludedSecond: SensitiveData.ninoExcludedSecond,
            ninoNeverIssued: SensitiveData.ninoNeverIssued.sorted(),
            ibanLength: [SensitiveData.ibanLength.lowerBound, SensitiveData.ibanLength.upperBound])
        rules = RuleCatalog.builtIn.map { rule in
            Rule(id: rule.info.id, title: rule.info.title, level: rule.info.level, atlas: rule.info.atlas,
                 kind: rule.info.kind.rawValue, isPlaybook: rule.info.isPlaybook,
                 settings: rule.settings(settings).map { [$0.0, $0.1] })
        }
    }

    /// The SHA-256 of the spec `fathom spark-job` writes for `settings` (its manifest's
    /// `spec_sha256` when the job ran with it): results whose hits a native run may take.
    public static func sha256(settings: RuleSettings) throws -> String {
        var hasher = SHA256Stream()
        try SparkSpec(settings: settings).json().withByteView { hasher.update($0) }
        return hasher.finalize()
    }

    /// The spec as sorted, pretty-printed JSON with a final newline.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }
}
