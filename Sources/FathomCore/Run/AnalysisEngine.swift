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
            do {
                ingest = try IngestEngine.run(IngestRequest(paths: request.paths, storeDirectory: request.storeDirectory,
                                                            profile: request.profile, jobs: request.jobs,
                                                            excludedDirectories: [request.reportsDirectory],
                                                            followsSymlinks: request.followsSymlinks))
            } catch { throw .ingest(error) }
            MemoryRelease.afterPhase()
        }
        var settings = request.settings
        if let networks = request.caseFile?.internalNetworks, !networks.isEmpty {
            settings.artifactInternalNetworks = networks
        }
        let hits: [Hit]
        if let given = request.hits {
            hits = given
        } else {
            do {
                hits = try Hunt.run(HuntRequest(storeDirectory: request.storeDirectory, from: request.timeRange?.from,
                                                to: request.timeRange?.to, settings: settings, jobs: request.jobs)).hits
            } catch { throw .scan("\(error)") }
            MemoryRelease.afterPhase()
        }
        let store: Store
        do { store = try Store(directory: request.storeDirectory, forWriting: false) } catch { throw .ingest(IngestError(error)) }
        var analysis = Analysis(store: store, request: request, hits: hits, settings: settings)
        var result: AnalysisResult
        do { result = try analysis.run() } catch let error as AnalysisError { throw error } catch {
            throw .scan("\(error)")
        }
        if let passed = ingest?.passedOver, !passed.isEmpty { result.inputsNotRecorded = passed }
        let files = try AnalysisOutput.write(result: result, hits: hits, decisions: analysis.decisions,
                                             store: store, request: request)
        return AnalyzeOutcome(result: result, hits: hits, ingest: ingest, files: files)
    }
}
