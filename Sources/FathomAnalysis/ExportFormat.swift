import Foundation

/// A format the case can be handed over in (`fathom export --format`, `fathom analyze --export`).
///
/// It lives beside the analysis request, below the writers in `FathomReports`, so that an analysis
/// can be asked to write its exports too.
public enum ExportFormat: String, CaseIterable, Sendable, Comparable {
    /// OCSF 1.7.0 Detection Findings, with the evidence events in their own classes (JSON Lines).
    case ocsf
    /// A STIX 2.1 bundle: indicators, incidents, attack patterns, the compromised dependency.
    case stix
    /// The timeline as Timesketch imports it (JSON Lines and CSV).
    case timesketch

    public static func < (lhs: ExportFormat, rhs: ExportFormat) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// Parses a comma-separated list (`ocsf,stix`), case-insensitive, sorted and without
    /// repetitions; nil when a name is not a format (``invalidName(in:)`` says which).
    public static func parseList(_ text: String) -> [ExportFormat]? {
        var formats = Set<ExportFormat>()
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let format = ExportFormat(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else { return nil }
            formats.insert(format)
        }
        return formats.sorted()
    }

    /// The first name in a comma-separated list that is not a format.
    public static func invalidName(in text: String) -> String? {
        text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { ExportFormat(rawValue: $0.lowercased()) == nil }
    }
}
