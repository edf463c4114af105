import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// Options of a report run.
public struct ReportOptions: Sendable, Equatable {
    /// The generation time written into the reports (RFC 3339); nil = `CaseInfo.generatedAt`.
    public var now: String?
    /// Refuse (``ReportError/notFinal(missing:)``) while any human-supplied field is missing.
    public var isFinal: Bool
    /// Re-hash every input archive still at its path and compare with the recorded SHA-256.
    public var verifyArchives: Bool
    /// The `fathom report …` command line, for the evidence manifest; nil leaves it out.
    public var commandLine: [String]?
    /// The regimes the regulatory judgement reads (`--regimes FILE`); nil: the built-in ones.
    public var regimes: RegimeSet?

    public init(now: String? = nil, isFinal: Bool = false, verifyArchives: Bool = true, commandLine: [String]? = nil,
                regimes: RegimeSet? = nil) {
        self.regimes = regimes
        self.now = now
        self.isFinal = isFinal
        self.verifyArchives = verifyArchives
        self.commandLine = commandLine
    }

    /// The same options without the archive re-verification (for documents that do not show it).
    package var withoutVerification: ReportOptions {
        var options = self
        options.verifyArchives = false
        return options
    }
}

/// Errors of the report layer.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The case id cannot be used as a folder name.
    case invalidCaseID(String)
    /// A time option is not RFC 3339.
    case invalidTime(option: String, value: String)
    /// The case has no stored analysis.
    case missingAnalysis(path: String)
    /// The stored analysis cannot be decoded or has another schema version.
    case unreadableAnalysis(path: String, detail: String)
    /// `--final` was asked while human-supplied facts are missing.
    case notFinal(missing: [String])
    /// Writing a report failed.
    case io(path: String, detail: String)
    /// A regimes file (`--regimes`) cannot be read or is not valid.
    case regimes(path: String, detail: String)

    public var description: String {
        switch self {
        case let .invalidCaseID(id):
            "Case id '\(TerminalText.escape(id))' cannot name a report folder; expected letters, digits, '.', '_' or '-', not starting with '.'."
        case let .invalidTime(option, value):
            "\(option) '\(TerminalText.escape(value))' is not an RFC 3339 time; expected e.g. 2026-03-04T12:00:00Z."
        case let .missingAnalysis(path):
            "No analysis at '\(path)'; run 'fathom analyze' for this case first."
        case let .unreadableAnalysis(path, detail):
            "Cannot read the analysis '\(path)': \(detail)."
        case let .notFinal(missing):
            "The report cannot be final: \(missing.count) item(s) must be completed by a person:\n"
                + missing.map { "  - " + TerminalText.escape($0) }.joined(separator: "\n")
        case let .io(path, detail):
            "Cannot write '\(path)': \(detail)."
        case let .regimes(path, detail):
            "Regimes file '\(path)': \(detail)."
        }
    }
}

/// Renders the report documents of one case from its ``AnalysisResult``.
///
/// Writers read only the analysis result (and the findings JSON); they count nothing and do no
/// time arithmetic on evidence, except presentation arithmetic on two timestamps of the model and
/// the regulatory deadlines computed from the awareness time.
public enum ReportWriter {
    /// The documents, in writing order.
    public static let documentNames = ["brief.md", "timeline.md", "regulator.md", "evidence.md", "response.md", "findings.json"]

    /// Renders every document: file name → content.
    public static func render(result: AnalysisResult, hits: Data?, options: ReportOptions) throws(ReportError) -> [String: String] {
        try render(result: result, hits: hits, found: nil, options: options)
    }

    /// Renders every document, with the hits this run `found` (when given) instead of stored ones.
    package static func render(result: AnalysisResult, hits: Data?, found: [Hit]?, options: ReportOptions) throws(ReportError) -> [String: String] {
        var documents = try renderDocuments(result: result, options: options)
        let context = try ReportContext(result: result, options: options.withoutVerification)
        documents["findings.json"] = FindingsWriter(context).render(hits: hits, found: found)
        return documents
    }

    /// Renders every document but `findings.json` (which depends on none of them): the Markdown
    /// documents, with the archives re-verified when the options ask (shared with other threads
    /// through `verifications`, when given), and the timeline chart.
    package static func renderDocuments(result: AnalysisResult, options: ReportOptions,
                                        verifications: ArchiveVerifications? = nil) throws(ReportError) -> [String: String] {
        let context = try ReportContext(result: result, options: options, verifications: verifications)
        var documents: [String: String] = [:]
        documents["brief.md"] = BriefWriter(context).render()
        documents["timeline.md"] = TimelineWriter(context).render()
        if let chart = TimelineWriter(context).chart() { documents["timeline-volume.svg"] = chart }
        documents["evidence.md"] = EvidenceWriter(context).render()
        documents["response.md"] = ResponseWriter(context).render()
        documents["regulator.md"] = RegulatorWriter(context, missing: []).render()
        let missing = missingItems(result: result, documents: documents, regulatory: context.regulatory)
        if options.isFinal, !missing.isEmpty { throw .notFinal(missing: missing) }
        documents["regulator.md"] = RegulatorWriter(context, missing: missing).render()
        return documents
    }

    /// Writes `findings.json` with this run's hits into `folder/<case-id>/`, streamed and replaced
    /// atomically; `hitsPieces` gets each piece of the hits' encoding at depth 1 as it is made (the
    /// store keeps a copy of the hits without re-encoding them).
    package static func writeFindings(result: AnalysisResult, found: HitList, options: ReportOptions, to folder: String,
                              hitsPieces: (Data) throws -> Void) throws {
        let context = try ReportContext(result: result, options: options.withoutVerification)
        let directory = folder + "/" + result.caseInfo.id
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError.io(path: directory, detail: "cannot create the folder")
        }
        let file = try StreamingFile(path: directory + "/findings.json")
        try FindingsWriter(context).stream(found: found, to: { try file.write($0) }, hitsPieces: hitsPieces)
        TestHook.reached("report.findings-written")
        try file.commit()
    }

    /// Renders and writes every document into `folder/<case-id>/`; returns the file names written.
    @discardableResult
    public static func write(result: AnalysisResult, hits: Data?, found: [Hit]? = nil, to folder: String,
                             options: ReportOptions) throws(ReportError) -> [String] {
        try write(try render(result: result, hits: hits, found: found, options: options), caseID: result.caseInfo.id, to: folder)
    }

    /// Writes rendered documents into `folder/<case-id>/`, each replaced atomically; returns their
    /// names, sorted.
    package static func write(_ documents: [String: String], caseID: String, to folder: String) throws(ReportError) -> [String] {
        let names = documents.keys.sorted()
        for name in names {
            try write(Data((documents[name] ?? "").utf8), named: name, caseID: caseID, to: folder)
        }
        return names
    }

    /// Writes one document's bytes into `folder/<case-id>/name`, replaced atomically.
    package static func write(_ bytes: Data, named name: String, caseID: String, to folder: String) throws(ReportError) {
        let directory = folder + "/" + caseID
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, detail: "cannot create the folder")
        }
        do { try StreamingFile.write(bytes, to: directory + "/" + name) } catch {
            throw .io(path: directory + "/" + name, detail: error.description)
        }
    }

    /// What a person must still supply before the report can be final, sorted: the awareness
    /// time, human fields without a value, and every visible placeholder left in a document.
    public static func missingItems(result: AnalysisResult, documents: [String: String]) -> [String] {
        missingItems(result: result, documents: documents, regulatory: nil)
    }

    /// The same, leaving out the SEC materiality date when the regulatory judgement finds that
    /// Form 8-K does not apply (not an SEC registrant, by the case file).
    package static func missingItems(result: AnalysisResult, documents: [String: String], regulatory: RegulatoryAssessment?) -> [String] {
        var items: [String] = []
        var covered = Set<String>()
        let notNeeded: Set<String> = regulatory?.judgements.contains { $0.regime.test == "sec-registrant" } == true
            && regulatory?.judgements.filter({ $0.regime.test == "sec-registrant" }).allSatisfy({ $0.status == .doesNotApply }) == true
            ? [HumanField.materialityDetermination] : []
        if result.caseInfo.awarenessTime == nil {
            items.append("awareness time (case file 'awareness_time'): when the organisation became aware")
            covered.insert(Placeholder.make("awareness time"))
        }
        for key in result.caseInfo.humanFields.keys.sorted() where (result.caseInfo.humanFields[key] ?? nil) == nil && !notNeeded.contains(key) {
            items.append("human field '\(key)'")
            covered.insert(Placeholder.make(Placeholder.fieldName(key)))
        }
        var placeholders: [String: [String]] = [:]
        for name in documents.keys.sorted() where name.hasSuffix(".md") {
            for placeholder in Placeholder.find(in: documents[name] ?? "")
            where !covered.contains(placeholder) && !(placeholders[placeholder]?.contains(name) ?? false) {
                placeholders[placeholder, default: []].append(name)
            }
        }
        for placeholder in placeholders.keys.sorted() {
            items.append("placeholder \(placeholder) in \((placeholders[placeholder] ?? []).joined(separator: ", "))")
        }
        return items
    }
}

/// Visible placeholders for facts only a person can supply.
public enum Placeholder {
    package static let prefix = "[TO BE COMPLETED: "

    /// `[TO BE COMPLETED: what]`; `what` is Fathom's own wording, never log text.
    public static func make(_ what: String) -> String { prefix + what + "]" }

    /// A human field key reduced to letters, digits, `_` and spaces, for its placeholder.
    public static func fieldName(_ key: String) -> String {
        String(key.filter { ($0.isLetter || $0.isNumber || $0 == "_" || $0 == " ") && !$0.unicodeScalars.contains(where: MarkdownText.isUnsafe) }.prefix(60))
    }

    /// Every placeholder in `text` outside fenced code blocks, in order of appearance. Escaped log
    /// text cannot contain one, because its `[` is always backslash-escaped; log text inside a
    /// fenced code block (a suggested command) is not a placeholder.
    public static func find(in text: String) -> [String] {
        var found: [String] = []
        var fence = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let run = line.prefix { $0 == "`" }.count
            if fence > 0 {
                if run >= fence, line.allSatisfy({ $0 == "`" || $0 == " " }) { fence = 0 }
                continue
            }
            if run >= 3 {
                fence = run
                continue
            }
            found += find(inLine: line)
        }
        return found
    }

    private static func find(inLine line: Substring) -> [String] {
        var found: [String] = []
        var rest = line
        while let start = rest.range(of: prefix) {
            if start.lowerBound > rest.startIndex, rest[rest.index(before: start.lowerBound)] == "\\" {
                rest = rest[start.upperBound...]
                continue
            }
            guard let end = rest[start.upperBound...].firstIndex(of: "]") else { break }
            found.append(String(rest[start.lowerBound...end]))
            rest = rest[rest.index(after: end)...]
        }
        return found
    }
}
