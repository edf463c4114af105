import ArgumentParser
import FathomCore
import Foundation

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Ingest new archives, run the detections and answer the playbook's questions.",
        discussion: """
            Writes Reports/<case-id>/ (analysis.json, findings.json, affected_decisions.csv — or
            affected_requests.csv, the estimate's list, without decision logs — and the report
            documents; with --export, the files of 'fathom export' in export/) and keeps the results in
            the store for 'fathom report' and 'fathom export'. A file named
            fathom-case.yaml at the top of an input directory is used as the case file when
            --case-file is not given.
            """
    )

    @Argument(help: "Archives or directories to read (those already in the store are not read again).")
    var paths: [String] = []

    @Option(help: "The case id used for the report folder.")
    var `case`: String?

    @Option(help: "A YAML case file with what logs cannot tell (awareness time, model profiles, compromised dependency).")
    var caseFile: String?

    @Option(help: "The store directory.")
    var store: String = ".fathom"

    @Option(help: "Where the case's report folder is written.")
    var out: String = "Reports"

    @Option(help: "Pin the generation time written into reports (RFC 3339).")
    var now: String?

    @Option(help: "A YAML file of rule settings (thresholds, patterns, networks).")
    var settings: String?

    @Option(help: "Threads for reading and scanning.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print the analysis as JSON instead of a summary.")
    var json = false

    @Flag(help: "Follow symbolic links that lead out of the input folders (by default they are listed, not read).")
    var followSymlinks = false

    @Option(help: "Also write the case for other tools into <out>/<case-id>/export/: ocsf, stix, timesketch (comma-separated).")
    var export: String?

    @Option(help: "Analyse the output folder of the Spark job ('fathom spark-job') instead of reading archives.")
    var fromResults: String?

    @Option(help: "Judge the regulatory obligations by this regimes file instead of the built-in one (see regimes.json).")
    var regimes: String?

    func validate() throws {
        if fromResults != nil, !paths.isEmpty { throw ValidationError("--from-results reads no archives: give either paths or --from-results.") }
        if let now, Timestamp(rfc3339: now) == nil { throw ValidationError("--now must be an RFC 3339 time.") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if let regimes {
            do throws(ReportError) { _ = try RegimeSet.load(path: regimes) } catch { throw ValidationError(error.description) }
        }
        if let commit = ProcessInfo.processInfo.environment["FATHOM_BUILD_COMMIT"], !commit.isEmpty,
           !(7...64).contains(commit.utf8.count) || !commit.allSatisfy({ $0.isHexDigit && $0.isASCII }) {
            throw ValidationError("FATHOM_BUILD_COMMIT '\(TerminalText.escape(commit))' is not a commit id; expected 7 to 64 hex digits (git rev-parse HEAD).")
        }
        if let export, ExportFormat.parseList(export) == nil {
            throw ValidationError("--export '\(TerminalText.escape(ExportFormat.invalidName(in: export) ?? export))' is not a format; expected ocsf, stix or timesketch, comma-separated.")
        }
    }

    func run() throws {
        var caseFilePath = caseFile
        if caseFilePath == nil, let fromResults, FileManager.default.fileExists(atPath: fromResults + "/fathom-case.yaml") {
            caseFilePath = fromResults + "/fathom-case.yaml"
        }
        if caseFilePath == nil {
            caseFilePath = paths.map { $0 + "/fathom-case.yaml" }.first { FileManager.default.fileExists(atPath: $0) }
        }
        var request = AnalyzeRequest(paths: paths, storeDirectory: store, caseID: `case`, reportsDirectory: out, now: now.flatMap(Timestamp.init(rfc3339:)),
                                     jobs: jobs, commandLine: ["fathom"] + CommandLine.arguments.dropFirst())
        request.followsSymlinks = followSymlinks
        request.exportFormats = export.flatMap(ExportFormat.parseList) ?? []
        request.regimesFile = regimes
        // The source commit the build declares: set by whoever built this binary (see README, Reports).
        request.buildCommit = ProcessInfo.processInfo.environment["FATHOM_BUILD_COMMIT"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
        do throws(AnalysisError) {
            if let caseFilePath { request.caseFile = try CaseFile.load(path: caseFilePath) }
        } catch {
            printError(error.description)
            throw ExitCode(64)
        }
        if let settings {
            do { request.settings = try RuleSettings.load(path: settings) } catch {
                printError("\(error)")
                throw ExitCode(64)
            }
        }
        if let fromResults {
            let spark: SparkAnalysis.Outcome
            do { spark = try SparkAnalysis.run(resultsDirectory: fromResults, request: request) } catch {
                printError("\(error)")
                throw ExitCode(error is SparkResults.LoadError ? 3 : 1)
            }
            if json { print(try AnalysisSummary.json(spark.analysis.result)) } else { print(AnalysisSummary.text(spark.analysis)) }
            if spark.hasOtherSpec {
                printError("\(TerminalText.escape(fromResults)): the Spark job ran with another spec (settings, case-file networks or Fathom version) than this run's; its hits were not used, every rule ran here over its rows")
            }
            for path in spark.unsupported { printError("\(path): not decoded by the Spark job (a format it does not read); run 'fathom analyze' on it") }
            if !spark.unsupported.isEmpty { throw ExitStatus.inputsUnreadable }
            return
        }
        // Phase by phase (ingest, hunt, analysis, reports) on stderr when it is a terminal.
        let line = ProgressLine()
        if standardErrorIsTerminal && !json { request.progress = { line.update($0.line) } }
        defer { line.clear() }
        let outcome: AnalyzeOutcome
        do throws(AnalysisError) { outcome = try AnalysisEngine.run(request) } catch {
            line.clear()
            switch error {
            case let .ingest(inner): throw ExitStatus.fail(inner)
            default:
                printError(error.description)
                throw ExitCode(1)
            }
        }
        line.clear()
        if json {
            print(try AnalysisSummary.json(outcome.result))
        } else {
            print(AnalysisSummary.text(outcome))
        }
        if outcome.ingest?.hasUnreadable == true { throw ExitStatus.inputsUnreadable }
    }
}
