import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// What to hunt for: the store, the time range, the settings and any user rules.
public struct HuntRequest: Sendable {
    public var storeDirectory: String
    /// Inclusive start, nanoseconds since the epoch (UTC).
    public var from: Int64?
    /// Exclusive end.
    public var to: Int64?
    public var settings: RuleSettings
    /// Ids of the rules to run (built-in or Sigma); empty runs them all.
    public var ruleIDs: [String]
    /// Whether to run the built-in rules at all.
    public var includeBuiltIn: Bool
    /// User rules (Sigma), already parsed and checked.
    public var sigmaRules: [SigmaRule]
    public var jobs: Int
    /// Bytes the hunt's grouping rules keep in memory, together, before their partitions spill to
    /// the store's `tmp/` (each of the rules running side by side gets its share).
    public var memoryBudget: Int
    /// Called with the hunt's progress (rows scanned of the rows its rules read, rules done) at
    /// most four times a second, from the threads that scan.
    public var progress: (@Sendable (ProgressSnapshot) -> Void)?

    /// What `memoryBudget` is unless asked otherwise.
    public static let defaultMemoryBudget = 48 << 20

    public init(storeDirectory: String, from: Int64? = nil, to: Int64? = nil, settings: RuleSettings = RuleSettings(),
                ruleIDs: [String] = [], includeBuiltIn: Bool = true, sigmaRules: [SigmaRule] = [],
                jobs: Int = ProcessInfo.processInfo.activeProcessorCount, memoryBudget: Int = defaultMemoryBudget,
                progress: (@Sendable (ProgressSnapshot) -> Void)? = nil) {
        self.storeDirectory = storeDirectory
        self.from = from
        self.to = to
        self.settings = settings
        self.ruleIDs = ruleIDs
        self.includeBuiltIn = includeBuiltIn
        self.sigmaRules = sigmaRules
        self.jobs = jobs
        self.memoryBudget = memoryBudget
        self.progress = progress
    }
}

/// The hits of a hunt, sorted by rule id, then time or window start, then key.
public struct HuntResult: Sendable, Codable {
    /// In a scratch file under the store's `tmp/` when the hunt made them (``HitList``).
    public var hits: HitList
    /// Rows scanned per source kind (each kind counted once however many rules read it).
    public var rowsScanned: [String: Int64]
    /// The rules that ran.
    public var rules: [String]

    public init(hits: HitList, rowsScanned: [String: Int64], rules: [String]) {
        self.hits = hits
        self.rowsScanned = rowsScanned
        self.rules = rules
    }
}

/// The one Core entry point for hunting: runs the built-in playbook rules, the beyond-playbook
/// rules and any Sigma rules over the store.
public enum Hunt {
    /// The rules measured slowest on a week of logs (text normalisation, then the extraction
    /// aggregates), started first; every other rule after them in catalog order.
    package static let slowestFirst = [familyRun, promptRun, "prompt.injection-normalized", "extraction.sliding-window", "extraction.volume",
                               "llm.sensitive-output", "extraction.principal-total", "extraction.network-total",
                               "prompt.injection-phrase"]

    /// The run id of the extraction rules computed together (``ExtractionFamily``).
    package static let familyRun = "extraction.*"
    /// The run id of the prompt rules computed from one scan of the prompts.
    package static let promptRun = "prompt.*"
    /// The run id of the artifact-access rules computed from one scan of the storage rows.
    package static let artifactRun = "artifact.*"

    /// The rules that differ only in the internal networks a caller is compared with, computed
    /// together from one scan of the storage rows when both run.
    package static let artifactRules: [(info: RuleInfo, networks: @Sendable (RuleSettings) -> [String])] = [
        (ArtifactExternalAccess.info, { $0.artifactInternalNetworks }),
        (ArtifactExternalAccess.widerInfo, { $0.internalNetworks }),
    ]

    /// The rules that judge each LLM prompt on its own, computed together from one scan of the
    /// prompt column when two or more run: the prompts are inflated once, not once per rule.
    package static let promptRules: [(id: String, judge: @Sendable (RuleSettings) -> LLMHits.Judge, info: RuleInfo)] = [
        (RuleID.injectionPhrase, InjectionPhrase.judge, InjectionPhrase.info),
        (RuleID.injectionNormalized, InjectionNormalized.judge, InjectionNormalized.info),
        (RuleID.injectionModel, InjectionModelRule.judge, InjectionModelRule.info),
    ]

    package static func startOrder(_ id: String) -> Int { slowestFirst.firstIndex(of: id) ?? slowestFirst.count }

    /// Runs the requested rules.
    ///
    /// - Complexity: one parallel pass per rule over the segments of its source kind that overlap
    ///   the time range; aggregates are kept per group, so memory grows with the number of groups
    ///   (and of distinct inputs per group), not with rows.
    public static func run(_ request: HuntRequest) throws -> HuntResult {
        let store: Store
        do { store = try Store(directory: request.storeDirectory, forWriting: false) } catch {
            throw DetectError.scan(error.description)
        }
        let archives: [Int64: String]
        do {
            archives = Dictionary(try store.catalog.archives().map { ($0.id, $0.path) }, uniquingKeysWith: { first, _ in first })
        } catch {
            throw DetectError.scan(error.description)
        }
        let wanted = Set(request.ruleIDs)
        // The budget is the hunt's, not each rule's: rules run side by side (up to `jobs` at a
        // time), so each grouping rule gets its share and the hunt's memory stays flat.
        let ruleCount = (request.includeBuiltIn ? RuleCatalog.builtIn.filter { wanted.isEmpty || wanted.contains($0.info.id) }.count : 0)
            + request.sigmaRules.filter { wanted.isEmpty || wanted.contains($0.info.id) }.count
        let sideBySide = max(1, min(request.jobs, ruleCount))
        let context = HuntContext(scan: StoreScan(store: store, jobs: request.jobs), from: request.from, to: request.to,
                                  settings: request.settings, archives: archives, memoryBudget: request.memoryBudget / sideBySide,
                                  progress: request.progress.map(HuntProgress.init))
        let known = Set(RuleCatalog.builtIn.map(\.info.id)).union(request.sigmaRules.map(\.info.id))
        for id in wanted where !known.contains(id) { throw DetectError.unknownRule(id) }
        var runs: [(id: String, kind: SourceKind, rules: Int, body: @Sendable (HuntContext) throws -> [Hit])] = []
        var ran: [String] = []
        if request.includeBuiltIn {
            // Two or more extraction rules share one scan of the gateway rows.
            let family = Set(ExtractionFamily.ruleIDs.filter { wanted.isEmpty || wanted.contains($0) })
            let together = family.count > 1
            // Likewise the rules that judge each prompt.
            let prompts = promptRules.filter { wanted.isEmpty || wanted.contains($0.id) }
            let promptsTogether = prompts.count > 1
            let firstPrompt = RuleCatalog.builtIn.first { builtIn in prompts.contains { $0.id == builtIn.info.id } }?.info.id
            // And the artifact-access rules.
            let artifacts = artifactRules.filter { wanted.isEmpty || wanted.contains($0.info.id) }
            let artifactsTogether = artifacts.count > 1
            let firstArtifact = RuleCatalog.builtIn.first { builtIn in artifacts.contains { $0.info.id == builtIn.info.id } }?.info.id
            let settings = request.settings
            for rule in RuleCatalog.builtIn where wanted.isEmpty || wanted.contains(rule.info.id) {
                ran.append(rule.info.id)
                if together, family.contains(rule.info.id) {
                    if rule.info.id == ExtractionFamily.ruleIDs.first(where: family.contains) {
                        runs.append((familyRun, rule.info.kind, family.count, { try ExtractionFamily.run($0, rules: family) }))
                    }
                    continue
                }
                if promptsTogether, prompts.contains(where: { $0.id == rule.info.id }) {
                    if rule.info.id == firstPrompt {
                        runs.append((promptRun, rule.info.kind, prompts.count, { context in
                            try LLMHits.eachText(column: "prompt", context: context,
                                                 judges: prompts.map { (info: $0.info, judge: $0.judge(settings)) })
                        }))
                    }
                    continue
                }
                if artifactsTogether, artifacts.contains(where: { $0.info.id == rule.info.id }) {
                    if rule.info.id == firstArtifact {
                        // Rule id order, as the hunt sorts hits.
                        let ordered = artifacts.sorted { $0.info.id < $1.info.id }
                            .map { (info: $0.info, networks: NetworkSet($0.networks(settings))) }
                        runs.append((artifactRun, rule.info.kind, artifacts.count, { context in
                            try ArtifactExternalAccess.run(context, rules: ordered)
                        }))
                    }
                    continue
                }
                runs.append((rule.info.id, rule.info.kind, 1, { try rule.run($0) }))
            }
        }
        for rule in request.sigmaRules where wanted.isEmpty || wanted.contains(rule.info.id) {
            ran.append(rule.info.id)
            runs.append((rule.info.id, rule.info.kind, 1, { try SigmaEngine.run(rule, context: $0) }))
        }
        // Rules run side by side as well as segment by segment: a rule's merge of its per-segment
        // results is serial, and another rule's scan keeps the other core busy meanwhile. The
        // costliest rules start first, so no core waits alone on a long rule at the end. The
        // result does not depend on the order (hits are sorted, the first error in rule order wins).
        if let progress = context.progress {
            // Each run's share of the work: the rows of its kind in the range.
            var rowsByKind: [SourceKind: Int64] = [:]
            for kind in Set(runs.map(\.kind)) {
                let to = context.to.map { $0 == Int64.min ? $0 : $0 - 1 }
                rowsByKind[kind] = ((try? context.scan.segments(kind, from: context.from, to: to)) ?? []).reduce(0) { $0 + $1.rows }
            }
            progress.plan(runs.map { rowsByKind[$0.kind] ?? 0 },
                          rules: runs.map(\.rules))
        }
        let order = runs.indices.sorted { (Self.startOrder(runs[$0].id), $0) < (Self.startOrder(runs[$1].id), $1) }
        // Each rule's hits go to a scratch file as the rule ends (``HitSpool``): they grow with
        // the evidence, and held as values they were the one part of a hunt's memory without a cap.
        // In the store's `tmp/`, else (a store on read-only media) the system's temporary folder,
        // else in memory.
        let spool = HitSpool(firstOf: [SpillDirectory(store: store),
                                       SpillDirectory(root: FileManager.default.temporaryDirectory.path + "/fathom")])
        let slots = WorkSlots<Void, any Error>(count: runs.count)
        let bodies = runs.map(\.body)
        // The n-th rule started is the n-th of `order`; its result goes to its place in rule order.
        // On the shared threads (``TaskPool``), which also run the rules' segment scans.
        TaskPool.shared.apply(count: runs.count, width: request.jobs) { claimed in
            let index = order[claimed]
            // Each rule's hits are sorted where the rule ran, beside the other rules' scans, not
            // all of them at the end on one core while the other waits.
            do {
                try spool.add(try bodies[index](context.forRun(index, spool: spool)), order: index)
                slots.store(index, .success(()))
            } catch { slots.store(index, .failure(error)) }
            context.progress?.finished(run: index)
            // A rule's working memory (groups, spill buffers, segment caches) is freed when it
            // ends; hand it back, or the next rules' and the hits' peak stacks on it.
            MemoryRelease.afterRule()
        }
        // Rule by rule in rule order: the first error in that order is thrown.
        for part in slots.takeAll() {
            guard let part else { throw ScanError.store(.corrupt(path: "", offset: 0, detail: "rule not run")) }
            try part.get()
        }
        return HuntResult(hits: spool.finish(), rowsScanned: context.rowsScanned(), rules: ran)
    }

    /// Whether `hits` are in ``Hit/precedes(_:_:)`` order. Read by index: a rule's hits mostly come
    /// sorted, and the standard sort (like zipping a run with itself) copies elements as it goes —
    /// for a hit, a retain and a release of each of its strings, arrays and dictionaries.
    package static func isSorted(_ hits: [Hit]) -> Bool {
        var index = 1
        while index < hits.count {
            if Hit.precedes(hits[index], hits[index - 1]) { return false }
            index += 1
        }
        return true
    }

    /// The hits of every run in ``Hit/precedes(_:_:)`` order, as a stable sort of the runs end to
    /// end would give them. A run not in that order yet is sorted first; then the runs go end to
    /// end in the order of their first hits when none overlaps the next (the rule id is the first
    /// sort key and a run's rule ids are its own, so they do not), else — rule ids shared between
    /// runs — in their own order, sorted as a whole. Each run's hits are released once copied, so
    /// the hits are never held twice.
    package static func merge(_ runs: consuming [[Hit]]) -> [Hit] {
        for index in runs.indices where !isSorted(runs[index]) {
            runs[index].sort(by: Hit.precedes)
        }
        let total = runs.reduce(0) { $0 + $1.count }
        let filled = runs.indices.filter { !runs[$0].isEmpty }
            .sorted { Hit.precedes(runs[$0][0], runs[$1][0]) || (!Hit.precedes(runs[$1][0], runs[$0][0]) && $0 < $1) }
        let apart = zip(filled, filled.dropFirst()).allSatisfy { before, after in
            Hit.precedes(runs[before][runs[before].count - 1], runs[after][0])
        }
        var hits: [Hit] = []
        hits.reserveCapacity(total)
        for index in apart ? filled : Array(runs.indices) {
            hits.append(contentsOf: runs[index])
            runs[index] = []
        }
        if !apart { hits.sort(by: Hit.precedes) }
        return hits
    }
}

/// The value numberings of a hunt, one per column, made on first use. The entry numbers they keep
/// for the segments looked up again go to scratch files: in the store's `tmp/`, else (a store on
/// read-only media) the system's temporary folder, else in memory (``ValueNumbering``).
private final class Numberings: @unchecked Sendable {
    private let lock = NSLock()
    private var byColumn: [String: ValueNumbering] = [:]
    private let spills: [SpillDirectory]

    init(store: Store) {
        spills = [SpillDirectory(store: store), SpillDirectory(root: FileManager.default.temporaryDirectory.path + "/fathom")]
    }

    func numbering(_ column: String) -> ValueNumbering {
        lock.lock()
        defer { lock.unlock() }
        if let known = byColumn[column] { return known }
        let made = ValueNumbering(spills: spills)
        byColumn[column] = made
        return made
    }
}

/// What rules see while they run: the scan, the time range, the settings and how to cite evidence.
public final class HuntContext: Sendable {
    public let scan: StoreScan
    public let from: Int64?
    public let to: Int64?
    public let settings: RuleSettings
    package let archives: [Int64: String]
    /// Bytes a grouping rule keeps in memory before it spills (``HuntRequest/memoryBudget``).
    package let memoryBudget: Int
    private let counter: RowCounter
    private let numberings: Numberings
    /// The hunt's progress, when someone watches it.
    package let progress: HuntProgress?
    /// The run (a rule, or rules computed together) this context scans for, in the hunt's order:
    /// its scans count towards that run's share of the progress.
    private let run: Int?
    /// Where the hunt keeps its hits, for a rule that hands them over segment by segment
    /// (``spoolHits(_:part:)``) instead of holding them all until it ends.
    private let spool: HitSpool?

    package convenience init(scan: StoreScan, from: Int64?, to: Int64?, settings: RuleSettings, archives: [Int64: String],
                             memoryBudget: Int = HuntRequest.defaultMemoryBudget, progress: HuntProgress? = nil) {
        self.init(scan: scan, from: from, to: to, settings: settings, archives: archives, memoryBudget: memoryBudget,
                  counter: RowCounter(), numberings: Numberings(store: scan.store), progress: progress, run: nil, spool: nil)
    }

    private init(scan: StoreScan, from: Int64?, to: Int64?, settings: RuleSettings, archives: [Int64: String],
                 memoryBudget: Int, counter: RowCounter, numberings: Numberings, progress: HuntProgress?, run: Int?,
                 spool: HitSpool?) {
        self.scan = scan
        self.from = from
        self.to = to
        self.settings = settings
        self.archives = archives
        self.memoryBudget = memoryBudget
        self.counter = counter
        self.numberings = numberings
        self.progress = progress
        self.run = run
        self.spool = spool
    }

    /// This context for run `index` of the hunt: the same scan, counts and numberings; its hits
    /// may go to `spool` as they are found.
    package func forRun(_ index: Int, spool: HitSpool? = nil) -> HuntContext {
        HuntContext(scan: scan, from: from, to: to, settings: settings, archives: archives, memoryBudget: memoryBudget,
                    counter: counter, numberings: numberings, progress: progress, run: index, spool: spool)
    }

    /// Hands `hits` (a part of this run's hits, `part` placing it among the run's other parts
    /// whose hits compare equal) to the hunt's spool; false, with nothing done, when this context
    /// has none (the rule then returns its hits).
    package func spoolHits(_ hits: [Hit], part: Int) throws -> Bool {
        guard let spool, let run else { return false }
        try spool.add(hits, order: run, part: part)
        return true
    }

    /// Whether a row time is inside `[from, to)`. A null time is inside only when no range was asked for.
    @inline(__always)
    public func includes(_ time: Int64) -> Bool {
        if time == Int64.min { return from == nil && to == nil }
        if let from, time < from { return false }
        if let to, time >= to { return false }
        return true
    }

    /// Whether every row of a segment is inside the range, so rows need no check.
    public func coversAll(_ table: SegmentTable) -> Bool {
        if from == nil && to == nil { return true }
        guard let minTime = table.record.minTime, let maxTime = table.record.maxTime else { return false }
        return includes(minTime) && includes(maxTime) && !table.hasNullTimes
    }

    /// `StoreScan.map` over the segments of `kind` that overlap the range.
    public func map<T: Sendable>(_ kind: SourceKind, _ body: @Sendable (SegmentTable) throws -> T) throws -> [T] {
        try mapIndexed(kind) { table, _ in try body(table) }
    }

    /// ``map(_:_:)`` with each segment's place in segment order given to `body`.
    public func mapIndexed<T: Sendable>(_ kind: SourceKind, _ body: @Sendable (SegmentTable, Int) throws -> T) throws -> [T] {
        let to = self.to.map { $0 == Int64.min ? $0 : $0 - 1 }
        let counter = self.counter
        let progress = self.progress
        let run = self.run
        return try scan.mapIndexed(kind, from: from, to: to) { table, index in
            counter.add(kind, path: table.record.path, rows: Int64(table.rowCount))
            let result = try body(table, index)
            if let run { progress?.scanned(rows: Int64(table.rowCount), run: run) }
            return result
        }
    }

    package func rowsScanned() -> [String: Int64] { counter.totals() }

    /// The store-wide numbering of the values of dictionary column `column` (of any kind that has
    /// it), shared by every rule of this hunt: rules that group by client address or principal
    /// number each segment's entries by their bytes once each, not as a `String` per entry per rule.
    package func numbering(_ column: String) -> ValueNumbering { numberings.numbering(column) }

    /// The evidence reference of one row.
    public func evidence(_ table: SegmentTable, row: Int, withTime: Bool = false) -> EvidenceRef {
        let archive = archives[table.record.archiveID] ?? "archive \(table.record.archiveID)"
        let member = (try? table.dictionary("member").string(at: row)) ?? ""
        let line = (try? table.int64("line")[row]) ?? 0
        var time: Timestamp?
        if withTime, let value = try? table.int64("time")[row], value != Int64.min { time = Timestamp(nanoseconds: value) }
        return EvidenceRef(archive: archive, member: member, line: line == Int64.min ? 0 : line, time: time)
    }

    /// The canonical fields of one row (provenance columns left out; nulls as JSON null; hashes as
    /// 32 hex digits; times as RFC 3339). An audit row's whole `record` is left out too: the hit
    /// cites it by its evidence (archive, member, line), and a hunt with many hits holds no copies
    /// of kilobyte records.
    public func fields(_ table: SegmentTable, row: Int) -> HitFields {
        HitRows(table, context: self, evidence: false).fields(row)
    }
}

/// What the hits of one segment take from their rows — fields and evidence — with the segment's
/// columns looked up by name and opened once, not once per hit (a phrase rule has hundreds of hits
/// a segment, each of eight fields and an evidence reference).
package struct HitRows {
    private let names: [String]
    private let columns: [Column]
    private let archive: String
    private let members: DictionaryColumn?
    private let lines: Int64Column?
    private let times: Int64Column?

    /// A hit column, opened (`missing` when it could not be: its value is null, as
    /// ``HuntContext/fields(_:row:)`` has always given it).
    private enum Column {
        case int64(Int64Column, isTime: Bool)
        case float64(Float64Column)
        case dictionary(DictionaryColumn)
        case text(TextColumn)
        case hash128(Hash128Column)
        case missing
    }

    /// - Parameters:
    ///   - fields: whether ``fields(_:)`` will be asked for (the hit columns are opened only then).
    ///   - evidence: whether ``evidence(_:withTime:)`` will be asked for (its columns are opened
    ///     only then).
    package init(_ table: SegmentTable, context: HuntContext, fields: Bool = true, evidence: Bool = true) {
        var names = fields ? table.kind.schema.hitColumnNames : []
        var columns: [Column] = []
        for column in fields ? table.kind.schema.hitColumns : [] {
            guard table.has(column.name) else {
                names.removeAll { $0 == column.name }
                continue
            }
            let opened: Column?
            switch column.type {
            case .int64: opened = (try? table.int64(column.name)).map { .int64($0, isTime: column.name == "time") }
            case .float64: opened = (try? table.float64(column.name)).map { .float64($0) }
            case .dictionary: opened = (try? table.dictionary(column.name)).map { .dictionary($0) }
            case .text: opened = (try? table.text(column.name)).map { .text($0) }
            case .hash128: opened = (try? table.hash128(column.name)).map { .hash128($0) }
            }
            columns.append(opened ?? .missing)
        }
        precondition(zip(names, names.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) },
                     "a kind's hit columns are in byte order")
        self.names = names
        self.columns = columns
        archive = context.archives[table.record.archiveID] ?? "archive \(table.record.archiveID)"
        members = evidence ? try? table.dictionary("member") : nil
        lines = evidence ? try? table.int64("line") : nil
        times = evidence ? try? table.int64("time") : nil
    }

    /// ``HuntContext/fields(_:row:)`` of `row`.
    package func fields(_ row: Int) -> HitFields {
        // Packed into a buffer of the exact size: tens of thousands of hits are held until they
        // are written, and a buffer grown past a guess holds up to twice its bytes.
        var size = 0
        for column in columns {
            switch column {
            // A time's text is at most 32 bytes (a year of up to six digits and a sign, nine of fraction).
            case let .int64(_, isTime): size += isTime ? 9 + 32 : 9
            case .float64: size += 9
            case let .dictionary(entries): size += 9 + entries[row].count
            case let .text(texts): size += 9 + texts[row].count
            case .hash128: size += 9 + 32
            case .missing: size += 1
            }
        }
        var packer = HitFields.Packer(capacity: size)
        for column in columns {
            switch column {
            case let .int64(numbers, isTime):
                let number = numbers[row]
                if number == Int64.min {
                    packer.null()
                } else if isTime {
                    packer.string(TimeParser.format(number))
                } else {
                    packer.int(number)
                }
            case let .float64(numbers):
                let number = numbers[row]
                if number.isNaN { packer.null() } else { packer.double(number) }
            case let .dictionary(entries):
                let bytes = entries[row]
                if bytes.count == 0 { packer.null() } else { packer.text(bytes) }
            case let .text(texts):
                let bytes = texts[row]
                if bytes.count == 0 { packer.null() } else { packer.text(bytes) }
            case let .hash128(hashes):
                let hash = hashes[row]
                if hash.isNull { packer.null() } else { packer.string(hash.description) }
            case .missing:
                packer.null()
            }
        }
        return HitFields(sortedNames: names, packer: packer)
    }

    /// ``HuntContext/evidence(_:row:withTime:)`` of `row`.
    package func evidence(_ row: Int, withTime: Bool = false) -> EvidenceRef {
        let member = members?.string(at: row) ?? ""
        let line = lines?[row] ?? 0
        var time: Timestamp?
        if withTime, let value = times?[row], value != Int64.min { time = Timestamp(nanoseconds: value) }
        return EvidenceRef(archive: archive, member: member, line: line == Int64.min ? 0 : line, time: time)
    }
}

extension SegmentTable {
    /// Whether any row lacks a time (the catalog's min/max say nothing about those).
    package var hasNullTimes: Bool {
        guard let times = try? int64("time") else { return true }
        return times.withSpan { span in
            for index in span.indices where span[index] == Int64.min { return true }
            return false
        }
    }
}

package final class RowCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [SourceKind: Int64] = [:]
    private var seen: Set<String> = []

    package func add(_ kind: SourceKind, path: String, rows: Int64) {
        lock.lock()
        if seen.insert(path).inserted { counts[kind, default: 0] += rows }
        lock.unlock()
    }

    package func totals() -> [String: Int64] {
        lock.lock()
        defer { lock.unlock() }
        return Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
    }
}

/// A hunt's running totals for its progress line.
///
/// Each run (a rule, or rules computed together) has a share of the work: the rows of its kind in
/// the range. Its rows scanned count towards its share until the share is full (a rule that reads
/// its rows twice fills it in its first pass), and an ended run has its full share: so the line
/// never goes back or past its total, and its ETA is the time so far scaled by the shares left.
package final class HuntProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let report: @Sendable (ProgressSnapshot) -> Void
    private let started = Clock.monotonicSeconds()
    private var lastReport = 0.0
    private var shares: [Int64] = []
    private var scanned: [Int64] = []
    private var ended: [Bool] = []
    private var rules: [Int] = []
    private var rows: Int64 = 0

    package init(_ report: @escaping @Sendable (ProgressSnapshot) -> Void) {
        self.report = report
    }

    /// Each run's share of the work and number of rules, in the hunt's run order.
    package func plan(_ shares: [Int64], rules: [Int]) {
        lock.lock()
        self.shares = shares
        self.rules = rules
        scanned = [Int64](repeating: 0, count: shares.count)
        ended = [Bool](repeating: false, count: shares.count)
        lock.unlock()
    }

    /// A segment's rows scanned by run `run`.
    package func scanned(rows: Int64, run: Int) {
        update { progress in
            progress.rows += rows
            if progress.scanned.indices.contains(run) { progress.scanned[run] += rows }
        }
    }

    package func finished(run: Int) {
        update(always: true) { progress in
            if progress.ended.indices.contains(run) { progress.ended[run] = true }
        }
    }

    /// The progress now.
    package var snapshot: ProgressSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return snapshotLocked(now: Clock.monotonicSeconds())
    }

    private func update(always: Bool = false, _ change: (HuntProgress) -> Void) {
        lock.lock()
        change(self)
        let now = Clock.monotonicSeconds()
        var snapshot: ProgressSnapshot?
        if always || now - lastReport >= 0.25 {
            lastReport = now
            snapshot = snapshotLocked(now: now)
        }
        lock.unlock()
        if let snapshot { report(snapshot) }
    }

    private func snapshotLocked(now: Double) -> ProgressSnapshot {
        var done: Int64 = 0
        for run in shares.indices { done += ended[run] ? shares[run] : min(scanned[run], shares[run]) }
        let total = shares.reduce(0, +)
        return ProgressSnapshot(phase: "hunt", unit: .rows, done: done, total: total, rows: rows, seconds: now - started,
                                notes: ["\(zip(rules, ended).reduce(0) { $0 + ($1.1 ? $1.0 : 0) })/\(rules.reduce(0, +)) rules"])
    }
}
