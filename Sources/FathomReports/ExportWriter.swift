import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// What `fathom export` asks for: hand a stored case over in the formats other tools import.
public struct ExportRequest: Sendable, Equatable {
    public var caseID: String
    /// The store directory; the case is `<store>/cases/<case-id>/` (`analysis.json`, `findings.json`).
    public var storeDirectory: String
    /// The folder the files are written to (created when missing).
    public var outDirectory: String
    public var formats: [ExportFormat]

    public init(caseID: String, storeDirectory: String = ".fathom", outDirectory: String,
                formats: [ExportFormat] = ExportFormat.allCases) {
        self.caseID = caseID
        self.storeDirectory = storeDirectory
        self.outDirectory = outDirectory
        self.formats = formats
    }
}

/// Writes a case in the formats responders' other tools read: OCSF for a SIEM or security data
/// lake (``OCSFExport``), a STIX 2.1 bundle for a threat-intelligence platform (``STIXExport``),
/// the timeline for Timesketch (``TimesketchExport``).
///
/// Like the reports, the exports are rendered from the analysis and the hits alone, count
/// nothing, mask secrets (and the case's API key ids) in every string that came from a log, escape
/// invisible and bidirectional characters, and are deterministic: the same case gives the same
/// bytes, whatever the clock says.
public enum ExportWriter {
    /// The files a format writes, in writing order.
    public static func fileNames(_ format: ExportFormat) -> [String] {
        switch format {
        case .ocsf: [OCSFExport.fileName]
        case .stix: [STIXExport.fileName]
        case .timesketch: [TimesketchExport.jsonLinesName, TimesketchExport.csvName]
        }
    }

    /// Renders the files of `formats`: file name → content.
    public static func render(result: AnalysisResult, hits: [Hit], formats: [ExportFormat]) throws(ReportError) -> [String: String] {
        guard ReportContext.isValidFolderName(result.caseInfo.id) else { throw .invalidCaseID(result.caseInfo.id) }
        let context = ExportContext(result: result, hits: hits)
        var files: [String: String] = [:]
        do {
            for format in Set(formats).sorted() {
                switch format {
                case .ocsf: files[OCSFExport.fileName] = try OCSFExport(context).render()
                case .stix: files[STIXExport.fileName] = try STIXExport(context).render()
                case .timesketch:
                    let timeline = TimesketchExport(context)
                    files[TimesketchExport.jsonLinesName] = try timeline.renderJSONLines()
                    files[TimesketchExport.csvName] = timeline.renderCSV()
                }
            }
        } catch {
            throw .io(path: result.caseInfo.id, detail: "the export could not be encoded (\(error))")
        }
        return files
    }

    /// Renders and writes the files into `folder` (created when missing), each replaced
    /// atomically; returns their paths, sorted.
    @discardableResult
    public static func write(result: AnalysisResult, hits: [Hit], formats: [ExportFormat], to folder: String) throws(ReportError) -> [String] {
        let files = try render(result: result, hits: hits, formats: formats)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .io(path: folder, detail: "cannot create the folder")
        }
        var written: [String] = []
        for name in files.keys.sorted() {
            let path = folder + "/" + name
            do { try StreamingFile.write(Data((files[name] ?? "").utf8), to: path) } catch {
                throw .io(path: path, detail: error.description)
            }
            written.append(path)
        }
        return written
    }

    /// Loads the stored case (`analysis.json` and the hits in `findings.json`) and writes its
    /// exports; returns the paths written.
    public static func run(_ request: ExportRequest) throws(ReportError) -> [String] {
        guard ReportContext.isValidFolderName(request.caseID) else { throw .invalidCaseID(request.caseID) }
        let result = try ReportWriter.loadAnalysis(store: request.storeDirectory, caseID: request.caseID)
        let hitsPath = ReportWriter.caseDirectory(store: request.storeDirectory, caseID: request.caseID) + "/findings.json"
        var hits: [Hit] = []
        if let data = FileManager.default.contents(atPath: hitsPath) {
            do { hits = try JSONDecoder().decode([Hit].self, from: data) } catch {
                throw .unreadableAnalysis(path: hitsPath, detail: "the stored hits are not a list of hits")
            }
        }
        return try write(result: result, hits: hits, formats: request.formats, to: request.outDirectory)
    }
}
