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
        /// The decisions of the version from the window's start on (segment numbers filled in when
        /// the segments' parts are put together), and the list made of them.
        package var refs: [AffectedDecisionList.Ref] = []
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
        var parts: [DecisionCounts] = try scan.map(.predictions) { table in
            let segment = segmentIndex[table.record.path] ?? 0
            var counts = DecisionCounts()
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
                }
                if isVersion[versionCode], afterStart {
                    counts.refs.append(.init(time: at, segment: segment, row: row, inWindow: inside))
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
                }
            }
            for (name, value) in firstByName {
                counts.first[name] = (value.time, resolver.evidence(table, member: member, line: line, row: value.row))
            }
            for (name, value) in lastByName {
                counts.last[name] = (value.time, resolver.evidence(table, member: member, line: line, row: value.row))
            }
            // The parts are held together until they are joined: without the slack of their growth.
            if counts.refs.capacity > counts.refs.count + counts.refs.count / 8 { counts.refs = Array(counts.refs[...]) }
            return counts
        }
        var total = DecisionCounts()
        total.refs.reserveCapacity(parts.reduce(0) { $0 + $1.refs.count })
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
            total.refs += part.refs
            part.refs = []
            for (version, value) in part.first where total.first[version].map({ value.0 < $0.0 }) ?? true {
                total.first[version] = value
            }
            for (version, value) in part.last where total.last[version].map({ value.0 > $0.0 }) ?? true {
                total.last[version] = value
            }
        }
        var refs: [AffectedDecisionList.Ref] = []
        swap(&refs, &total.refs)
        total.list = try AffectedDecisionList(store: scan.store, records: records, resolver: resolver, refs: &refs)
        return total
    }

    /// Inference requests to `model` in `[start, end)`: all, and those answered with 2xx.
    package func inferenceVolume(model: String, start: Int64, end: Int64) throws -> (all: Int64, succeeded: Int64) {
        let needle = model.lowercased()
        let parts: [(Int64, Int64)] = try scan.map(.inference, from: start, to: end) { table in
            let time = try table.int64("time")
            let paths = try table.dictionary("path")
            let models = try table.dictionary("model")
            let status = try table.int64("status")
            var matches = [Bool](repeating: false, count: paths.entryCount)
            for code in 0..<paths.entryCount { matches[code] = paths.entry(UInt32(code)).string.lowercased().contains(needle) }
            var modelMatches = [Bool](repeating: false, count: models.entryCount)
            for code in 0..<models.entryCount { modelMatches[code] = models.entry(UInt32(code)).string == model }
            var all: Int64 = 0
            var ok: Int64 = 0
            for row in 0..<table.rowCount where time[row] >= start && time[row] < end {
                guard matches[Int(paths.code(at: row))] || modelMatches[Int(models.code(at: row))] else { continue }
                all += 1
                if (200..<300).contains(status[row]) { ok += 1 }
            }
            return (all, ok)
        }
        return parts.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
    }
}
