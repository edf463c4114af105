import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// What every writer shares: the analysis, the options, the generation time and the archive
/// re-verification, plus the formatting of model values (times, evidence, figures).
package struct ReportContext {
    package let result: AnalysisResult
    package let options: ReportOptions
    /// The generation time as shown (RFC 3339 UTC when it parses).
    package let generatedAt: String
    package let generatedTime: UTCTime?
    /// Archive path → re-verification status.
    package let verification: [String: ArchiveVerification]

    /// `verifications`: the archives' re-verification when other threads share it (nil: the
    /// archives are hashed here, one after another, when the options ask).
    package init(result: AnalysisResult, options: ReportOptions,
                 verifications: ArchiveVerifications? = nil) throws(ReportError) {
        guard Self.isValidFolderName(result.caseInfo.id) else { throw .invalidCaseID(result.caseInfo.id) }
        self.result = result
        self.options = options
        if let now = options.now {
            guard let time = UTCTime(rfc3339: now) else { throw .invalidTime(option: "--now", value: now) }
            generatedTime = time
        } else {
            generatedTime = UTCTime(result.caseInfo.generatedAt)
        }
        generatedAt = generatedTime?.rfc3339 ?? result.caseInfo.generatedAt.rfc3339
        var verification: [String: ArchiveVerification] = [:]
        let shared = options.verifyArchives ? verifications?.results() : nil
        for input in result.inputs {
            guard options.verifyArchives else {
                verification[input.path] = .skipped
                continue
            }
            // A shared status counts only if it was checked against this input's recorded hash.
            if let checked = shared?[input.path], checked.sha256 == input.sha256 {
                verification[input.path] = checked.status
            } else {
                verification[input.path] = ArchiveVerifier.verify(path: input.path, expected: input.sha256)
            }
        }
        self.verification = verification
    }

    package static func isValidFolderName(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 128, !id.hasPrefix(".") else { return false }
        return id.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// The case id, escaped (it is validated, but still case-file text).
    package var caseID: String { MarkdownText.escape(result.caseInfo.id, limit: 128) }

    /// Escaped untrusted text.
    package func md(_ text: String, limit: Int = MarkdownText.defaultLimit) -> String { MarkdownText.escape(text, limit: limit) }

    /// A model time as RFC 3339 UTC; `unknown` for nil.
    package func time(_ time: Timestamp?) -> String { time?.rfc3339 ?? "unknown" }

    /// When a window edge is: `unknown` without an edge, `not determinable` when the analysis
    /// could not date it (e.g. a supply-chain compromise known from inventories).
    package func time(_ edge: WindowEdge?) -> String {
        guard let edge else { return "unknown" }
        return edge.time?.rfc3339 ?? "not determinable"
    }

    /// When a timeline event is; `not determinable` when the evidence does not date it.
    package func time(_ event: TimelineEvent) -> String { event.time?.rfc3339 ?? "not determinable" }

    /// Evidence reference: `archive › member, line N`.
    package func evidence(_ ref: EvidenceRef?) -> String {
        guard let ref else { return "—" }
        var text = md(ref.archive, limit: 160)
        if !ref.member.isEmpty { text += " › " + md(ref.member, limit: 160) }
        return text + ", line " + ReportNumber.grouped(ref.line)
    }

    /// A figure with its provenance, in plain language.
    /// The state of one playbook step, from the evidence: done (with when, by whom and what is
    /// still wrong), under way, or nil (to do).
    package func stepState(node: String, action: String) -> (done: Bool, note: String)? {
        let state = result.response
        switch (node, action.hasPrefix("Roll back") || action.hasPrefix("Schedule the rollback")) {
        case ("mb.rollback-now", true), ("mb.rollback-planned", true):
            guard let done = state?.rollbacks.last(where: \.succeeded) else { return nil }
            var note = "**done** at " + time(done.time) + (done.principal.isEmpty ? "" : " by " + md(done.principal, limit: 120))
                + ", to " + md(done.toVersion, limit: 60)
            if let candidate = state?.candidates.first(where: { $0.version == done.toVersion }), candidate.verdict != "clean" {
                note += "; but " + md(done.toVersion, limit: 60) + " is " + candidate.verdict + " (see response.md, Roll back the model)"
            }
            return (true, note)
        default:
            break
        }
        if node == "mb.rollback-now", action.hasPrefix("List the decisions"), let file = result.affectedDecisions?.requestIdsFile {
            return (true, "**done**: " + md(file, limit: 60))
        }
        if node == "ex.block", action.hasPrefix("Block the attacker"), result.extraction?.ongoing == true {
            return (false, "**urgent**: attacker activity in the last hour of the data")
        }
        return nil
    }

    /// Rows of a source kind in the evidence examined (0 when the kind is absent).
    package func rows(of kind: String) -> Int64 { result.coverage.first { $0.kind == kind }?.rows ?? 0 }

    package func figure(_ figure: Figure, what: String? = nil) -> String {
        let unit = md(figure.unit, limit: 60)
        guard let value = figure.value else {
            return Placeholder.make(what ?? ("number of " + figure.unit.filter { $0.isLetter || $0 == " " }))
        }
        let number = ReportNumber.fixed(value)
        switch figure.source {
        case .computed:
            return number + " " + unit + " (computed from logs)"
        case .caseFile:
            return number + " " + unit + " (from the case file)"
        case .human:
            return number + " " + unit + " (supplied by a person)"
        case .estimated:
            var range = "range not stated"
            if let low = figure.low, let high = figure.high {
                range = "range " + ReportNumber.fixed(low) + "–" + ReportNumber.fixed(high)
            }
            let method = figure.method.map { md($0, limit: 200) } ?? "method not stated"
            return "an estimated " + number + " " + unit + " (" + range + ", method: " + method + ")"
        }
    }

    /// How a figure was obtained, for the provenance column.
    package func provenance(_ figure: Figure) -> String {
        if figure.value == nil { return "to be supplied by a person" }
        switch figure.source {
        case .computed: return "computed from logs"
        case .estimated: return "estimated"
        case .caseFile: return "case file"
        case .human: return "supplied by a person"
        }
    }

    /// A human field's value (escaped) or a visible placeholder.
    package func human(_ key: String, _ what: String) -> String {
        if let value = result.caseInfo.humanFields[key] ?? nil, !value.isEmpty { return md(value, limit: 600) }
        return Placeholder.make(what)
    }

    /// The timeline sorted by time (unparsed times last, then by original order).
    package var sortedTimeline: [TimelineEvent] {
        result.timeline.enumerated().sorted { lhs, rhs in
            let left = lhs.element.time
            let right = rhs.element.time
            switch (left, right) {
            case let (l?, r?): return l != r ? l < r : lhs.offset < rhs.offset
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return lhs.offset < rhs.offset
            }
        }.map(\.element)
    }

    /// The first event of `phase` in time order.
    package func firstEvent(_ phase: String) -> TimelineEvent? { sortedTimeline.first { $0.phase == phase } }

    /// The awareness time, parsed.
    package var awareness: UTCTime? { result.caseInfo.awarenessTime.map(UTCTime.init) }

    /// The deadlines of the regimes that apply or may apply to this case, in the regimes file's
    /// order (``RegulatoryAssessment``); the brief quotes the earliest.
    package var deadlines: [Deadline] { regulatory.deadlines }

    /// The regulatory judgement of this case, by the options' regimes (or the built-in ones).
    package var regulatory: RegulatoryAssessment {
        let materiality = (result.caseInfo.humanFields[HumanField.materialityDetermination] ?? nil)
            .flatMap(UTCTime.init(rfc3339:))?.date
        // The built-in regimes are validated by a test; an unreadable copy cannot reach here.
        let regimes = options.regimes ?? ((try? RegimeSet.builtIn()) ?? RegimeSet(format: "fathom-regimes", version: 1, regimes: []))
        return RegulatoryAssessment(result: result, regimes: regimes, materiality: materiality)
    }

    /// A Markdown table; cells must already be escaped.
    package func table(_ header: [String], _ rows: [[String]]) -> String {
        var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
        for row in rows { lines.append("| " + row.map { $0.isEmpty ? " " : $0 }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    /// A footer naming the tool and generation time.
    package var footer: String {
        "_Generated by Fathom " + md(result.provenance.toolVersion, limit: 40) + " at " + generatedAt
            + " from the stored analysis of case " + caseID + "; all times UTC._\n"
    }

    /// Incident type titles of the case, or `not determined`.
    package var incidentTypes: String {
        let types = result.flowchart.incidentTypes.isEmpty ? result.incidents.map(\.type) : result.flowchart.incidentTypes
        var seen = Set<IncidentType>()
        let unique = types.filter { seen.insert($0).inserted }
        return unique.isEmpty ? "Not determined" : unique.map(\.title).joined(separator: "; ")
    }
}
