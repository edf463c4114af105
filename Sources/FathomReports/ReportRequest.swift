import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// What `fathom report` asks for: re-render the documents of a stored case.
public struct ReportRequest: Sendable, Equatable {
    public var caseID: String
    /// The store directory; the analysis is `<store>/cases/<case-id>/analysis.json`.
    public var storeDirectory: String
    /// Documents go to `<outDirectory>/<case-id>/`.
    public var outDirectory: String
    public var options: ReportOptions

    public init(caseID: String, storeDirectory: String = ".fathom", outDirectory: String = "Reports", options: ReportOptions = ReportOptions()) {
        self.caseID = caseID
        self.storeDirectory = storeDirectory
        self.outDirectory = outDirectory
        self.options = options
    }
}

extension ReportWriter {
    /// The folder of a case's stored analysis.
    public static func caseDirectory(store: String, caseID: String) -> String { store + "/cases/" + caseID }

    /// Loads `analysis.json` (and `findings.json` when present) of the case and writes its reports.
    /// Returns the paths written.
    public static func run(_ request: ReportRequest) throws(ReportError) -> [String] {
        guard ReportContext.isValidFolderName(request.caseID) else { throw .invalidCaseID(request.caseID) }
        let result = try loadAnalysis(store: request.storeDirectory, caseID: request.caseID)
        let hitsPath = caseDirectory(store: request.storeDirectory, caseID: request.caseID) + "/findings.json"
        let hits = FileManager.default.contents(atPath: hitsPath)
        let names = try write(result: result, hits: hits, to: request.outDirectory, options: request.options)
        return names.map { request.outDirectory + "/" + result.caseInfo.id + "/" + $0 }
    }

    /// Decodes the stored analysis of a case.
    public static func loadAnalysis(store: String, caseID: String) throws(ReportError) -> AnalysisResult {
        let path = caseDirectory(store: store, caseID: caseID) + "/analysis.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw .missingAnalysis(path: path) }
        let result: AnalysisResult
        do {
            result = try JSONDecoder().decode(AnalysisResult.self, from: data)
        } catch {
            throw .unreadableAnalysis(path: path, detail: "not a valid analysis document (\(Self.decodingDetail(error)))")
        }
        guard result.schemaVersion == AnalysisResult.schemaVersion else {
            throw .unreadableAnalysis(path: path, detail: "schema version \(result.schemaVersion), expected \(AnalysisResult.schemaVersion)")
        }
        guard result.caseInfo.id == caseID else {
            throw .unreadableAnalysis(path: path, detail: "it belongs to case '\(TerminalText.escape(result.caseInfo.id))', expected '\(caseID)'")
        }
        return result
    }

    private static func decodingDetail(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable JSON" }
        switch error {
        case let .keyNotFound(key, context): return "missing '\(key.stringValue)' at \(path(context))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context): return "wrong type at \(path(context))"
        case let .dataCorrupted(context): return "malformed JSON at \(path(context))"
        @unknown default: return "unreadable JSON"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map(\.stringValue).joined(separator: ".")
        return path.isEmpty ? "the top level" : "'" + path + "'"
    }
}
