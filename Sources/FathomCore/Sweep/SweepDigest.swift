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

/// How a sweep ended, as the exit status a scheduler alerts on.
///
/// When several apply, the first in this order wins: altered evidence, new or updated findings,
/// unreadable inputs, nothing new. Errors (1, 3, 64) are raised, never returned.
public enum SweepStatus: Int32, Sendable, Codable {
    /// Nothing new: no new or updated finding, no altered evidence, every new input readable.
    case nothingNew = 0
    /// Some new inputs could not be read (recorded as evidence with the reason).
    case inputsUnreadable = 2
    /// New or updated findings.
    case newFindings = 10
    /// A file already ingested changed after it was read (altered evidence).
    case alteredEvidence = 11

    package static func of(findings: Int, altered: Int, unreadable: Int) -> SweepStatus {
        if altered > 0 { return .alteredEvidence }
        if findings > 0 { return .newFindings }
        if unreadable > 0 { return .inputsUnreadable }
        return .nothingNew
    }
}

/// What one sweep reports: `digest.json` is this value; `digest.md` renders it.
public struct SweepDigest: Sendable, Codable, Equatable {
    /// A finding reported by this sweep.
    public struct Finding: Sendable, Codable, Equatable {
        /// `new` or `updated`.
        public var status: String
        public var identity: String
        public var hit: Hit
        /// What an earlier sweep reported (updates only).
        public var previous: Previous?
        /// The incident report this finding is part of (`incidents/<case>/brief.md`), if any.
        public var incident: IncidentLink?
    }

    public struct Previous: Sendable, Codable, Equatable {
        public var window: Window?
        public var metrics: [String: HitValue]
        /// The id of the sweep that first reported the finding.
        public var firstSweep: Int64
    }

    /// A span of time, `[start, end)` (written as RFC 3339).
    public struct Window: Sendable, Codable, Equatable {
        public var start: Timestamp
        public var end: Timestamp
    }

    public struct IncidentLink: Sendable, Codable, Equatable {
        public var caseID: String
        /// Relative to the digest's folder.
        public var report: String
        public var incidents: [String]
    }

    /// An incident of the sweep's incident report.
    public struct Incident: Sendable, Codable, Equatable {
        public var caseID: String
        public var id: String
        public var type: String
        public var title: String
        /// Nil when the evidence cannot date the incident's start.
        public var start: Timestamp?
        public var end: Timestamp?
        public var rules: [String]
        public var report: String
    }

    public struct Archive: Sendable, Codable, Equatable {
        public var path: String
        public var sha256: String
        public var size: Int64
        public var kinds: [String]
        public var formats: [String]
        public var rows: Int64
        public var rejected: Int64
        public var first: Timestamp?
        public var last: Timestamp?
    }

    public var schemaVersion = 1
    public var sweep: Int64
    public var date: String
    public var generatedAt: Timestamp
    public var toolVersion: String
    public var configSHA256: String
    public var status: SweepStatus
    public var newArchives: [Archive]
    /// Time span of the new data, and the span the detections read (new data plus look-back).
    public var newData: Window?
    public var scanned: Window?
    /// Look-back per source kind of the rules that use one (aggregates and baselines).
    public var lookback: [String: String]
    public var findings: SweepFindingList
    public var incidents: [Incident]
    public var altered: [AlteredEvidence]
    public var copies: [ArchiveAlias]
    public var unreadable: [String]
    /// Watched folders that do not exist (nothing read from them).
    public var missingFolders: [String]
    /// Inputs found but not recorded: not read through (read again by the next sweep) or skipped
    /// (links out of the watched folders, loops, special files). Nil when there are none.
    public var passedOver: [PassedInput]?
    /// Sigma rules of the configured folder that cannot be used: each skipped, the others ran. Nil
    /// when there are none.
    public var skippedRules: [RuleProblem]? = nil

    public var newCount: Int { findings.indices.filter { !findings.isUpdate(at: $0) }.count }
    public var updatedCount: Int { findings.count - newCount }

    /// `digest.json`: sorted keys, invisible characters from logs escaped.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return FindingsWriter.escapeInvisible(String(decoding: try encoder.encode(self), as: UTF8.self)) + "\n"
    }

    /// Writes ``json()`` to `path`, replaced atomically, without holding it whole: everything but
    /// the findings is encoded in one piece, the findings one by one, each indented to its depth.
    /// A first sweep over a busy week reports a hundred thousand findings; their digest is as
    /// large as its findings.json, and encoding it at once held it four times over.
    public func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var shell = self
        shell.findings = SweepFindingList()
        let text = String(decoding: try encoder.encode(shell), as: UTF8.self)
        // The one top-level "findings" key, at the first level of indentation.
        guard !findings.isEmpty, let key = text.range(of: "\n  \"findings\" : [") else {
            try StreamingFile.write(Data((FindingsWriter.escapeInvisible(text) + "\n").utf8), to: path)
            return
        }
        guard let close = text[key.upperBound...].firstIndex(of: "]") else { throw EncodingError.invalidValue(text, .init(codingPath: [], debugDescription: "no findings array")) }
        let file = try StreamingFile(path: path)
        try file.write(Data(FindingsWriter.escapeInvisible(String(text[..<key.upperBound])).utf8))
        var writer = FindingJSONWriter()
        for index in findings.indices {
            writer.bytes.append(contentsOf: index == 0 ? [0x0A] : [0x2C, 0x0A])
            try writer.write(findings, at: index, depth: 2)
            if writer.bytes.count >= 1 << 20 || index == findings.count - 1 {
                try file.write(Data(FindingsWriter.escapeInvisible(String(decoding: writer.bytes, as: UTF8.self)).utf8))
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
        try file.write(Data(FindingsWriter.escapeInvisible("\n  " + String(text[close...]) + "\n").utf8))
        try file.commit()
    }

    /// `digest.md`: everything that came from a log or a path is escaped.
    public func markdown() -> String {
        let cell = { (text: String) in MarkdownText.cell(text) }
        var out = "# Fathom sweep \(date)\n\n"
        out += "Generated \(generatedAt) by fathom \(cell(toolVersion)) (sweep \(sweep), configuration SHA-256 `\(configSHA256.prefix(16))…`).\n\n"
        out += "**Exit status \(status.rawValue): \(summary).**\n\n"
        if let newData, let scanned {
            let rules = lookback.keys.sorted().map { "\($0) \(lookback[$0] ?? "")" }.joined(separator: ", ")
            out += "New data from \(newData.start) to \(newData.end); detections read \(scanned.start) to \(scanned.end) (look-back: \(rules); rules judging single records read the new data only).\n\n"
        } else {
            out += "No new data: no detection ran.\n\n"
        }
        out += findingSection("New findings", findings.indices.filter { !findings.isUpdate(at: $0) }, header: ["rule", "level", "when", "key", "metrics", "evidence", "incident"]) { finding in
            [cell(finding.hit.rule), cell(finding.hit.level), when(finding.hit), cell(finding.hit.keyText),
             cell(Self.metricsText(finding.hit.metrics)), evidence(finding.hit), link(finding.incident)]
        }
        out += findingSection("Updated findings", findings.indices.filter { findings.isUpdate(at: $0) }, header: ["rule", "when now", "when before", "key", "metrics now", "metrics before", "incident"]) { finding in
            [cell(finding.hit.rule), when(finding.hit),
             finding.previous?.window.map { "\($0.start) – \($0.end)" } ?? "",
             cell(finding.hit.keyText), cell(Self.metricsText(finding.hit.metrics)),
             cell(Self.metricsText(finding.previous?.metrics ?? [:])), link(finding.incident)]
        }
        out += section("Incidents", incidents, header: ["incident", "type", "title", "start", "end", "rules"]) { incident in
            ["[\(incident.caseID) \(incident.id)](\(incident.report))", incident.type, cell(incident.title), incident.start?.rfc3339 ?? "not determinable",
             incident.end?.rfc3339 ?? "ongoing", cell(incident.rules.joined(separator: ", "))]
        }
        out += section("Altered evidence (changed after it was read; not ingested, the original record stays)", altered,
                        header: ["path", "size then", "size now", "SHA-256 recorded", "SHA-256 now"]) { item in
            [cell(item.path), "\(item.originalSize)", "\(item.size)", "`\(item.originalSHA256)`", "`\(item.sha256)`"]
        }
        out += section("Copies of ingested archives (renamed, re-delivered or touched; not read again)", copies,
                       header: ["path", "copy of", "SHA-256"]) { item in
            [cell(item.path), cell(item.originalPath), "`\(item.sha256)`"]
        }
        out += section("New archives", newArchives, header: ["path", "kinds", "formats", "rows", "rejected", "first", "last", "SHA-256"]) { archive in
            [cell(archive.path), cell(archive.kinds.joined(separator: ",")), cell(archive.formats.joined(separator: ",")),
             "\(archive.rows)", "\(archive.rejected)", archive.first?.rfc3339 ?? "", archive.last?.rfc3339 ?? "", "`\(archive.sha256)`"]
        }
        if !unreadable.isEmpty {
            out += "## Unreadable inputs\n\n" + unreadable.map { "- " + cell($0) + "\n" }.joined() + "\n"
        }
        if !missingFolders.isEmpty {
            out += "## Watched folders not found\n\n" + missingFolders.map { "- " + cell($0) + "\n" }.joined() + "\n"
        }
        out += section("Inputs not recorded (not read through: read again by the next sweep; or skipped)",
                       passedOver ?? [], header: ["path", "status", "reason"]) { item in
            [cell(item.path), item.status.rawValue, cell(item.reason)]
        }
        out += section("Sigma rules skipped (the other rules ran; `fathom rules lint` shows the same)",
                       skippedRules ?? [], header: ["file", "line", "rule", "problem"]) { problem in
            [cell(problem.file), "\(problem.line)", cell(problem.rule ?? ""), cell(problem.message)]
        }
        return out
    }

    /// One line: what the status means here.
    public var summary: String {
        var parts: [String] = []
        parts.append("\(newCount) new finding\(newCount == 1 ? "" : "s")")
        parts.append("\(updatedCount) updated")
        if !altered.isEmpty { parts.append("\(altered.count) altered evidence file\(altered.count == 1 ? "" : "s")") }
        if !copies.isEmpty { parts.append("\(copies.count) cop\(copies.count == 1 ? "y" : "ies") of known archives") }
        if !unreadable.isEmpty { parts.append("\(unreadable.count) unreadable input\(unreadable.count == 1 ? "" : "s")") }
        let notRead = (passedOver ?? []).filter { $0.status == .notRead }.count
        if notRead > 0 { parts.append("\(notRead) input\(notRead == 1 ? "" : "s") not read through") }
        if let skipped = skippedRules, !skipped.isEmpty {
            parts.append("\(skipped.count) Sigma rule problem\(skipped.count == 1 ? "" : "s") (rules skipped)")
        }
        parts.append("\(newArchives.count) new archive\(newArchives.count == 1 ? "" : "s")")
        return parts.joined(separator: ", ")
    }

    public static func metricsText(_ metrics: [String: HitValue]) -> String {
        metrics.keys.sorted().map { "\($0)=\(metrics[$0]?.description ?? "")" }.joined(separator: " ")
    }

    private func when(_ hit: Hit) -> String {
        if let time = hit.time { return time.rfc3339 }
        if let window = hit.window { return "\(window.start.rfc3339) – \(window.end.rfc3339)" }
        return ""
    }

    private func evidence(_ hit: Hit) -> String {
        func place(_ archive: String, _ member: String, _ line: Int64) -> String {
            MarkdownText.cell(archive + (member.isEmpty ? "" : " [\(member)]") + ":\(line)")
        }
        if let first = hit.evidence.first, let last = hit.evidence.last {
            return place(first.archive, first.member, first.line) + " … " + place(last.archive, last.member, last.line)
        }
        return place(hit.evidence.archive ?? "", hit.evidence.member ?? "", hit.evidence.line ?? 0)
    }

    private func link(_ incident: IncidentLink?) -> String {
        guard let incident else { return "" }
        return "[\(incident.caseID) \(incident.incidents.joined(separator: ", "))](\(incident.report))"
    }

    /// Past this many findings in a section, the digest lists ``listedPerRule`` of each rule under a
    /// count per rule, and digest.json (and the catalog) hold them all: a first sweep over a busy
    /// week finds a hundred thousand single-prompt hits, which nobody reads as a table.
    package static let listedFindings = 500
    package static let listedPerRule = 50

    /// The section of the findings at `positions` (in their order), condensed past ``listedFindings``.
    private func findingSection(_ title: String, _ positions: [Int], header: [String], row: (Finding) -> [String]) -> String {
        guard positions.count > Self.listedFindings else { return section(title, positions.map { findings[$0] }, header: header, row: row) }
        var byRule: [String: [Int]] = [:]
        for position in positions { byRule[findings.rule(at: position), default: []].append(position) }
        let rules = byRule.keys.sorted()
        let cell = { (text: String) in MarkdownText.cell(text) }
        var out = "## \(title) (\(positions.count))\n\n"
        out += "\(positions.count) findings: the count of each rule, then its first \(Self.listedPerRule) in time order; "
            + "digest.json lists every one.\n\n"
        out += "| rule | level | findings | first | last |\n|---|---|---|---|---|\n"
        for rule in rules {
            let group = byRule[rule] ?? []
            let times = group.map { findings.hit(at: $0).sortTime }
            out += "| \(cell(rule)) | \(cell(group.first.map { findings.hit(at: $0).level } ?? "")) | \(group.count) | "
                + "\(times.min().map { when($0) } ?? "") | \(times.max().map { when($0) } ?? "") |\n"
        }
        out += "\n| " + header.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: "---|", count: header.count) + "\n"
        for rule in rules {
            let group = byRule[rule] ?? []
            for position in group.prefix(Self.listedPerRule) { out += "| " + row(findings[position]).joined(separator: " | ") + " |\n" }
            if group.count > Self.listedPerRule {
                out += "| \(cell(rule)) | … \(group.count - Self.listedPerRule) more in digest.json |"
                    + String(repeating: " |", count: max(0, header.count - 2)) + "\n"
            }
        }
        return out + "\n"
    }

    private func when(_ time: Timestamp) -> String {
        time.nanoseconds == .min ? "" : time.rfc3339
    }

    private func section<T>(_ title: String, _ items: [T], header: [String], row: (T) -> [String]) -> String {
        guard !items.isEmpty else { return "" }
        var out = "## \(title) (\(items.count))\n\n"
        out += "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: "---|", count: header.count) + "\n"
        for item in items { out += "| " + row(item).joined(separator: " | ") + " |\n" }
        return out + "\n"
    }
}
