import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Renders ingest progress and summaries for the terminal and for machines.
public enum IngestReport {
    /// `ingest  412.0 MB / 1.2 GB  2.9 GB uncompressed  730.0 MB/s  3,120,000 rows  12 rejected  3/9 files  ETA 0:12`:
    /// archive bytes against their total (the ETA), the uncompressed bytes and their rate.
    public static func progressLine(_ progress: IngestProgress) -> String {
        progress.snapshot.line
    }

    /// A table of the files read, then the totals and notes.
    public static func table(_ summary: IngestSummary) -> String {
        var rows: [[String]] = [["file", "status", "format", "kind", "rows", "rejected", "excluded", "size"]]
        for file in summary.files {
            rows.append([TerminalText.escape(file.path), file.status.rawValue, file.formats.joined(separator: ","),
                         file.kinds.joined(separator: ","), "\(file.rows)", "\(file.rejected)", "\(file.filtered)",
                         TextFormat.bytes(file.size)])
        }
        var text = TextFormat.table(rows, rightAligned: [4, 5, 6, 7])
        let rate = summary.seconds > 0 ? Double(summary.bytesDecoded) / summary.seconds : 0
        let lost: String = summary.lostRecords > 0 ? "about \(summary.lostRecords) records lost in damaged data, " : ""
        text += "\n\n\(summary.files.count) files, \(summary.rows) rows, \(summary.rejected) rejected records, " + lost
            + "\(summary.filtered) excluded (well formed, not of the --kind or profile kind asked for); "
            + "\(TextFormat.bytes(summary.bytesRead)) of files, \(TextFormat.bytes(summary.bytesDecoded)) uncompressed, "
            + "in \(String(format: "%.2f", summary.seconds)) s (\(TextFormat.bytes(Int64(rate)))/s uncompressed)"
        let notes = summary.files.filter { !$0.note.isEmpty }
        if !notes.isEmpty {
            text += "\n\nNotes:"
            for file in notes {
                text += "\n  \(TerminalText.escape(file.path)): \(TerminalText.escape(file.note))"
            }
        }
        return text
    }

    public static func json(_ summary: IngestSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(summary), as: UTF8.self)
    }
}
