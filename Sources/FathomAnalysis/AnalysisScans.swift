import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Resolves a row's provenance to an evidence reference: archive path (from the segment's archive
/// id), tar member and line number.
package struct EvidenceResolver: Sendable {
    package let archivePaths: [Int64: String]

    package init(catalog: Catalog) throws(AnalysisError) {
        do {
            archivePaths = Dictionary(uniqueKeysWithValues: try catalog.archives().map { ($0.id, $0.path) })
        } catch { throw .scan(error.description) }
    }

    package func evidence(_ table: SegmentTable, member: DictionaryColumn, line: Int64Column, row: Int) -> EvidenceRef {
        EvidenceRef(archive: archivePath(table), member: member.string(at: row), line: line[row])
    }

    /// The recorded path of the archive `table` was read from.
    package func archivePath(_ table: SegmentTable) -> String {
        archivePaths[table.reader.archiveID] ?? "archive #\(table.reader.archiveID)"
    }
}

/// A registry row, decoded.
package struct RegistryRow: Sendable {
    package var time: Int64
    package var model: String
    package var version: String
    package var event: String
    package var fromStage: String
    package var toStage: String
    package var principal: String
    package var status: String
    package var environment: String
    package var evidence: EvidenceRef

    package var succeeded: Bool {
        let text = status.lowercased()
        return !(text.contains("fail") || text.contains("error") || text.contains("denied") || text.hasPrefix("4") || text.hasPrefix("5"))
    }

    /// Whether the event puts a version into service in production.
    package var isProductionDeploy: Bool {
        let stage = toStage.lowercased()
        let environment = environment.lowercased()
        let isDeploy = ["create", "patch", "update", "deploy", "rollback", "stage_transition", "transition"].contains(event.lowercased())
            || stage == "production"
        let isProduction = stage == "production" || environment.contains("prod")
            || (environment.isEmpty && stage == "deployed")
        return succeeded && isDeploy && isProduction && stage != "deleted" && stage != "stopped"
    }
}

/// The scans the analysis needs beyond the rules' hits.
package struct AnalysisScans: Sendable {
    package let scan: StoreScan
    package let resolver: EvidenceResolver
    /// References to affected decisions or requests sorted and spilled together
    /// (``AffectedDecisionList/Collector``): smaller in tests, to take the merge of several runs.
    package var listRunLength = AffectedDecisionList.runLength

    package init(scan: StoreScan, resolver: EvidenceResolver) {
        self.scan = scan
        self.resolver = resolver
    }

    /// Every registry row in time order.
    package func registryRows() throws -> [RegistryRow] {
        let resolver = resolver
        let parts: [[RegistryRow]] = try scan.map(.registry) { table in
            let time = try table.int64("time")
            let model = try table.dictionary("model")
            let version = try table.dictionary("version")
            let event = try table.dictionary("event")
            let from = try table.dictionary("from_stage")
            let to = try table.dictionary("to_stage")
            let principal = try table.dictionary("principal")
            let status = try table.dictionary("status")
            let environment = table.has("environment") ? try table.dictionary("environment") : nil
            let member = try table.dictionary("member")
            let line = try table.int64("line")
            var rows: [RegistryRow] = []
            for row in 0..<table.rowCount {
                rows.append(RegistryRow(time: time[row], model: model.string(at: row),
                                        version: VersionOrder.canonical(version.string(at: row)),
                                        event: event.string(at: row), fromStage: from.string(at: row),
                                        toStage: to.string(at: row), principal: principal.string(at: row),
                                        status: status.string(at: row), environment: environment?.string(at: row) ?? "",
                                        evidence: resolver.evidence(table, member: member, line: line, row: row)))
            }
            return rows
        }
        return parts.flatMap { $0 }.sorted { ($0.time, $0.evidence) < ($1.time, $1.evidence) }
    }

    /// Decisions of `model`: per version, the count inside `[start, end)`, by decision, and the
    /// request ids; plus first and last decision of each version.
    package struct DecisionCounts: Sendable {
        package var inWindow: [String: [String: Int64]] = [:]          // version → decision → count
        package var afterWindow: [String: [String: Int64]] = [:]
        /// Before the window's start: the baseline of the versions that served before it.
        package var beforeWindow: [String: [String: Int64]] = [:]
        /// The list of the decisions of the version from the window's start on.
        package var list: AffectedDecisionList?
        package var first: [String: (Int64, EvidenceRef)] = [:]
        package var last: [String: (Int64, EvidenceRef)] = [:]
        package var rows: Int64 = 0
    }

    package func decisions(model: String, version: String, start: Int64?, end: Int64?) throws -> DecisionCounts {
        let resolver = resolver
        // Segments are numbered as the scan lists them, so each part's references carry their
        // segment from the start (no second copy to fill it in).
        let records = try scan.segments(.predictions)
        let segmentIndex = Dictionary(records.enumerated().map { ($0.element.path, UInt32($0.offset)) }, uniquingKeysWith: { first, _ in first })
        // Each segment's references go to the list's external sort as the segment is done.
        let collector = AffectedDecisionList.Collector(store: scan.store, runLength: listRunLength)
        var parts: [DecisionCounts] = try scan.map(.predictions) { table in
            let segment = segmentIndex[table.record.path] ?? 0
            var counts = DecisionCounts()
            var refs: [AffectedDecisionList.Ref] = []
            let time = try table.int64("time")
            let models = try table.dictionary("model")
            let versions = try table.dictionary("version")
            let decisions = try table.dictionary("decision")
            let member = try table.dictionary("member")
            let line = try table.int64("line")
            // Everything that depends only on a dictionary entry is worked out once per entry.
            let modelWanted = (0..<models.entryCount).map { model.isEmpty || models.entry(UInt32($0)).string == model }
            let versionNames = (0..<versions.entryCount).map { VersionOrder.canonical(versions.entry(UInt32($0)).string) }
            let decisionNames = (0..<decisions.entryCount).map { decisions.entry(UInt32($0)).string }
            let isVersion = versionNames.map { $0 == version }
            let width = max(1, decisions.entryCount)
            var inWindow = [Int64](repeating: 0, count: versions.entryCount * width)
            var afterWindow = [Int64](repeating: 0, count: versions.entryCount * width)
            var beforeWindow = [Int64](repeating: 0, count: versions.entryCount * width)
            var first = [(time: Int64, row: Int)?](repeating: nil, count: versions.entryCount)
            var last = [(time: Int64, row: Int)?](repeating: nil, count: versions.entryCount)
            for row in 0..<table.rowCount where modelWanted[Int(models.code(at: row))] {
                counts.rows += 1
                let versionCode = Int(versions.code(at: row))
                let decisionCode = Int(decisions.code(at: row))
                let at = time[row]
                if first[versionCode].map({ at < $0.time }) ?? true { first[versionCode] = (at, row) }
                if last[versionCode].map({ at > $0.time }) ?? true { last[versionCode] = (at, row) }
                let afterStart = start.map { at >= $0 } ?? true
                let inside = afterStart && (end.map { at < $0 } ?? true)
                if inside {
                    inWindow[versionCode * width + decisionCode] += 1
                } else if afterStart {
                    afterWindow[versionCode * width + decisionCode] += 1
                } else {
                    beforeWindow[versionCode * width + decisionCode] += 1
                }
                if isVersion[versionCode], afterStart {
                    refs.append(.init(time: at, segment: segment, row: row, inWindow: inside))
                }
            }
            // Several logged spellings can name one version ("v13", "13"): fold them, keeping the
            // earliest first and latest last, ties to the earlier row.
            var firstByName: [String: (time: Int64, row: Int)] = [:]
            var lastByName: [String: (time: Int64, row: Int)] = [:]
            for code in versionNames.indices {
                let name = versionNames[code]
                if let value = first[code], firstByName[name].map({ (value.time, value.row) < ($0.time, $0.row) }) ?? true {
                    firstByName[name] = value
                }
                if let value = last[code], lastByName[name].map({ value.time > $0.time || (value.time == $0.time && value.row < $0.row) }) ?? true {
                    lastByName[name] = value
                }
                for decision in 0..<decisions.entryCount {
                    if inWindow[code * width + decision] > 0 {
                        counts.inWindow[name, default: [:]][decisionNames[decision], default: 0] += inWindow[code * width + decision]
                    }
                    if afterWindow[code * width + decision] > 0 {
                        counts.afterWindow[name, default: [:]][decisionNames[decision], default: 0] += afterWindow[code * width + decision]
                    }
                    if beforeWindow[code * width + decision] > 0 {
                        counts.beforeWindow[name, default: [:]][decisionNames[decision], default: 0] += beforeWindow[code * width + decision]
                    }
                }
            }
            for (name, value) in firstByName {
                counts.first[name] = (value.time, resolver.evidence(table, member: member, line: line, row: value.row))
            }
            for (name, value) in lastByName {
                counts.last[name] = (value.time, resolver.evidence(table, member: member, line: line, row: value.row))
            }
            collector.add(refs)
            return counts
        }
        var total = DecisionCounts()
        for index in parts.indices {
            var part = DecisionCounts()
            swap(&part, &parts[index])  // so its references are freed once joined
            total.rows += part.rows
            for (version, decisions) in part.inWindow {
                for (decision, count) in decisions { total.inWindow[version, default: [:]][decision, default: 0] += count }
            }
            for (version, decisions) in part.afterWindow {
                for (decision, count) in decisions { total.afterWindow[version, default: [:]][decision, default: 0] += count }
            }
            for (version, decisions) in part.beforeWindow {
                for (decision, count) in decisions { total.beforeWindow[version, default: [:]][decision, default: 0] += count }
            }
            for (version, value) in part.first where total.first[version].map({ value.0 < $0.0 }) ?? true {
                total.first[version] = value
            }
            for (version, value) in part.last where total.last[version].map({ value.0 > $0.0 }) ?? true {
                total.last[version] = value
            }
        }
        total.list = AffectedDecisionList(store: scan.store, records: records, resolver: resolver, collector: collector)
        return total
    }

    /// Every MLOps pipeline row in time order.
    package func pipelineRows() throws -> [PipelineRow] {
        let resolver = resolver
        let parts: [[PipelineRow]] = try scan.map(.pipeline) { table in
            let time = try table.int64("time")
            let principal = try table.dictionary("principal")
            let action = try table.dictionary("action")
            let pipeline = try table.dictionary("pipeline")
            let status = try table.dictionary("status")
            let run = try table.dictionary("run_id")
            let member = try table.dictionary("member")
            let line = try table.int64("line")
            return (0..<table.rowCount).map { row in
                PipelineRow(time: time[row], principal: principal.string(at: row), action: action.string(at: row),
                            pipeline: pipeline.string(at: row), status: status.string(at: row), runID: run.string(at: row),
                            evidence: resolver.evidence(table, member: member, line: line, row: row))
            }
        }
        return parts.flatMap { $0 }.sorted { ($0.time, $0.evidence) < ($1.time, $1.evidence) }
    }

    /// Successful requests (2xx) to a model's inference endpoints: the estimate of the decisions it
    /// made when no decision log exists.
    package struct RequestEstimate: Sendable {
        /// Inside the narrow window (after the rollout completed, before the rollback began).
        package var low: Int64 = 0
        /// Inside the wide window (from the deploy's start to the rollback's completion).
        package var high: Int64 = 0
        /// Hour → (low, high).
        package var hourly: [Int64: (low: Int64, high: Int64)] = [:]
        /// Client address → requests in the wide window.
        package var clients: [String: Int64] = [:]
        package var list: AffectedDecisionList?
    }

    /// Counts the successful requests to `model` (an endpoint that matches `patterns` and names the
    /// model in its path or model field) inside `wide`, and how many of them are inside `narrow`;
    /// with `listing`, keeps a reference to each for `affected_requests.csv`.
    package func requestEstimate(model: String, patterns: [String], wide: Range<Int64>, narrow: Range<Int64>,
                                 listing: Bool) throws -> RequestEstimate {
        let needle = FoldedText.folded(model)
        let folded = patterns.map { FoldedText.folded($0) }
        let records = try scan.segments(.inference)
        let segmentIndex = Dictionary(records.enumerated().map { ($0.element.path, UInt32($0.offset)) }, uniquingKeysWith: { first, _ in first })
        // Each segment's requests per client are added to the totals as the segment is done: held
        // segment by segment until the end, their tables grew with the evidence (32 MB of the
        // analysis' 57 MB peak heap at 8 GB of the high-cardinality benchmark).
        let clients = ClientTotals()
        // With `listing`, each segment's references go to the list's external sort as it is done.
        let collector = listing ? AffectedDecisionList.Collector(store: scan.store, runLength: listRunLength) : nil
        var parts: [RequestEstimate] = try scan.map(.inference, from: wide.lowerBound, to: wide.upperBound) { table in
            let segment = segmentIndex[table.record.path] ?? 0
            let time = try table.int64("time")
            let paths = try table.dictionary("path")
            let models = try table.dictionary("model")
            let ips = try table.dictionary("src_ip")
            let status = try table.int64("status")
            let endpoint = EndpointAggregate.endpointMatches(paths, patterns: folded)
            var pathNamesModel = [Bool](repeating: false, count: paths.entryCount)
            for code in 0..<paths.entryCount {
                pathNamesModel[code] = endpoint[code] && FoldedText.contains(FoldedText.folded(paths.entry(UInt32(code))), needle)
            }
            let modelMatches = (0..<models.entryCount).map { models.entry(UInt32($0)).string == model }
            var part = RequestEstimate()
            var refs: [AffectedDecisionList.Ref] = []
            var perClient = [Int64](repeating: 0, count: ips.entryCount)
            for row in 0..<table.rowCount {
                let at = time[row]
                guard wide.contains(at), (200..<300).contains(status[row]) else { continue }
                let pathCode = Int(paths.code(at: row))
                guard pathNamesModel[pathCode] || (endpoint[pathCode] && modelMatches[Int(models.code(at: row))]) else { continue }
                let inside = narrow.contains(at)
                part.high += 1
                if inside { part.low += 1 }
                let hour = ExtractionAnalysis.floorHour(at, Analysis.hour)
                let counts = part.hourly[hour] ?? (0, 0)
                part.hourly[hour] = (counts.low + (inside ? 1 : 0), counts.high + 1)
                perClient[Int(ips.code(at: row))] += 1
                if listing { refs.append(.init(time: at, segment: segment, row: row, inWindow: inside)) }
            }
            clients.add(perClient.indices.lazy.filter { perClient[$0] > 0 }.map { (ips.entry(UInt32($0)).string, perClient[$0]) })
            collector?.add(refs)
            return part
        }
        var total = RequestEstimate()
        for index in parts.indices {
            var part = RequestEstimate()
            swap(&part, &parts[index])
            total.low += part.low
            total.high += part.high
            for (hour, counts) in part.hourly {
                let sum = total.hourly[hour] ?? (0, 0)
                total.hourly[hour] = (sum.low + counts.low, sum.high + counts.high)
            }
        }
        total.clients = clients.totals
        if let collector {
            total.list = AffectedDecisionList(store: scan.store, records: records, resolver: resolver, collector: collector,
                                              layout: .requests)
        }
        return total
    }
}

/// Requests per client address, summed over segments scanned in parallel.
private final class ClientTotals: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int64] = [:]

    /// Adds one segment's (address, requests) pairs.
    func add(_ pairs: some Sequence<(String, Int64)>) {
        let pairs = Array(pairs)
        lock.lock()
        defer { lock.unlock() }
        for (client, count) in pairs { counts[client, default: 0] += count }
    }

    var totals: [String: Int64] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}
