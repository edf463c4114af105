import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `fathom analyze --from-results DIR`: the analysis and reports of a Spark job's results, with no
/// archive read.
///
/// The job's rows go into the store (``SparkResults/load(from:into:)``); the hits of the rules the
/// job computed are the job's own; the rules it lists as not computed run here over the loaded
/// rows (the manifest names which). Then the native analysis and report writers run unchanged,
/// so the two paths cannot drift apart in what they conclude or how they write it.
public enum SparkAnalysis {
    public struct Outcome: Sendable {
        public var analysis: AnalyzeOutcome
        /// Archives the job could not decode (a format it does not read).
        public var unsupported: [String]
        /// Rule ids whose hits came from the job.
        public var rulesFromSpark: [String]
        /// Whether the job ran with another spec than this run's settings give (other thresholds,
        /// lists or networks, or another Fathom version): then every rule ran here.
        public var hasOtherSpec = false
    }

    public static func run(resultsDirectory: String, request: AnalyzeRequest) throws -> Outcome {
        let manifest = try SparkResults.currentManifest(in: resultsDirectory)
        let unsupported = try SparkResults.load(from: resultsDirectory, into: request.storeDirectory)
        var settings = request.settings
        if let networks = request.caseFile?.internalNetworks, !networks.isEmpty { settings.artifactInternalNetworks = networks }
        // The job's hits are this run's only when the job ran with the spec these settings give.
        let hasOtherSpec = manifest.specSha256 != (try SparkSpec.sha256(settings: settings))
        // The job's hits cover every row; with a time range the rules all run here, over the range.
        let fromSpark = request.timeRange == nil && !hasOtherSpec ? Set(manifest.rules) : []
        var hits = try SparkResults.hits(in: resultsDirectory).filter { fromSpark.contains($0.rule) }
        let native = try Hunt.run(HuntRequest(storeDirectory: request.storeDirectory, from: request.timeRange?.from,
                                              to: request.timeRange?.to, settings: settings, jobs: request.jobs)).hits
        hits += native.filter { !fromSpark.contains($0.rule) }
        hits.sort(by: Hit.precedes)
        var analyze = request
        analyze.paths = []
        analyze.hits = hits
        let outcome = try AnalysisEngine.run(analyze)
        return Outcome(analysis: outcome, unsupported: unsupported, rulesFromSpark: fromSpark.sorted(), hasOtherSpec: hasOtherSpec)
    }
}
