import ArgumentParser
import FathomCore
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a stored case in the formats other incident-response tools import.",
        discussion: """
            Reads <store>/cases/<case-id>/analysis.json and findings.json and writes to --to:
              ocsf        ocsf.jsonl: every hit as an OCSF 1.7.0 Detection Finding (class 2004), with its
                          evidence event as HTTP Activity (4002), API Activity (6003) or Datastore
                          Activity (6005) where one fits, MITRE ATLAS techniques in finding_info.attacks
              stix        stix.json: a STIX 2.1 bundle of incidents, indicators (attacker addresses,
                          networks, masked API key ids, principals), ATLAS attack patterns, the
                          compromised dependency and the models, and a report tying them together
              timesketch  timesketch.jsonl and timesketch.csv: the timeline, one event per dated row
            Secrets and API key ids are masked; the same case gives byte-identical files.

            Exit statuses:
              0   the files were written
              1   an internal error
              3   the case has no readable analysis in the store, or a file could not be written
              64  invalid arguments
            """
    )

    @Option(name: .customLong("case"), help: "The case id.")
    var caseID: String

    @Option(name: .customLong("to"), help: "The folder the files are written to (created when missing).")
    var to: String

    @Option(help: "Comma-separated formats: ocsf, stix, timesketch (default: all).")
    var format: String = "ocsf,stix,timesketch"

    @Option(help: "The store directory.")
    var store: String = ".fathom"

    func validate() throws {
        if ExportFormat.parseList(format) == nil {
            throw ValidationError("--format '\(TerminalText.escape(ExportFormat.invalidName(in: format) ?? format))' is not a format; expected ocsf, stix or timesketch, comma-separated.")
        }
        if caseID.isEmpty || caseID.hasPrefix(".") || caseID.contains("/") {
            throw ValidationError("--case '\(TerminalText.escape(caseID))' cannot name a stored case.")
        }
        if to.isEmpty { throw ValidationError("--to must name a folder.") }
    }

    func run() throws {
        let request = ExportRequest(caseID: caseID, storeDirectory: store, outDirectory: to,
                                    formats: ExportFormat.parseList(format) ?? ExportFormat.allCases)
        let written: [String]
        do throws(ReportError) { written = try ExportWriter.run(request) } catch {
            for line in error.description.split(separator: "\n") { printError(String(line)) }
            switch error {
            case .invalidCaseID, .invalidTime, .regimes: throw ExitCode(64)
            case .missingAnalysis, .unreadableAnalysis, .io: throw ExitStatus.storeFailure
            case .notFinal: throw ExitCode(1)
            }
        }
        for path in written { print(TerminalText.escape(path)) }
    }
}
