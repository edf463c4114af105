import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// The short summary `fathom analyze` prints.
public enum AnalysisSummary {
    public static func text(_ outcome: AnalyzeOutcome) -> String {
        let result = outcome.result
        var lines: [String] = []
        if let ingest = outcome.ingest {
            let new = ingest.files.filter { $0.status == .ingested }.count
            lines.append("Ingested \(new) new of \(ingest.files.count) files: \(ingest.rows) rows, \(ingest.rejected) rejected records.")
        }
        lines.append("Case \(TerminalText.escape(result.caseInfo.id)): \(result.incidents.count) incidents, "
            + "\(result.rules.reduce(0) { $0 + $1.hits }) rule hits.")
        for incident in result.incidents {
            let end = incident.window.end?.time?.rfc3339 ?? (incident.window.ongoing ? "ongoing" : "?")
            let start = incident.window.start.time?.rfc3339 ?? "?"
            lines.append("  \(incident.id) \(incident.type.title): \(start) → \(end)")
            lines.append("      \(TerminalText.escape(incident.summary))")
        }
        if let affected = result.affectedDecisions {
            let value = affected.total.value.map { String(Int64($0)) } ?? "?"
            lines.append("Affected decisions: \(value)\(affected.exact ? "" : " (estimate)") by \(TerminalText.escape(affected.model)) \(TerminalText.escape(affected.compromisedVersion)); last known-good \(TerminalText.escape(affected.lastKnownGoodVersion ?? "unknown")).")
        }
        if let extraction = result.extraction {
            lines.append("Extraction: \(extraction.attackers.count) attackers, \(extraction.totalQueries) queries, \(extraction.totalDistinctInputs) distinct inputs\(extraction.ongoing ? ", ONGOING" : "").")
        }
        if let exposure = result.dataExposure {
            lines.append("Data exposure: \(exposure.responsesWithSensitiveData) responses with sensitive data, \(exposure.distinctUsers) users.")
        }
        lines.append("Playbook path: " + result.flowchart.path.joined(separator: " → "))
        if !outcome.files.isEmpty {
            lines.append("Wrote: " + outcome.files.map { TerminalText.escape($0) }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ result: AnalysisResult) throws -> String {
        String(decoding: try AnalysisOutput.encoder().encode(result), as: UTF8.self)
    }
}
