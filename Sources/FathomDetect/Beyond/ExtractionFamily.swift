import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// The extraction rules run together, from one scan of the gateway rows instead of one per rule.
///
/// The scan groups the endpoint rows twice as ``EndpointAggregate/run(_:keyColumn:bucketSeconds:distinct:distinctOver:keep:folding:)``
/// would: by (client address, extraction bucket) — `extraction.volume`'s groups — and by
/// (principal, day) — `extraction.budget`'s — each value's rows without a time kept apart in a
/// group of their own. Everything else is rolled up from those groups, without reading the rows
/// again:
/// - `extraction.principal-total`: a principal's groups absorbed into one (rows without a time
///   included, as the unbucketed rule counts them);
/// - `extraction.network-total`: the address totals absorbed into the network of each address;
/// - `extraction.sliding-window`: per address and per principal, the rows with a time and the most
///   rows in one bucket, which decide whose rows it counts per slot: a window of an hour holds no
///   more rows than two of an address's hours, or two of a principal's days
///   (``ExtractionBeyond/slidingCandidates(_:column:rows:peaks:)``).
///
/// Only the distinct inputs of the groups over a threshold's floor are counted, in one more pass
/// per rule that needs them, as the rules alone do. The hits are exactly those of the rules run one
/// by one (a group absorbed in any order keeps its earliest and latest row, ties broken in catalog
/// order): `ExtractionFamilyTests` compares them.
package enum ExtractionFamily {
    /// The rules computed together, in catalog order.
    package static let ruleIDs = [RuleID.extractionVolume, RuleID.slidingWindow, RuleID.principalTotal,
                                  RuleID.networkTotal, RuleID.budget]

    typealias Group = EndpointAggregate.Group
    typealias RowAt = EndpointAggregate.RowAt

    /// A total with no rows yet (its first and last rows are set by the first group absorbed).
    static let empty = Group(count: 0, firstTime: Int64.max, lastTime: Int64.min,
                             firstAt: RowAt(segment: 0, row: 0), lastAt: RowAt(segment: 0, row: 0))

    /// The hits of the extraction rules among `rules` (ids), as each rule alone would make them.
    package static func run(_ context: HuntContext, rules: Set<String>) throws -> [Hit] {
        let settings = context.settings
        let patterns = settings.endpointPatterns.map { FoldedText.folded($0) }
        let records = try context.scan.segments(.inference)
        let segmentIndex = Dictionary(records.enumerated().map { ($0.element.path, UInt32($0.offset)) },
                                      uniquingKeysWith: { first, _ in first })
        let wantsVolume = rules.contains(RuleID.extractionVolume)
        let wantsSliding = rules.contains(RuleID.slidingWindow)
        let wantsNetwork = rules.contains(RuleID.networkTotal)
        let wantsPrincipal = rules.contains(RuleID.principalTotal)
        let wantsBudget = rules.contains(RuleID.budget)
        let byAddress = wantsVolume || wantsSliding || wantsNetwork
        let byPrincipal = wantsPrincipal || wantsBudget || wantsSliding

        let addressWidth = settings.extractionBucketSeconds * 1_000_000_000
        let dayWidth = ExtractionBeyond.budgetDay * 1_000_000_000
        let addressBase = try EndpointAggregate.firstBucket(records, width: addressWidth, seconds: settings.extractionBucketSeconds)
        let dayBase = try EndpointAggregate.firstBucket(records, width: dayWidth, seconds: ExtractionBeyond.budgetDay)
        let spill = SpillDirectory(store: context.scan.store)
        let partitions = 1 << EndpointAggregate.partitionBits
        let share = context.memoryBudget / 2
        let addressParts = byAddress
            ? PartitionedSpill<EndpointAggregate.GroupRecord>(partitions: partitions, budget: share, spill: spill, name: "address-groups") : nil
        let principalParts = byPrincipal
            ? PartitionedSpill<EndpointAggregate.GroupRecord>(partitions: partitions, budget: share, spill: spill, name: "principal-groups") : nil
        let addresses = EndpointAggregate.KeyValues(numbering: context.numbering("src_ip"), folding: nil)
        let principals = EndpointAggregate.KeyValues(numbering: context.numbering("principal"), folding: nil)

        // One scan: each segment's columns are opened and its endpoint paths matched once.
        _ = try context.map(.inference) { table -> Int in
            let matches = EndpointAggregate.endpointMatches(try table.dictionary("path"), patterns: patterns)
            guard matches.contains(true) else { return 0 }
            let segment = segmentIndex[table.record.path] ?? 0
            var grouped = 0
            if let addressParts {
                grouped = try EndpointAggregate.scanSegment(
                    table, segment: segment, context: context, patterns: patterns, keyColumn: "src_ip", width: addressWidth,
                    base: addressBase, values: addresses, groups: addressParts, inputs: nil, nullTimes: true, pathMatches: matches)
            }
            if let principalParts {
                grouped = try EndpointAggregate.scanSegment(
                    table, segment: segment, context: context, patterns: patterns, keyColumn: "principal", width: dayWidth,
                    base: dayBase, values: principals, groups: principalParts, inputs: nil, nullTimes: true, pathMatches: matches)
            }
            return grouped
        }

        // The address groups and the principal groups are rolled up side by side (each chain's
        // merges are serial): one core is not left waiting on the other chain's merge. Each chain
        // holds a total (48 bytes) and the sliding window's counts (16) per value: with more values
        // than the hunt's memory budget holds so, one after the other, so that the second chain's
        // arrays do not add to the first's peak (about 60 MB at 4 GB of a million clients).
        let perValue = MemoryLayout<Group>.stride + 16
        let width = (addresses.groupCount + principals.groupCount) * perValue <= context.memoryBudget ? 2 : 1
        let chains: [@Sendable () throws -> Stage] = [
            {
                guard let addressParts else { return .hits([]) }
                return .addresses(try rollUpAddresses(addressParts, context: context, rules: rules, addresses: addresses,
                                                      base: addressBase, width: addressWidth))
            },
            {
                guard let principalParts else { return .hits([]) }
                return .principals(try rollUpPrincipals(principalParts, context: context, rules: rules,
                                                        principals: principals, base: dayBase, records: records))
            },
        ]
        var hits: [Hit] = []
        var addressStage: AddressStage?
        var principalStage: PrincipalStage?
        for stage in try Self.sideBySide(chains, width: width) {
            switch stage {
            case let .hits(found): hits += found
            case let .addresses(stage): addressStage = stage
            case let .principals(stage): principalStage = stage
            }
        }
        // The sliding window counts per slot only the rows of the values its bound leaves (a scan
        // of every segment's keys, and of the rows of those that hold such a value).
        if wantsSliding, let addressStage, let principalStage {
            hits += try ExtractionBeyond.slidingHits(context, candidates: [
                addressStage.timed.candidates(context, column: "src_ip", values: addresses,
                                              bucketSeconds: settings.extractionBucketSeconds),
                principalStage.timed.candidates(context, column: "principal", values: principals,
                                                bucketSeconds: ExtractionBeyond.budgetDay),
            ])
        }
        // The distinct inputs of every candidate group (address-buckets, networks, principals),
        // counted in one more pass over the gateway rows.
        var sets: [EndpointAggregate.CandidateSet] = []
        if let addressStage {
            sets.append(.init(keyColumn: "src_ip", width: addressWidth, base: addressBase, values: addresses,
                              candidates: addressStage.volumeCandidates))
            sets.append(.init(keyColumn: "src_ip", width: nil, base: 0, values: addressStage.networks,
                              candidates: addressStage.networkTotals.candidates))
        }
        if let principalStage {
            sets.append(.init(keyColumn: "principal", width: nil, base: 0, values: principals,
                              candidates: principalStage.totals.candidates))
        }
        try EndpointAggregate.countCandidateInputs(&sets, context: context, patterns: patterns, spill: spill)
        if let addressStage {
            if wantsVolume {
                var kept = addressStage.volumeKept
                kept.append(contentsOf: sets[0].candidates.filter { Self.keepsVolume($0.group, settings) })
                hits += ExtractionVolume.hits(
                    EndpointAggregate.aggregation(kept, values: addresses, base: addressBase, context: context, records: records),
                    settings: settings)
            }
            if wantsNetwork {
                hits += ExtractionBeyond.networkHits(
                    addressStage.networkTotals.aggregation(sets[1].candidates, values: addressStage.networks,
                                                           context: context, records: records),
                    settings: settings)
            }
        }
        if let principalStage {
            hits += principalStage.budgetHits
            if wantsPrincipal {
                hits += ExtractionBeyond.principalHits(
                    principalStage.totals.aggregation(sets[sets.count - 1].candidates, values: principals,
                                                      context: context, records: records),
                    settings: settings)
            }
        }
        return hits
    }

    /// What a chain of ``run(_:rules:)`` hands back: hits, or groups rolled up whose candidates'
    /// inputs are still to be counted.
    enum Stage: Sendable {
        case hits([Hit])
        case addresses(AddressStage)
        case principals(PrincipalStage)
    }

    /// The address groups rolled up: `extraction.volume`'s groups kept and its candidates, and
    /// the networks' totals.
    struct AddressStage: @unchecked Sendable {
        var volumeKept: [(key: UInt64, group: Group)]
        var volumeCandidates: [(key: UInt64, group: Group)]
        var networks: EndpointAggregate.KeyValues
        var networkTotals: TotalsSplit
        var timed: TimedRows
    }

    /// The principal groups rolled up: `extraction.budget`'s hits and the principals' totals.
    struct PrincipalStage: @unchecked Sendable {
        var budgetHits: [Hit]
        var totals: TotalsSplit
        var timed: TimedRows
    }

    /// Per group number, the rows with a time and the most of them in one bucket: what the sliding
    /// window's bound is made of.
    struct TimedRows {
        var rows: [Int64]
        var peaks: [Int64]

        init(groups: Int) {
            rows = [Int64](repeating: 0, count: groups)
            peaks = [Int64](repeating: 0, count: groups)
        }

        /// Adds one bucket's group of group number `group`.
        @inline(__always)
        mutating func add(_ group: Int, rows count: Int64) {
            rows[group] += count
            if count > peaks[group] { peaks[group] = count }
        }

        /// The values the sliding window counts per slot, by value number, given buckets of
        /// `bucketSeconds`.
        func candidates(_ context: HuntContext, column: String, values: EndpointAggregate.KeyValues,
                        bucketSeconds: Int64) -> Set<UInt32> {
            ExtractionBeyond.slidingCandidates(context, column: column, rows: rowsByValue(rows, values: values),
                                               peaks: (peaksByValue(peaks, values: values), bucketSeconds))
        }
    }

    /// Whole-range totals split as the unbucketed rule's aggregation splits them: those over a
    /// threshold already (kept), and those over the floor whose distinct inputs decide (candidates).
    struct TotalsSplit {
        var kept: [(key: UInt64, group: Group)] = []
        var candidates: [(key: UInt64, group: Group)] = []

        /// `totals` indexed by group number.
        init(_ totals: [Group], settings: RuleSettings) {
            let floor = ExtractionBeyond.totalFloor(settings)
            for (index, total) in totals.enumerated() where total.count > 0 {
                let key = UInt64(index) << 32
                if total.count > floor {
                    candidates.append((key, total))
                } else if ExtractionBeyond.exceedsTotal(total, settings: settings) {
                    kept.append((key, total))
                }
            }
        }

        /// The aggregation of the totals over a threshold, given the candidates with their
        /// distinct inputs counted.
        func aggregation(_ counted: [(key: UInt64, group: Group)], values: EndpointAggregate.KeyValues,
                         context: HuntContext, records: [SegmentRecord]) -> EndpointAggregate.Aggregation {
            let settings = context.settings
            let over = counted.filter { ExtractionBeyond.exceedsTotal($0.group, settings: settings) }
            return EndpointAggregate.aggregation(kept + over, values: values, base: 0, context: context, records: records)
        }
    }

    static func keepsVolume(_ group: Group, _ settings: RuleSettings) -> Bool {
        group.count > settings.maxQueries || group.distinct > settings.maxDistinctInputs
    }

    /// Runs `bodies` `width` at a time on the shared threads, in order, their results in order; the
    /// first error in that order is thrown.
    static func sideBySide<T: Sendable>(_ bodies: [@Sendable () throws -> T], width: Int = 2) throws -> [T] {
        let slots = WorkSlots<T, any Error>(count: bodies.count)
        TaskPool.shared.apply(count: bodies.count, width: width) { index in
            do { slots.store(index, .success(try bodies[index]())) } catch { slots.store(index, .failure(error)) }
        }
        return try slots.takeAll().map { result in
            guard let result else { throw StoreError.corrupt(path: "", offset: 0, detail: "extraction chain not run") }
            return try result.get()
        }
    }

    /// The (address, bucket) groups merged: `extraction.volume`'s groups over its threshold and its
    /// candidates, and the address totals rolled up into their networks.
    static func rollUpAddresses(_ parts: PartitionedSpill<EndpointAggregate.GroupRecord>, context: HuntContext,
                                rules: Set<String>, addresses: EndpointAggregate.KeyValues, base: Int64,
                                width: Int64) throws -> AddressStage {
        let settings = context.settings
        let wantsVolume = rules.contains(RuleID.extractionVolume)
        let volumeFloor = min(settings.maxQueries, settings.maxDistinctInputs)
        var kept: [(key: UInt64, group: Group)] = []
        var candidates: [(key: UInt64, group: Group)] = []
        var totals: [Group] = []
        var timed = TimedRows(groups: addresses.groupCount)
        try rollUp(parts, totals: &totals, values: addresses.groupCount) { key, group in
            timed.add(Int(key >> 32), rows: group.count)
            guard wantsVolume else { return }
            if group.count > volumeFloor {
                candidates.append((key, group))
            } else if keepsVolume(group, settings) {
                kept.append((key, group))
            }
        }
        // The addresses with rows, folded into their networks in value order.
        let networks = EndpointAggregate.KeyValues(numbering: context.numbering("src_ip"),
                                                   folding: IPNetworkKey.folding)
        var networkTotals: [Group] = []
        if rules.contains(RuleID.networkTotal) {
            let withRows = totals.indices.filter { totals[$0].count > 0 }
            let folded = networks.groups(of: withRows.map { addresses.valueIDs[$0] })
            networkTotals = [Group](repeating: empty, count: networks.groupCount)
            for (address, network) in zip(withRows, folded) where network != UInt32.max {
                networkTotals[Int(network)].absorb(totals[address])
            }
        }
        return AddressStage(volumeKept: kept, volumeCandidates: candidates, networks: networks,
                            networkTotals: TotalsSplit(networkTotals, settings: settings), timed: timed)
    }

    /// The (principal, day) groups merged: `extraction.budget`'s hits, and the principal totals.
    static func rollUpPrincipals(_ parts: PartitionedSpill<EndpointAggregate.GroupRecord>, context: HuntContext,
                                 rules: Set<String>, principals: EndpointAggregate.KeyValues, base: Int64,
                                 records: [SegmentRecord]) throws -> PrincipalStage {
        let settings = context.settings
        let wantsBudget = rules.contains(RuleID.budget)
        var kept: [(key: UInt64, group: Group)] = []
        var totals: [Group] = []
        var timed = TimedRows(groups: principals.groupCount)
        try rollUp(parts, totals: &totals, values: principals.groupCount) { key, group in
            timed.add(Int(key >> 32), rows: group.count)
            if wantsBudget, group.count > settings.dailyBudget { kept.append((key, group)) }
        }
        let budgetHits = wantsBudget
            ? ExtractionBeyond.budgetHits(
                EndpointAggregate.aggregation(kept, values: principals, base: base, context: context, records: records),
                settings: settings)
            : []
        return PrincipalStage(budgetHits: budgetHits,
                              totals: TotalsSplit(rules.contains(RuleID.principalTotal) ? totals : [], settings: settings),
                              timed: timed)
    }

    /// Merges each partition's parts by key and hands every bucket's group (not the groups of rows
    /// without a time) to `each`; rolls every group up into its value's total (`totals`, indexed by
    /// group number: `values` of them, the groups the scan numbered).
    static func rollUp(_ parts: PartitionedSpill<EndpointAggregate.GroupRecord>, totals: inout [Group], values: Int,
                       each: (UInt64, Group) -> Void) throws {
        totals = [Group](repeating: empty, count: values)
        // A span of the totals: one uniqueness check for the array, not one per group absorbed.
        var sums = totals.mutableSpan
        for partition in 0..<parts.partitionCount {
            let taken = try parts.take(partition)
            guard !taken.isEmpty else { continue }
            let (table, merged) = EndpointAggregate.merged(taken)
            let keys = table.insertedKeys
            for index in merged.indices {
                let key = keys[index]
                sums[Int(key >> 32)].absorb(merged[index])
                guard key & 0xFFFF_FFFF != EndpointAggregate.nullTimeBucket else { continue }
                each(key, merged[index])
            }
        }
    }

    /// Rows per group number as rows per value number (groups of values not folded: one each).
    static func rowsByValue(_ rows: [Int64], values: EndpointAggregate.KeyValues) -> [Int64] {
        let ids = values.valueIDs
        var result = [Int64](repeating: 0, count: (ids.max().map { Int($0) + 1 }) ?? 0)
        for (group, count) in rows.enumerated() where group < ids.count { result[Int(ids[group])] += count }
        return result
    }

    /// The most rows in one bucket per group number as per value number.
    static func peaksByValue(_ peaks: [Int64], values: EndpointAggregate.KeyValues) -> [Int64] {
        let ids = values.valueIDs
        var result = [Int64](repeating: 0, count: (ids.max().map { Int($0) + 1 }) ?? 0)
        for (group, peak) in peaks.enumerated() where group < ids.count {
            result[Int(ids[group])] = max(result[Int(ids[group])], peak)
        }
        return result
    }
}
