import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `timesketch.jsonl` and `timesketch.csv`: the incident timeline as Timesketch imports it, one
/// event per dated timeline row, in time order.
///
/// Every event has Timesketch's three required fields — `message` (the row's description, masked),
/// `datetime` (ISO 8601 with microseconds, UTC) and `timestamp_desc` (what the time is: the phase
/// of the row) — plus `timestamp` (microseconds since the epoch), `data_type`
/// (`fathom:timeline`), the case, phase, source and incident, and the evidence citation
/// (`evidence`, and `evidence_archive`, `evidence_member`, `evidence_line` to filter on). A row the
/// evidence cannot date has no place on a Timesketch timeline and is left out (`timeline.md` shows
/// it). The CSV has the same columns in a fixed order, each field escaped as every Fathom CSV.
package struct TimesketchExport {
    package static let jsonLinesName = "timesketch.jsonl"
    package static let csvName = "timesketch.csv"
    package static let columns = [
        "message", "datetime", "timestamp_desc", "timestamp", "data_type", "case_id", "phase", "source", "incident",
        "evidence", "evidence_archive", "evidence_member", "evidence_line",
    ]

    package let context: ExportContext
    package init(_ context: ExportContext) { self.context = context }

    /// The rows: column → text (numbers as decimal text), dated rows only, in time order.
    package func rows() -> [[String: ExportJSON]] {
        let dated = context.result.timeline.enumerated().compactMap { index, event in event.time.map { (index, $0, event) } }
        return dated.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map { _, time, event in
            var row: [String: ExportJSON] = [
                "message": .string(context.text(event.description)),
                "datetime": .string(ExportTime.rfc3339(time, digits: 6, zone: "+00:00")),
                "timestamp_desc": .string(Self.timestampDescription(event.phase)),
                "timestamp": .integer(ExportTime.microseconds(time)),
                "data_type": .string("fathom:timeline"),
                "case_id": .string(context.result.caseInfo.id),
                "phase": .string(context.text(event.phase)),
                "source": .string(context.text(event.source)),
                "incident": .string(context.text(event.incident ?? "")),
                "evidence": .string(""), "evidence_archive": .string(""), "evidence_member": .string(""),
            ]
            if let ref = event.evidence {
                row["evidence"] = .string(context.text(ExportContext.citation(ref)))
                row["evidence_archive"] = .string(context.text(ref.archive))
                row["evidence_member"] = .string(context.text(ref.member))
                row["evidence_line"] = .integer(ref.line)
            }
            return row
        }
    }

    package func renderJSONLines() throws -> String {
        try rows().map { try ExportJSON.object($0).line() + "\n" }.joined()
    }

    package func renderCSV() -> String {
        var output = ""
        CSV.appendLine(Self.columns, to: &output)
        for row in rows() {
            CSV.appendLine(Self.columns.map { column in
                switch row[column] {
                case let .string(text)?: text
                case let .integer(number)?: String(number)
                default: ""
                }
            }, to: &output)
        }
        return output
    }

    /// What a timeline row's time is, by its phase.
    package static func timestampDescription(_ phase: String) -> String {
        switch phase {
        case "first-indicator": "First indicator"
        case "indicator": "Indicator (first hit of a rule)"
        case "impact": "Impact"
        case "detection": "Detection"
        case "containment": "Containment"
        case "recovery": "Recovery"
        case "context": "Context"
        default: "Event time"
        }
    }
}
