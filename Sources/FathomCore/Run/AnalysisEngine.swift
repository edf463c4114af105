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

/// `fathom analyze`: ingest what is new, hunt, and answer the playbook's questions — incident
/// types, impact windows, extracted-query volume, affected decisions, data exposure — with the
/// evidence behind every figure.
public enum AnalysisEngine {

    public static func run(_ request: AnalyzeRequest) throws(AnalysisError) -> AnalyzeOutcome {
        var ingest: IngestSummary?
        if !request.paths.isEmpty {
            let watcher = request.progress
            let ingestProgress: (@Sendable (IngestProgress) -> Void)? = watcher.map { report in
                { @Sendable (progress: IngestProgress) in report(progress.snapshot) }
            }
            do throws(IngestError) {
                ingest = try IngestEngine.run(IngestRequest(paths: request.paths, storeDirectory: request.storeDirectory,
                                                            profile: request.profile, jobs: request.jobs,
                                                            excludedDirectories: [request.reportsDirectory],
                                                            followsSymlinks: request.followsSymlinks),
                                             progress: ingestProgress)
            } catch { throw .ingest(error) }
            MemoryRelease.afterPhase()
        }
        // The report re-hashes every archive it lists. Started now, on an idle-class thread, the
        // hashing fills the cores the hunt and the analysis leave idle; the report finishes it.
        let verifications = Self.startVerifying(request)
        var settings = request.settings
        if let networks = request.caseFile?.internalNetworks, !networks.isEmpty {
            settings.artifactInternalNetworks = networks
        }
        let hits: HitList
        if let given = request.hits {
            hits = HitList(given)
        } else {
            do {
                hits = try Hunt.run(HuntRequest(storeDirectory: request.storeDirectory, from: request.timeRange?.from,
                                                to: request.timeRange?.to, settings: settings, jobs: request.jobs,
                                                progress: request.progress)).hits
            } catch { throw .scan("\(error)") }
            MemoryRelease.afterPhase()
        }
        let store: Store
        do { store = try Store(directory: request.storeDirectory, forWriting: false) } catch { throw .ingest(IngestError(error)) }
        request.progress?(.phase("analysis", notes: ["\(ReportNumber.grouped(Int64(hits.count))) hits"]))
        var analysis = Analysis(store: store, request: request, hits: hits, settings: settings)
        var result: AnalysisResult
        do { result = try analysis.run() } catch let error as AnalysisError { throw error } catch {
            throw .scan("\(error)")
        }
        if let passed = ingest?.passedOver, !passed.isEmpty { result.inputsNotRecorded = passed }
        request.progress?(.phase("reports", notes: ["writing " + TerminalText.escape(request.reportsDirectory)]))
        let files = try AnalysisOutput.write(result: result, hits: hits, decisions: analysis.decisions,
                                             store: store, request: request, verifications: verifications)
        return AnalyzeOutcome(result: result, hits: hits, ingest: ingest, files: files)
    }

    /// The re-verification of the archives the analysis will list (those of the request's time
    /// range), started in the background; nil when the catalog cannot be read now (the report then
    /// hashes them itself).
    private static func startVerifying(_ request: AnalyzeRequest) -> ArchiveVerifications? {
        guard let store = try? Store(directory: request.storeDirectory, forWriting: false),
              let archives = try? InputSummary.archives(catalog: store.catalog, in: request.timeRange) else { return nil }
        let verifications = ArchiveVerifications(archives.map { ($0.path, $0.sha256, $0.size) })
        verifications.startInBackground()
        return verifications
    }
}
