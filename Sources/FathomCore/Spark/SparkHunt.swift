import Foundation
import FathomDetect

/// `fathom hunt --from-results DIR`: the hunt over a store that `fathom analyze --from-results`
/// loaded from a Spark job's rows, with the hits of every rule the job computed — the built-in
/// rules of the manifest's `rules` and the Sigma rules of its `sigma_rules` — taken from the job,
/// and every other rule (the built-in rules it leaves to the native code, Sigma rules it did not
/// compile, correlations) run natively over the store. Same hits as `fathom hunt` over a store of
/// the archives (`.ci/spark-equivalence` holds the two to it).
public enum SparkHunt {
    public struct Outcome: Sendable {
        public var result: HuntResult
        /// Rule ids whose hits came from the job.
        public var rulesFromSpark: [String]
        /// Whether the job ran with another spec than this hunt's settings give (then no built-in
        /// rule's hits are taken from it).
        public var hasOtherSpec = false
    }

    public static func run(resultsDirectory: String, request: HuntRequest) throws -> Outcome {
        let manifest = try SparkResults.currentManifest(in: resultsDirectory)
        let wanted = Set(request.ruleIDs)
        let builtIn = request.includeBuiltIn ? RuleCatalog.builtIn.map(\.info.id) : []
        let sigma = request.sigmaRules.map(\.info.id)
        let known = Set(RuleCatalog.builtIn.map(\.info.id)).union(sigma)
        for id in wanted where !known.contains(id) { throw DetectError.unknownRule(id) }
        let selected = (builtIn + sigma).filter { wanted.isEmpty || wanted.contains($0) }
        // The job's hits cover every row; with a time range every rule runs here, over the range.
        var computed: Set<String> = []
        // The built-in rules' hits are the job's only when it ran with the spec these settings give.
        let hasOtherSpec = manifest.specSha256 != (try SparkSpec.sha256(settings: request.settings))
        if request.from == nil && request.to == nil {
            computed = Set(manifest.sigmaRules ?? []).intersection(sigma)
            if !hasOtherSpec { computed.formUnion(Set(manifest.rules).intersection(builtIn)) }
        }
        let fromSpark = selected.filter { computed.contains($0) }
        let native = selected.filter { !computed.contains($0) }
        let taken = Set(fromSpark)
        var hits = try (SparkResults.hits(in: resultsDirectory) + SparkResults.sigmaHits(in: resultsDirectory))
            .filter { taken.contains($0.rule) }
        var rowsScanned: [String: Int64] = [:]
        if !native.isEmpty {
            var rest = request
            rest.ruleIDs = native
            let result = try Hunt.run(rest)
            hits += result.hits
            rowsScanned = result.rowsScanned
        }
        hits.sort(by: Hit.precedes)
        return Outcome(result: HuntResult(hits: HitList(hits), rowsScanned: rowsScanned, rules: fromSpark + native),
                       rulesFromSpark: fromSpark.sorted(), hasOtherSpec: hasOtherSpec)
    }
}
