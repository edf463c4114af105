import ArgumentParser
import FathomCore
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the reports of an analysed case from its stored analysis.",
        discussion: """
            Reads <store>/cases/<case-id>/analysis.json (and findings.json) and writes brief.md, timeline.md,
            timeline-volume.svg, regulator.md, evidence.md, response.md and findings.json to <out>/<case-id>/.
            Archives are not read again, except to re-verify their SHA-256 when still at their recorded path.
            The same analysis and options give byte-identical files.

            Exit statuses:
              0   the reports were written
              1   an internal error
              3   the case has no readable analysis in the store, or a report could not be written
              4   --final was refused: facts only a person can supply are missing (listed on stderr)
              64  invalid arguments
            """
    )

    @Option(name: .customLong("case"), help: "The case id.")
    var caseID: String

    @Option(help: "The store directory.")
    var store: String = ".fathom"

    @Option(help: "The folder the case's report folder is written to.")
    var out: String = "Reports"

    @Flag(name: .customLong("final"), help: "Refuse unless every fact only a person can supply is present; mark the reports final.")
    var isFinal = false

    @Option(help: "Pin the generation time written into the reports (RFC 3339).")
    var now: String?

    @Flag(help: "Do not re-hash the input archives.")
    var noVerify = false

    @Option(help: "Judge the regulatory obligations by this regimes file instead of the built-in one (see regimes.json).")
    var regimes: String?

    func validate() throws {
        if let now, UTCTime(rfc3339: now) == nil {
            throw ValidationError("--now '\(TerminalText.escape(now))' is not an RFC 3339 time; expected e.g. 2026-03-04T12:00:00Z.")
        }
        if caseID.isEmpty || caseID.hasPrefix(".") || caseID.contains("/") {
            throw ValidationError("--case '\(TerminalText.escape(caseID))' cannot name a report folder.")
        }
    }

    func run() throws {
        var regimeSet: RegimeSet?
        if let regimes {
            do throws(ReportError) { regimeSet = try RegimeSet.load(path: regimes) } catch {
                throw ValidationError(error.description)
            }
        }
        let options = ReportOptions(now: now, isFinal: isFinal, verifyArchives: !noVerify,
                                    commandLine: ["fathom"] + Array(CommandLine.arguments.dropFirst()), regimes: regimeSet)
        let request = ReportRequest(caseID: caseID, storeDirectory: store, outDirectory: out, options: options)
        let written: [String]
        do throws(ReportError) { written = try ReportWriter.run(request) } catch {
            // One escaped line at a time, so a multi-line message keeps its lines.
            for line in error.description.split(separator: "\n") { printError(String(line)) }
            switch error {
            case .notFinal: throw ExitStatus.finalRefused
            case .invalidCaseID, .invalidTime, .regimes: throw ExitCode(64)
            case .missingAnalysis, .unreadableAnalysis, .io: throw ExitStatus.storeFailure
            }
        }
        for path in written { print(TerminalText.escape(path)) }
    }
}
