import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// What `fathom analyze` was asked to do.
public struct AnalyzeRequest: Sendable {
    /// Archives or directories to ingest first (those already in the store are not read again).
    public var paths: [String]
    public var storeDirectory: String
    /// The case id (`--case`); else the case file's, else derived from the data.
    public var caseID: String?
    public var caseFile: CaseFile?
    /// Where `Reports/<case-id>/` goes.
    public var reportsDirectory: String
    /// Pinned generation time (RFC 3339) for reproducible reports.
    public var now: Timestamp?
    public var jobs: Int
    /// The exact command line, for the evidence report.
    public var commandLine: [String]
    public var settings: RuleSettings
    public var profile: Profile?
    /// Only the data in `[from, to)` (nanoseconds): detections are exact to the row; the other
    /// scans read the segments overlapping the range; the evidence lists the archives holding data
    /// in it. Nil reads the whole store.
    public var timeRange: (from: Int64, to: Int64)?
    /// Hits already computed over the range (a sweep's), used instead of hunting again.
    public var hits: [Hit]?
    /// Follow symbolic links out of the input folders (see ``InputDiscovery``).
    public var followsSymlinks = false
    /// Formats to hand the case over in besides the reports (`--export`), written to
    /// `Reports/<case-id>/export/`; empty writes none.
    public var exportFormats: [ExportFormat] = []
    /// The source commit the running build declares (the CLI reads `FATHOM_BUILD_COMMIT`), for
    /// the evidence report; nil when none was declared.
    public var buildCommit: String?
    /// A regimes file (`--regimes`) the reports judge the regulatory obligations by instead of
    /// the built-in one.
    public var regimesFile: String?
    /// Called with the run's progress: the ingest's, then the hunt's, then the analysis and the
    /// reports' (a phase without a measure of its work: its name and time).
    public var progress: (@Sendable (ProgressSnapshot) -> Void)?

    public init(paths: [String], storeDirectory: String = ".fathom", caseID: String? = nil, caseFile: CaseFile? = nil,
                reportsDirectory: String = "Reports", now: Timestamp? = nil, jobs: Int = 2, commandLine: [String] = [],
                settings: RuleSettings = RuleSettings(), profile: Profile? = nil) {
        self.paths = paths
        self.storeDirectory = storeDirectory
        self.caseID = caseID
        self.caseFile = caseFile
        self.reportsDirectory = reportsDirectory
        self.now = now
        self.jobs = jobs
        self.commandLine = commandLine
        self.settings = settings
        self.profile = profile
    }
}

/// What `fathom analyze` produced.
public struct AnalyzeOutcome: Sendable {
    public var result: AnalysisResult
    public var hits: HitList
    public var ingest: IngestSummary?
    /// Files written, relative to the current directory.
    public var files: [String]

    /// The memberwise initializer, for the other targets of the package.
    package init(result: AnalysisResult, hits: HitList, ingest: IngestSummary? = nil, files: [String]) {
        self.result = result
        self.hits = hits
        self.ingest = ingest
        self.files = files
    }
}
