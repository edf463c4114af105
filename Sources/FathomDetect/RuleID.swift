/// The built-in rules' ids, as constants the compiler checks, and the families the analysis reads
/// them by (never by the text of an id).
public enum RuleID {
    public static let extractionVolume = "extraction.volume"
    public static let artifactExternalAccess = "artifact.external-access"
    public static let injectionPhrase = "prompt.injection-phrase"
    public static let pipelineBurst = "pipeline.burst"
    public static let registryChange = "registry.change"
    public static let slidingWindow = "extraction.sliding-window"
    public static let principalTotal = "extraction.principal-total"
    public static let networkTotal = "extraction.network-total"
    public static let budget = "extraction.budget"
    public static let artifactNonInternalAccess = "artifact.non-internal-access"
    public static let injectionNormalized = "prompt.injection-normalized"
    public static let injectionModel = "prompt.injection-model"
    public static let sensitiveOutput = "llm.sensitive-output"
    public static let controlPlane = "audit.control-plane"

    /// Rules whose hits name extraction attackers (rates and totals of queries).
    public static let extraction: Set<String> = [extractionVolume, slidingWindow, principalTotal, networkTotal, budget]
    /// Extraction rules over the whole range (not a rate): they name an attacker only above the
    /// query total, since a heavy legitimate client reaches the distinct-input total in days.
    public static let wholeRangeTotals: Set<String> = [principalTotal, networkTotal]
    /// Rules on model artifacts in object storage.
    public static let artifact: Set<String> = [artifactExternalAccess, artifactNonInternalAccess]
    /// Rules on prompts.
    public static let injection: Set<String> = [injectionPhrase, injectionNormalized, injectionModel]
    /// Rules that judge one record each (no window, no baseline).
    public static let singleRecord: Set<String> = artifact.union(injection).union([sensitiveOutput, controlPlane])
}

/// Names of the metrics hits carry, as constants.
public enum Metric {
    public static let queryCount = "query_count"
    public static let distinctInputs = "distinct_inputs"
    public static let count = "count"
    public static let peakCount = "peak_count"
    public static let eventCount = "event_count"
}
