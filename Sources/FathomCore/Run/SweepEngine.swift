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

/// What `fathom sweep` was asked to do.
public struct SweepRequest: Sendable {
    public var config: SweepConfig
    public var storeDirectory: String
    /// The sweep's time (RFC 3339): the digest's date and generation time, and the generation time
    /// of incident reports. Nil takes the clock.
    public var now: String?
    /// The exact command line, for incident reports.
    public var commandLine: [String]

    public init(config: SweepConfig, storeDirectory: String, now: String? = nil, commandLine: [String] = []) {
        self.config = config
        self.storeDirectory = storeDirectory
        self.now = now
        self.commandLine = commandLine
    }
}

/// What a sweep produced.
public struct SweepOutcome: Sendable {
    public var digest: SweepDigest
    /// The sweep's folder (`<output>/sweeps/<date>`), and the files written.
    public var folder: String
    public var files: [String]
    /// Wall-clock seconds of each stage (ingest, detect, report, write, commit), for operators;
    /// never written into the digest, which stays deterministic.
    public var stageSeconds: [(stage: String, seconds: Double)]
    /// Rules whose hits came from the Spark job's results (the others ran here), and results
    /// folders whose job ran with another spec (every rule ran here over their rows).
    public var rulesFromSpark: [String] = []
    public var resultsWithOtherSpec: [String] = []
}

/// The nightly sweep: reads only what is new in the watched folders, runs the detections over the
/// new data plus the look-back window, reports what no earlier sweep reported (or what grew), and
/// keeps its state in the catalog.
///
/// One sweep holds the store's writer lock from start to end, so two never overlap (the second
/// fails with ``IngestError/storeBusy(path:)``). Crash safety:
/// - archives are ingested one transaction each (see ``IngestEngine``);
/// - the data a sweep must look at is every complete archive no *completed* sweep covered, so
///   archives ingested by a sweep that was killed are looked at by the next one;
/// - the digest (and incident report) is written before the commit, and the commit — findings,
///   archives covered, altered evidence and copies reported, the sweep's completion — is one
///   transaction. A sweep killed before it changed nothing the next one relies on (the next one
///   redoes the work and writes the same digest folder); one killed after it is complete.
public enum SweepEngine {
    package static let day = Clock.nanosecondsPerDay

    /// Runs one sweep.
    ///
    /// - Parameters:
    ///   - progress: the ingest's progress, for a progress line.
    ///   - resultsProgress: the results folder being loaded (`results:`), for the same line.
    ///   - detectProgress: the hunts' progress, then the incident analysis' phases, for the same line.
    public static func run(_ request: SweepRequest,
                           progress: (@Sendable (IngestProgress) -> Void)? = nil,
                           resultsProgress: ((String) -> Void)? = nil,
                           detectProgress: (@Sendable (ProgressSnapshot) -> Void)? = nil) throws(SweepError) -> SweepOutcome {
        let config = request.config
        let store: Store
        do { store = try Store(directory: request.storeDirectory, forWriting: true) } catch { throw .ingest(IngestError(error)) }
        // The store holds the writer lock: keep it to the end, past its last use.
        defer { withExtendedLifetime(store) {} }
        TestHook.reached("sweep.locked")
        var stages: [(stage: String, seconds: Double)] = []
        var stageStart = Clock.monotonicSeconds()
        func stage(_ name: String) {
            let now = Clock.monotonicSeconds()
            stages.append((name, now - stageStart))
            stageStart = now
            TestHook.reached("sweep." + name)
        }
        let catalog = store.catalog
        let startedAt = Clock.nowNanoseconds()
        let nowNanos = request.now.flatMap { Timestamp(rfc3339: $0)?.nanoseconds } ?? startedAt
        let sweepID: Int64
        do { sweepID = try catalog.beginSweep(startedAt: startedAt, configHash: config.hash) } catch {
            throw .ingest(.catalog(error))
        }

        // 1. Read what is new.
        let discovery = try SweepDiscovery.files(config: config, storeDirectory: request.storeDirectory)
        var passedOver = discovery.passedOver
        // One ingest of every new file, each with its pattern's kind: the cores share the files of
        // all kinds (an ingest per kind of one or two files each left one idle).
        var ingest = IngestRequest(paths: [], storeDirectory: request.storeDirectory, jobs: config.jobs,
                                   recordsAbsolutePaths: true)
        var listed = Set<String>()
        for group in discovery.groups {
            // A file two patterns match is read once, with the kind of the first group (as before).
            for path in group.paths where listed.insert(path).inserted {
                ingest.paths.append(path)
                if let kind = group.kind { ingest.kindsByPath[path] = kind }
            }
        }
        if !ingest.paths.isEmpty {
            do {
                let summary = try IngestEngine.run(ingest, store: store, progress: progress)
                passedOver += summary.files.filter { $0.status == .notRead || $0.status == .skipped }.map(PassedInput.init)
            } catch { throw .ingest(error) }
        }
        // … and the Spark job's results: their rows join the store like new archives.
        let results = try SweepResults.take(config.results, store: store, progress: resultsProgress)
        passedOver += results.passedOver
        stage("ingested")

        // 2. Detect over the new data plus the look-back.
        let newArchives: [ArchiveRecord]
        let stored: SweepState
        do {
            newArchives = try catalog.unsweptArchives()
            stored = SweepState(aliases: try catalog.unreportedAliases(), altered: try catalog.unreportedAlteredEvidence(),
                                usedFolders: try catalog.sweepFolders())
        } catch { throw .ingest(.catalog(error)) }
        let sources = try SweepResults.usable(results.taken, settings: try SweepDetection.settings(config: config))
        let detection = try SweepDetection.run(config: config, store: store, newArchives: newArchives, usable: sources.usable,
                                               progress: detectProgress)
        MemoryRelease.afterPhase()
        stage("detected")

        // 3. Report.
        let folderName = SweepDetection.folderName(date: String(TimeParser.format(nowNanos).prefix(10)),
                                                   used: stored.usedFolders)
        let folder = config.output + "/sweeps/" + folderName
        var digest = SweepDigest(
            sweep: sweepID, date: String(folderName.prefix(10)), generatedAt: Timestamp(nanoseconds: nowNanos),
            toolVersion: FathomVersion.current, configSHA256: config.hash, status: .nothingNew,
            newArchives: newArchives.map(SweepDetection.archive), newData: detection.newData, scanned: detection.scanned,
            lookback: detection.lookbackText, findings: detection.findings, incidents: [],
            altered: stored.altered, copies: stored.aliases,
            unreadable: newArchives.filter(SweepDetection.isUnreadable).map(\.path),
            missingFolders: discovery.missingFolders + results.missing, passedOver: passedOver.isEmpty ? nil : passedOver,
            skippedRules: detection.skippedRules.isEmpty ? nil : detection.skippedRules)
        var files: [String] = []
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw .output(path: folder, detail: "\(error)")
        }
        if let incident = detection.incidentRange {
            let caseID = CaseIdentifier.safe("\(config.casePrefix)-\(folderName)")
            var analyze = AnalyzeRequest(paths: [], storeDirectory: request.storeDirectory, caseID: caseID,
                                         caseFile: config.caseFile, reportsDirectory: folder + "/incidents",
                                         now: Timestamp(nanoseconds: nowNanos), jobs: config.jobs,
                                         commandLine: request.commandLine, settings: detection.settings)
            analyze.timeRange = incident
            analyze.hits = detection.allHits
            analyze.progress = detectProgress
            let outcome: AnalyzeOutcome
            do { outcome = try AnalysisEngine.run(analyze) } catch { throw .analysis(error) }
            files += outcome.files
            SweepDetection.link(&digest, incidents: outcome.result.incidents, caseID: caseID)
            MemoryRelease.afterPhase()
        }
        stage("reported")
        digest.status = SweepStatus.of(findings: digest.findings.count, altered: digest.altered.count,
                                       unreadable: digest.unreadable.count
                                           + (digest.passedOver ?? []).filter { $0.status == .notRead }.count)
        do {
            try SweepDetection.writeAtomically(digest.markdown(), to: folder + "/digest.md")
            try digest.writeJSON(to: folder + "/digest.json")
        } catch { throw .output(path: folder, detail: "\(error)") }
        files += [folder + "/digest.md", folder + "/digest.json"]
        stage("written")

        // 4. Commit.
        do {
            try catalog.commitSweep(SweepCommit(sweepID: sweepID, finishedAt: Clock.nowNanoseconds(), folder: folderName,
                                                exitStatus: digest.status.rawValue, archiveIDs: newArchives.map(\.id),
                                                findings: digest.findings, existingIDs: detection.existingIDs,
                                                alteredReported: digest.altered.count))
        } catch { throw .ingest(.catalog(error)) }
        stage("committed")
        return SweepOutcome(digest: digest, folder: folder, files: files, stageSeconds: stages,
                            rulesFromSpark: detection.rulesFromSpark.sorted(), resultsWithOtherSpec: sources.otherSpec)
    }
}

/// The sweep state read before detections: unreported copies and altered files, used folders.
package struct SweepState {
    package var aliases: [ArchiveAlias]
    package var altered: [AlteredEvidence]
    package var usedFolders: Set<String>
}

/// The files of the watched folders, grouped by the source kind their globs give them.
package enum SweepDiscovery {
    package struct Group {
        package var kind: SourceKind?
        package var paths: [String]
    }

    package static func files(config: SweepConfig, storeDirectory: String) throws(SweepError)
        -> (groups: [Group], missingFolders: [String], passedOver: [PassedInput]) {
        var passedOver: [PassedInput] = []
        var byKind: [String: Group] = [:]
        var order: [String] = []
        var missing: [String] = []
        for watch in config.watches {
            guard let status = FileSystem.status(watch.path), status.isDirectory else {
                missing.append(watch.path)
                continue
            }
            let files: [DiscoveredFile]
            do {
                let discovery = InputDiscovery(excluding: [storeDirectory, config.output],
                                               followsSymlinks: config.followsSymlinks, absolutePaths: true)
                files = try discovery.files(in: [watch.path])
            } catch { throw .ingest(error) }
            let output = config.output + "/"
            for file in files where !file.path.hasPrefix(output) {
                if let outcome = file.outcome {
                    passedOver.append(PassedInput(outcome))
                    continue
                }
                let relative = String(file.path.dropFirst(watch.path.count + 1))
                var kind: SourceKind?
                if !watch.patterns.isEmpty {
                    guard let match = watch.patterns.first(where: { pattern in
                        pattern.globs.contains { InputDiscovery.matches(glob: $0, path: relative) }
                    }) else { continue }
                    kind = match.kind
                }
                let name = kind?.rawValue ?? ""
                if byKind[name] == nil {
                    byKind[name] = Group(kind: kind, paths: [])
                    order.append(name)
                }
                byKind[name]?.paths.append(file.path)
            }
        }
        return (order.sorted().compactMap { byKind[$0] }, missing, passedOver)
    }
}
