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

/// The detections of one sweep: which rules run over which span, and which hits are news.
package struct SweepDetection {
    package var settings: RuleSettings
    package var findings = SweepFindingList()
    /// Stored finding ids of updated findings, by identity.
    package var existingIDs: [String: Int64] = [:]
    package var newData: SweepDigest.Window?
    package var scanned: SweepDigest.Window?
    package var lookbackText: [String: String] = [:]
    /// `[from, to)` of the incident analysis, when a new finding opens an incident.
    package var incidentRange: (from: Int64, to: Int64)?
    /// Every hit of the sweep's hunts (news or not), for the incident analysis.
    package var allHits: [Hit] = []
    /// Problems of the Sigma folder's rules: those rules are skipped, the others run.
    package var skippedRules: [RuleProblem] = []
    /// Rules whose hits this sweep took from the Spark job's results instead of computing them.
    package var rulesFromSpark: Set<String> = []

    /// Rules whose new findings open an incident (and so an incident report): extraction, artifact
    /// access, prompt injection, sensitive output, pipeline bursts, and Sigma rules of level high or
    /// critical. Registry changes alone are timeline entries, not incidents.
    package static func opensIncident(rule: String, level: String, isBuiltIn: Bool) -> Bool {
        if isBuiltIn {
            return RuleID.extraction.union(RuleID.singleRecord).union([RuleID.pipelineBurst]).contains(rule)
        }
        return level == "high" || level == "critical"
    }

    /// Built-in rules whose every hit is one log record judged on its own: they read only the new
    /// data (a hit in the look-back is old news either way). `registry.change` is not among them: it
    /// tells a rollback from a deploy by the versions before it.
    package static let eventRules: Set<String> = RuleID.singleRecord

    /// How far before the new data a rule reads, in seconds.
    package static func lookback(of rule: RuleInfo, config: SweepConfig, isBuiltIn: Bool) -> Int64 {
        isBuiltIn && eventRules.contains(rule.id) ? 0 : config.lookback(for: rule.kind)
    }

    /// The results folder whose job hits for `rule` are exactly what the native hunt over
    /// `[from, to]` gives, if any: the folder's job computed the rule with this sweep's spec, over
    /// exactly the rows the folder added, and every row of the rule's kind in the span comes from
    /// those rows (a segment of another archive reaching into the span — the look-back of an
    /// earlier night, another folder of the same sweep — rules it out). The job and the native
    /// rules are equal on the same rows (`.ci/spark-equivalence`), so the hits are the same.
    package static func jobFolder(for rule: RuleInfo, from: Int64, to: Int64, results: [SweepResultsFolder],
                                  store: Store) throws(CatalogError) -> Int? {
        let candidates = results.indices.filter { results[$0].rules.contains(rule.id) && !results[$0].undatedKinds.contains(rule.kind) }
        guard !candidates.isEmpty else { return nil }
        let segments = try store.catalog.segments(kind: rule.kind, from: from, to: to)
        return candidates.first { index in segments.allSatisfy { results[index].archiveIDs.contains($0.archiveID) } }
    }

    /// The rule settings of a sweep: the configured file's, with the case's internal networks.
    package static func settings(config: SweepConfig) throws(SweepError) -> RuleSettings {
        var settings = RuleSettings()
        if let path = config.settingsPath {
            do { settings = try RuleSettings.load(path: path) } catch { throw .detect(error.description) }
        }
        if let networks = config.caseFile?.internalNetworks, !networks.isEmpty {
            settings.artifactInternalNetworks = networks
        }
        return settings
    }

    /// Runs the sweep's detections over the new archives and their look-back. `usable` are the
    /// Spark results folders whose hits may stand in for native rules (see ``jobFolder(for:from:to:results:store:)``).
    package static func run(config: SweepConfig, store: Store, newArchives: [ArchiveRecord],
                            usable: [SweepResultsFolder] = [],
                            progress: (@Sendable (ProgressSnapshot) -> Void)? = nil) throws(SweepError) -> SweepDetection {
        let settings = try settings(config: config)
        var detection = SweepDetection(settings: settings)
        let firsts = newArchives.compactMap(\.firstTime)
        let lasts = newArchives.compactMap(\.lastTime)
        guard let newFirst = firsts.min(), let newLast = lasts.max() else { return detection }
        detection.newData = .init(start: Timestamp(nanoseconds: newFirst), end: Timestamp(nanoseconds: newLast))

        var sigma: [SigmaRule] = []
        if let directory = config.sigmaDirectory {
            let loaded = SigmaLoader.load(directory: directory)
            detection.skippedRules = loaded.problems
            sigma = loaded.rules
        }
        let wanted = Set(config.ruleIDs)
        let rules = (RuleCatalog.builtIn.map(\.info) + sigma.map(\.info)).filter { wanted.isEmpty || wanted.contains($0.id) }
        let known = Set(RuleCatalog.builtIn.map(\.info.id) + sigma.map(\.info.id))
        for id in wanted.sorted() where !known.contains(id) { throw .detect(DetectError.unknownRule(id).description) }
        let builtIn = Set(RuleCatalog.builtIn.map(\.info.id))

        // One hunt per look-back: rules reading a kind with a longer baseline look further back.
        var parts: [[Hit]] = []
        let byLookback = Dictionary(grouping: rules) { lookback(of: $0, config: config, isBuiltIn: builtIn.contains($0.id)) }
        var scanFrom = newFirst
        for (lookback, group) in byLookback.sorted(by: { $0.key < $1.key }) {
            let from = Timestamp.offset(newFirst, by: -lookback * 1_000_000_000)
            scanFrom = min(scanFrom, from)
            var ids = Set(group.map(\.id))
            // Built-in rules the Spark job computed over exactly these rows: its hits.
            for rule in group where builtIn.contains(rule.id) && !usable.isEmpty {
                let folder: Int?
                do { folder = try jobFolder(for: rule, from: from, to: newLast, results: usable, store: store) } catch {
                    throw .ingest(.catalog(error))
                }
                guard let folder else { continue }
                parts.append(usable[folder].hits.filter { $0.rule == rule.id })
                detection.rulesFromSpark.insert(rule.id)
                ids.remove(rule.id)
            }
            if !ids.isEmpty {
                let request = HuntRequest(storeDirectory: store.directory, from: from, to: Timestamp.offset(newLast, by: 1), settings: settings,
                                          ruleIDs: ids.sorted(), includeBuiltIn: true,
                                          sigmaRules: sigma.filter { ids.contains($0.info.id) }, jobs: config.jobs,
                                          progress: progress)
                do { parts.append(Array(try Hunt.run(request).hits)) } catch { throw .detect("\(error)") }
            }
            for rule in group where lookback > 0 || !builtIn.contains(rule.id) {
                detection.lookbackText[rule.kind.rawValue] = RuleSettings.durationText(lookback)
            }
        }
        detection.scanned = .init(start: Timestamp(nanoseconds: scanFrom), end: Timestamp(nanoseconds: Timestamp.offset(newLast, by: 1)))
        detection.allHits = joined(&parts)
        let hits = detection.allHits

        // Only what touches the new data can be news.
        let kept = hits.indices.filter { index in
            let hit = hits[index]
            if let time = hit.time?.nanoseconds { return time >= newFirst && time <= newLast }
            if let window = hit.window {
                return window.start.nanoseconds <= newLast && max(window.end.nanoseconds, Timestamp.offset(window.start.nanoseconds, by: 1)) > newFirst
            }
            return false
        }
        let stored: [StoredFinding]
        // Only stored findings a kept hit can match: one at the time of an event hit, or whose
        // window overlaps a window hit's — all within the span of the kept hits.
        var span = (from: Int64.max, to: Int64.min)
        for hit in kept.lazy.map({ hits[$0] }) {
            let start = hit.time?.nanoseconds ?? hit.window?.start.nanoseconds ?? Int64.min
            let end = hit.time?.nanoseconds ?? hit.window.map { max($0.end.nanoseconds, $0.start.nanoseconds + 1) } ?? Int64.max
            span = (min(span.from, start), max(span.to, end))
        }
        do {
            stored = kept.isEmpty ? [] : try store.catalog.findings(rules: Set(kept.map { hits[$0].rule }), touching: span.from, span.to)
        } catch { throw .ingest(.catalog(error)) }
        var tracker = FindingTracker(stored: stored)
        var opensAnIncident = false
        let levels = Dictionary(rules.map { ($0.id, $0.level) }, uniquingKeysWith: { first, _ in first })
        detection.findings = SweepFindingList(hits: hits)
        for index in kept {
            let hit = hits[index]
            switch tracker.classify(hit) {
            case let .new(identity):
                detection.findings.append(hit: index, isUpdate: false, identity: identity, previous: nil)
                if opensIncident(rule: hit.rule, level: levels[hit.rule] ?? hit.level, isBuiltIn: builtIn.contains(hit.rule)) {
                    opensAnIncident = true
                }
            case let .updated(previous):
                detection.existingIDs[previous.identity] = previous.id
                detection.findings.append(
                    hit: index, isUpdate: true, identity: previous.identity,
                    previous: .init(window: previous.window.map { .init(start: $0.start, end: $0.end) },
                                    metrics: previous.metrics, firstSweep: previous.firstSweep))
            case .unchanged:
                continue
            }
        }
        if opensAnIncident {
            // The incident report reads the new data and the default look-back before it, with
            // the hits the sweep's hunts found (a longer look-back's included).
            detection.incidentRange = (Timestamp.offset(newFirst, by: -config.lookbackSeconds * 1_000_000_000), Timestamp.offset(newLast, by: 1))
        }
        return detection
    }

    /// Links each reported finding to the incidents of the sweep's report that its rule supports.
    package static func link(_ digest: inout SweepDigest, incidents: [Incident], caseID: String) {
        let report = "incidents/\(caseID)/brief.md"
        digest.incidents = incidents.map { incident in
            SweepDigest.Incident(caseID: caseID, id: incident.id, type: incident.type.rawValue, title: incident.title,
                                 start: incident.window.start.time, end: incident.window.end?.time,
                                 rules: incident.ruleHits.keys.sorted(), report: report)
        }
        var links: [String: SweepDigest.IncidentLink] = [:]
        for rule in Set(incidents.flatMap(\.ruleHits.keys)) {
            links[rule] = .init(caseID: caseID, report: report, incidents: incidents.filter { $0.ruleHits[rule] != nil }.map(\.id))
        }
        digest.findings.link(byRule: links)
    }

    /// The hits of the sweep's hunts in one sorted list, each part released once copied (a first
    /// sweep's hunts find a hundred thousand hits: grown by appending, the list was held twice
    /// at its last growth).
    private static func joined(_ parts: inout [[Hit]]) -> [Hit] {
        let taken = parts
        parts = []
        return Hunt.merge(taken)
    }

    /// `date`, or `date.2`, `date.3` … when completed sweeps already wrote that folder.
    package static func folderName(date: String, used: Set<String>) -> String {
        guard used.contains(date) else { return date }
        var number = 2
        while used.contains("\(date).\(number)") { number += 1 }
        return "\(date).\(number)"
    }

    package static func archive(_ record: ArchiveRecord) -> SweepDigest.Archive {
        SweepDigest.Archive(path: record.path, sha256: record.sha256, size: record.size,
                            kinds: record.kinds.split(separator: ",").map(String.init),
                            formats: record.formats.split(separator: ",").map(String.init), rows: record.rows,
                            rejected: record.rejected, first: record.firstTime.map(Timestamp.init(nanoseconds:)),
                            last: record.lastTime.map(Timestamp.init(nanoseconds:)))
    }

    /// Whether nothing of an archive could be decoded (recorded as evidence with the reason).
    package static func isUnreadable(_ record: ArchiveRecord) -> Bool {
        let formats = record.formats.split(separator: ",").map(String.init)
        return record.rows == 0 && record.rejected > 0 && !formats.isEmpty
            && formats.allSatisfy(MemberRecord.unreadableFormats.contains)
    }

    /// Writes `text` to a temporary name beside `path`, then renames it over `path`.
    package static func writeAtomically(_ text: String, to path: String) throws {
        try StreamingFile.write(Data(text.utf8), to: path)
    }
}
