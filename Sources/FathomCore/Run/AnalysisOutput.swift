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

/// Writes what an analysis produced: `analysis.json` and `findings.json` into the store's case
/// folder (so `fathom report` can re-render without the archives) and into `Reports/<case>/`,
/// with `affected_decisions.csv` for re-review and the report documents.
package enum AnalysisOutput {
    package static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `verifications`: the archives' re-verification, if it was started earlier (statuses it
    /// checked against another hash than an input's, or inputs it lacks, are hashed here).
    package static func write(result: AnalysisResult, hits: HitList, decisions: StagedFile?,
                      store: Store, request: AnalyzeRequest,
                      verifications started: ArchiveVerifications? = nil) throws(AnalysisError) -> [String] {
        let caseID = CaseIdentifier.safe(result.caseInfo.id)
        let stored = store.absolute("cases/" + caseID)
        let reports = request.reportsDirectory + "/" + caseID
        do {
            try FileManager.default.createDirectory(atPath: stored, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        } catch {
            throw .output(path: reports, detail: "\(error)")
        }
        let csvName = result.affectedDecisions?.requestIdsFile
        let csv = csvName != nil ? decisions : nil
        var renamed = result
        renamed.caseInfo.id = caseID
        let documentsResult = renamed
        var regimes: RegimeSet?
        if let path = request.regimesFile {
            do throws(ReportError) { regimes = try RegimeSet.load(path: path) } catch {
                throw .output(path: path, detail: error.description)
            }
        }
        let options = ReportOptions(now: request.now?.rfc3339, isFinal: false, verifyArchives: true, commandLine: nil, regimes: regimes)
        // Four independent pieces of work, side by side, longest first: findings.json (the hits,
        // encoded once for the report and the store), the other report documents (which re-hash the
        // archives to verify them), the decisions CSV (written during the analysis, moved into
        // place here) and analysis.json. A thread with no piece left hashes archives for the
        // documents: a week's archives took one core a third of a second while the other idled.
        let slots = WorkSlots<[String], AnalysisError>(count: 4)
        let verifications = started ?? ArchiveVerifications(options.verifyArchives ? result.inputs.map { ($0.path, $0.sha256, $0.size) } : [])
        DispatchQueue.concurrentPerform(iterations: min(4, max(1, request.jobs))) { _ in
            defer { verifications.help() }
            while let task = slots.claim() {
                do {
                    switch task {
                    case 0:
                        // The report's findings.json and the store's copy of the hits, streamed
                        // together from one encoding (the store's copy two spaces less indented).
                        let storedHits = try StreamingFile(path: stored + "/findings.json")
                        var dedenter = HitsJSON.Dedenter()
                        try ReportWriter.writeFindings(result: documentsResult, found: hits, options: options,
                                                       to: request.reportsDirectory) { piece in
                            try storedHits.write(dedenter.dedent(piece))
                        }
                        try storedHits.write(Data("\n".utf8))
                        try storedHits.commit()
                        slots.store(task, .success(["findings.json"]))
                    case 1:
                        let documents = try ReportWriter.renderDocuments(result: documentsResult, options: options,
                                                                         verifications: verifications)
                        slots.store(task, .success(try ReportWriter.write(documents, caseID: caseID, to: request.reportsDirectory)))
                    case 2:
                        guard let csv, let csvName else { slots.store(task, .success([])); continue }
                        try csv.move(to: reports + "/" + csvName)
                        slots.store(task, .success([reports + "/" + csvName]))
                    default:
                        let encoded = String(decoding: try encoder().encode(result), as: UTF8.self)
                        let analysisJSON = Data((FindingsWriter.escapeInvisible(encoded) + "\n").utf8)
                        try StreamingFile.write(analysisJSON, to: stored + "/analysis.json")
                        try StreamingFile.write(analysisJSON, to: reports + "/analysis.json")
                        slots.store(task, .success([reports + "/analysis.json"]))
                    }
                } catch let error as ReportError {
                    slots.store(task, .failure(.output(path: reports, detail: error.description)))
                } catch {
                    slots.store(task, .failure(.output(path: reports, detail: "\(error)")))
                }
            }
        }
        var written: [String] = []
        var documents: [String] = []
        for order in [3, 2, 0, 1] {
            switch slots.all[order] {
            case let .success(files)?:
                if order < 2 { documents += files } else { written += files }
            case let .failure(error)?: throw error
            case nil: throw .output(path: reports, detail: "not written")
            }
        }
        if !request.exportFormats.isEmpty {
            do {
                written += try ExportWriter.write(result: documentsResult, hits: Array(hits), formats: request.exportFormats,
                                                  to: reports + "/export")
            } catch {
                throw .output(path: reports + "/export", detail: error.description)
            }
        }
        return written + documents.sorted().map { reports + "/" + $0 }
    }
}
