import Foundation
import FathomDetect
import FathomAnalysis
import FathomStore

/// `fathom spark-job`: writes the self-contained PySpark job — `fathom_spark_job.py`, the data it
/// reads (`fathom-spec.json`, exported from the Swift definitions, with the Sigma rules compiled
/// to Spark SQL) and, when given, the case file and Sigma rules — into one folder, ready for
/// `spark-submit`.
public enum SparkJob {
    public struct Request: Sendable {
        public var outputDirectory: String
        public var settings: RuleSettings
        public var caseFile: CaseFile?
        public var caseFilePath: String?
        public var rulesDirectory: String?

        public init(outputDirectory: String, settings: RuleSettings = RuleSettings(), caseFile: CaseFile? = nil,
                    caseFilePath: String? = nil, rulesDirectory: String? = nil) {
            self.outputDirectory = outputDirectory
            self.settings = settings
            self.caseFile = caseFile
            self.caseFilePath = caseFilePath
            self.rulesDirectory = rulesDirectory
        }
    }

    /// The settings the job runs with: the case file's internal networks apply to the artifact
    /// rule, as in `fathom analyze`.
    public static func effectiveSettings(_ request: Request) -> RuleSettings {
        var settings = request.settings
        if let networks = request.caseFile?.internalNetworks, !networks.isEmpty { settings.artifactInternalNetworks = networks }
        return settings
    }

    /// The Sigma rules of `--rules` compiled to Spark SQL (nil without rules): the rules the native
    /// hunt would run; unusable ones are `fathom rules lint`'s to report.
    public static func sigmaRules(_ request: Request) -> SparkSigma.RuleSet? {
        request.rulesDirectory.map { SparkSigma.compile(SigmaLoader.load(directory: $0).rules) }
    }

    /// Writes the job; returns the paths written, in order.
    public static func write(_ request: Request) throws -> [String] {
        let manager = FileManager.default
        try manager.createDirectory(atPath: request.outputDirectory, withIntermediateDirectories: true)
        var written: [String] = []
        func put(_ name: String, _ data: Data) throws {
            let path = request.outputDirectory + "/" + name
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            written.append(path)
        }
        try put("fathom_spark_job.py", Data(PackageResources.fathom_spark_job_py))
        var spec = SparkSpec(settings: effectiveSettings(request))
        // What `analyze --from-results` and the sweep compare: the spec of the built-in rules, as
        // they compute it from their own settings (no Sigma rules; their hits are the job's only
        // for the rules the manifest lists).
        var hasher = SHA256Stream()
        try spec.json().withByteView { hasher.update($0) }
        spec.detectionSha256 = hasher.finalize()
        spec.sigma = sigmaRules(request)
        try put("fathom-spec.json", try spec.json())
        if let path = request.caseFilePath {
            try put("fathom-case.yaml", try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        if let rules = request.rulesDirectory {
            let target = request.outputDirectory + "/rules"
            if manager.fileExists(atPath: target) { try manager.removeItem(atPath: target) }
            try manager.copyItem(atPath: rules, toPath: target)
            written.append(target)
        }
        return written
    }
}
