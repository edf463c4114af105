import FathomStore
import FathomSupport
import FathomCatalog

/// Extraction that stays under the playbook's hourly thresholds: sliding windows, totals per
/// principal and per network, and a daily query budget per identity.
package enum ExtractionBeyond {
    package static let atlas = ["AML.T0024", "AML.T0024.002", "AML.T0040"]

    package static let slidingInfo = RuleInfo(
        id: RuleID.slidingWindow, title: "Model API query volume in a sliding window", level: "high",
        atlas: atlas, kind: .inference,
        semantics: """
            The rows of extraction.volume (endpoint paths), counted in windows of extraction.window \
            (1 hour) that start every extraction.slide (5 minutes), once per src_ip and once per principal \
            (key.by says which). A window is exceeded when its query count > max_queries (1000). Overlapping \
            and adjacent exceeded windows of one identity merge into one hit whose window runs from the \
            first exceeded window's start to the last one's end; metrics: peak_count (the largest window \
            count), peak_start, windows (how many window positions exceeded). Finds bursts that straddle a \
            fixed hour boundary and identities spread over several addresses (by principal). Rows without \
            a principal are not grouped by principal. Counts queries only (no distinct inputs).
            """)

    package static let principalInfo = RuleInfo(
        id: RuleID.principalTotal, title: "Model API queries per principal over the whole range", level: "medium",
        atlas: atlas, kind: .inference,
        semantics: """
            The rows of extraction.volume per principal (API key or user) over the whole time range: hit \
            when query_count > total_max_queries (5000) or distinct_inputs > total_max_distinct_inputs \
            (2500). Finds slow-and-low extraction under every hourly threshold. Rows without a principal are \
            skipped. Window = [first query, last query].
            """)

    package static let networkInfo = RuleInfo(
        id: RuleID.networkTotal, title: "Model API queries per network over the whole range", level: "medium",
        atlas: atlas, kind: .inference,
        semantics: """
            The rows of extraction.volume per source network — the /24 of an IPv4 address, the /64 of an \
            IPv6 address — over the whole time range: hit when query_count > total_max_queries (5000) or \
            distinct_inputs > total_max_distinct_inputs (2500). Finds extraction distributed over \
            neighbouring addresses. Unparseable addresses are skipped. metrics.addresses = distinct \
            addresses seen in the network.
            """)

    package static let budgetInfo = RuleInfo(
        id: RuleID.budget, title: "Identity over its daily query budget", level: "medium",
        atlas: atlas + ["AML.T0034"], kind: .inference,
        semantics: """
            The rows of extraction.volume per principal per fixed UTC day: hit when the day's query count \
            > daily_budget (5000). Rows without a principal are skipped.
            """)

    package static func extractionSettings(_ settings: RuleSettings) -> [(String, String)] {
        [("endpoints", RuleCatalog.list(settings.endpointPatterns)),
         ("window", RuleSettings.durationText(settings.slidingWindowSeconds)),
         ("slide", RuleSettings.durationText(settings.slideSeconds)),
         ("max_queries", String(settings.maxQueries)),
         ("total_max_queries", String(settings.totalMaxQueries)),
         ("total_max_distinct_inputs", String(settings.totalMaxDistinctInputs)),
         ("daily_budget", String(settings.dailyBudget))]
    }

    package static let slidingRule = BuiltInRule(info: slidingInfo, settings: extractionSettings, body: runSliding)
    package static let principalRule = BuiltInRule(info: principalInfo, settings: extractionSettings, body: runPrincipal)
    package static let networkRule = BuiltInRule(info: networkInfo, settings: extractionSettings, body: runNetwork)
    package static let budgetRule = BuiltInRule(info: budgetInfo, settings: extractionSettings, body: runBudget)

    /// Exceeded sliding windows over per-slot counts, merged into runs.
    ///
    /// `slots` maps a slot number to its count; a window is `slotsPerWindow` slots starting at a slot.
    /// Returns (first start slot, last start slot, peak count, peak start slot, exceeded positions).
    ///
    /// - Complexity: O(active slots × slotsPerWindow): only window starts that hold an active slot
    ///   are visited, in ascending order, with the window's sum kept by two pointers.
    package static func exceededRuns(_ slots: [Int64: Int64], slotsPerWindow: Int64, threshold: Int64)
        -> [(first: Int64, last: Int64, peak: Int64, peakStart: Int64, positions: Int64)] {
        let active = slots.keys.sorted()
        return exceededRuns(active: active, counts: active.map { slots[$0] ?? 0 }, slotsPerWindow: slotsPerWindow,
                            threshold: threshold)
    }

    /// ``exceededRuns(_:slotsPerWindow:threshold:)`` of the slots `active` (ascending, distinct)
    /// with `counts` rows.
    package static func exceededRuns(active: [Int64], counts: [Int64], slotsPerWindow: Int64, threshold: Int64)
        -> [(first: Int64, last: Int64, peak: Int64, peakStart: Int64, positions: Int64)] {
        guard !active.isEmpty, slotsPerWindow > 0 else { return [] }
        var runs: [(first: Int64, last: Int64, peak: Int64, peakStart: Int64, positions: Int64)] = []
        var low = 0, high = 0
        var sum: Int64 = 0
        var next = Int64.min
        for slot in active {
            // Window starts whose window holds this slot and that were not visited for an earlier slot.
            var start = Swift.max(next, slot - slotsPerWindow + 1)
            while start <= slot {
                while high < active.count, active[high] < start + slotsPerWindow {
                    sum += counts[high]
                    high += 1
                }
                while low < high, active[low] < start {
                    sum -= counts[low]
                    low += 1
                }
                if sum > threshold {
                    if let last = runs.last, start <= last.last + slotsPerWindow {
                        var run = last
                        run.last = start
                        run.positions += 1
                        if sum > run.peak { run.peak = sum; run.peakStart = start }
                        runs[runs.count - 1] = run
                    } else {
                        runs.append((start, start, sum, start, 1))
                    }
                }
                start += 1
            }
            next = slot + 1
        }
        return runs
    }

    /// The columns the sliding window groups by, in the order of its hits.
    package static let slidingColumns = ["src_ip", "principal"]

    package static func runSliding(_ context: HuntContext) throws -> [Hit] {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        var rows: [String: [Int64]] = [:]
        for column in slidingColumns {
            // Each segment's rows per value added as soon as it is counted: held until the scan
            // ended, the segments' parts were 56 MB of the rule's 67 MB peak at 8 GB.
            let counted = EndpointAggregate.GroupRows()
            _ = try context.map(.inference) { table -> Bool in
                let part = try EndpointAggregate.valueRows(table, context: context, patterns: patterns, keyColumn: column, bucketed: true)
                counted.add(part.map { (group: $0.id, rows: $0.rows) })
                return true
            }
            rows[column] = counted.totals
        }
        return try slidingHits(context, rows: rows)
    }

    /// The sliding window's hits, given each column's rows with a time per value (indexed by the
    /// hunt's value numbering of the column): only values with more rows in all than the threshold
    /// can exceed it in one window, so only theirs are counted per slot.
    package static func slidingHits(_ context: HuntContext, rows byColumn: [String: [Int64]]) throws -> [Hit] {
        try slidingHits(context, candidates: slidingColumns.map { column in
            slidingCandidates(context, column: column, rows: byColumn[column] ?? [])
        })
    }

    /// The values of `column` whose rows can exceed the threshold in one window (indexed by the
    /// hunt's value numbering of the column): those with more rows with a time in all than the
    /// threshold (the empty principal left out, as rows without one are not grouped by principal).
    ///
    /// With `peaks`, the most rows with a time each value has in one bucket of `bucketSeconds`
    /// (buckets counted from the epoch, as the slots are), only values whose peak times the most
    /// buckets a window can touch exceeds the threshold are kept: a window's rows lie in those
    /// buckets, so it holds no more. On a week of gateway traffic of twenty thousand addresses,
    /// about one in a hundred of the addresses over the threshold in all is over this bound.
    package static func slidingCandidates(_ context: HuntContext, column: String, rows: [Int64],
                                          peaks: (rows: [Int64], bucketSeconds: Int64)? = nil) -> Set<UInt32> {
        let settings = context.settings
        let numbering = context.numbering(column)
        var reach: Int64?
        if let peaks {
            reach = bucketsTouched(window: windowSlots(settings) * settings.slideSeconds, bucket: peaks.bucketSeconds)
        }
        var values = Set<UInt32>()
        for value in rows.indices where rows[value] > settings.maxQueries {
            if column == "principal", numbering.isEmpty(UInt32(value)) { continue }
            if let reach, let peaks {
                let peak = value < peaks.rows.count ? peaks.rows[value] : 0
                let (bound, overflow) = peak.multipliedReportingOverflow(by: reach)
                if !overflow, bound <= settings.maxQueries { continue }
            }
            values.insert(UInt32(value))
        }
        return values
    }

    /// Slots in one window: the window's seconds in whole slides, at least one.
    package static func windowSlots(_ settings: RuleSettings) -> Int64 {
        max(1, settings.slidingWindowSeconds / settings.slideSeconds)
    }

    /// The most buckets of `bucket` seconds, counted from the epoch, that a stretch of `window`
    /// seconds starting anywhere touches: a stretch of one bucket's length touches two when it
    /// does not start on a bucket's edge. Computed in nanoseconds, the times' unit; nil when that
    /// overflows (no bound).
    package static func bucketsTouched(window: Int64, bucket: Int64) -> Int64? {
        let (length, lengthOverflow) = window.multipliedReportingOverflow(by: 1_000_000_000)
        let (width, widthOverflow) = bucket.multipliedReportingOverflow(by: 1_000_000_000)
        guard !lengthOverflow, !widthOverflow, length > 0, width > 0 else { return nil }
        // [a, a + length) with a = q * width + r touches buckets q ... (r + length - 1) / width + q:
        // the most at r = width - 1.
        let (span, spanOverflow) = length.addingReportingOverflow(width - 2)
        guard !spanOverflow else { return nil }
        return span / width + 1
    }

    /// The sliding window's hits, given per column of ``slidingColumns`` the values whose rows are
    /// counted per slot (``slidingCandidates(_:column:rows:peaks:)``).
    package static func slidingHits(_ context: HuntContext, candidates: [Set<UInt32>]) throws -> [Hit] {
        let settings = context.settings
        let slideSeconds = settings.slideSeconds
        let slide = slideSeconds * 1_000_000_000
        let perWindow = windowSlots(settings)
        let patterns = settings.endpointPatterns.map { FoldedText.folded($0) }
        var hits: [Hit] = []
        // The candidate values, counted per slot for both columns in one scan of the gateway rows.
        let keys = zip(slidingColumns, candidates).map { (column: $0, values: $1) }
        let totalsByColumn = try SlidingWindowScan.slotTotals(context, keys: keys, slide: slide, patterns: patterns)
        for (column, totals) in zip(slidingColumns, totalsByColumn) {
            let numbering = context.numbering(column)
            var found: [(value: String, run: (first: Int64, last: Int64, peak: Int64, peakStart: Int64, positions: Int64))] = []
            // Value by value as the partitions give them, each one's slots made only while its
            // runs are found; then in name order, a value's runs in slot order.
            try totals.forEachRow { row in
                let runs = exceededRuns(active: row.slots, counts: row.counts, slotsPerWindow: perWindow, threshold: settings.maxQueries)
                guard !runs.isEmpty else { return }
                let name = numbering.name(row.value)
                for run in runs { found.append((name, run)) }
            }
            found.sort { ($0.value, $0.run.first) < ($1.value, $1.run.first) }
            // The first and last query inside each run's windows, looked up for the runs alone.
            let edges = try SlidingWindowScan.edges(
                context, keyColumn: column, slide: slide,
                spans: found.map { .init(value: $0.value, start: $0.run.first, end: $0.run.last + perWindow) },
                patterns: patterns)
            for (index, (value, run)) in found.enumerated() {
                guard let edge = edges[index] else { continue }
                hits.append(Hit(rule: slidingInfo, window: HitWindow(start: Timestamp.start(ofSlot: run.first, width: slide),
                                                                      end: Timestamp.start(ofSlot: run.last + perWindow, width: slide)),
                                key: ["by": .string(column), column: .string(value)],
                                metrics: [Metric.peakCount: .int(run.peak), "peak_start": .string(TimeParser.format(Timestamp.start(ofSlot: run.peakStart, width: slide))),
                                          "windows": .int(run.positions)],
                                evidence: .aggregate(first: edge.first.1.evidence, last: edge.last.1.evidence)))
            }
        }
        return hits
    }

    /// Whether a total group is over either threshold.
    package static func exceedsTotal(_ group: EndpointAggregate.Group, settings: RuleSettings) -> Bool {
        group.count > settings.totalMaxQueries || group.distinct > settings.totalMaxDistinctInputs
    }

    /// The row count at or under which no total group is over either threshold (it has no more
    /// distinct inputs than rows): only larger groups need their distinct inputs counted.
    package static func totalFloor(_ settings: RuleSettings) -> Int64 {
        min(settings.totalMaxQueries, settings.totalMaxDistinctInputs)
    }

    /// The hits of the total groups over a threshold, with their evidence (each segment read once).
    package static func totalHits(_ info: RuleInfo, _ groups: [(key: [String: HitValue], group: EndpointAggregate.Group, extra: [String: HitValue])],
                          of aggregation: EndpointAggregate.Aggregation, settings: RuleSettings) -> [Hit] {
        let kept = groups.filter { exceedsTotal($0.group, settings: settings) }
        let evidence = aggregation.evidence(kept.map(\.group))
        return zip(kept, evidence).map { item, refs in
            let (key, group, extra) = item
            var metrics: [String: HitValue] = [Metric.queryCount: .int(group.count), Metric.distinctInputs: .int(group.distinct)]
            metrics.merge(extra) { first, _ in first }
            return Hit(rule: info, window: HitWindow(start: group.firstTime, end: group.lastTime &+ 1), key: key,
                       metrics: metrics, evidence: .aggregate(first: refs.first, last: refs.last))
        }
    }

    package static func runPrincipal(_ context: HuntContext) throws -> [Hit] {
        let settings = context.settings
        let aggregation = try EndpointAggregate.run(context, keyColumn: "principal", bucketSeconds: nil, distinct: true,
                                                    distinctOver: totalFloor(settings)) { group in
            exceedsTotal(group, settings: settings)
        }
        return principalHits(aggregation, settings: settings)
    }

    /// The hits of the per-principal totals over a threshold (rows without a principal left out).
    package static func principalHits(_ aggregation: EndpointAggregate.Aggregation, settings: RuleSettings) -> [Hit] {
        let groups = aggregation.groups.filter { !$0.key.value.isEmpty }
            .map { (key: ["principal": HitValue.string($0.key.value)], group: $0.group, extra: [String: HitValue]()) }
        return totalHits(principalInfo, groups, of: aggregation, settings: settings)
    }

    package static func runNetwork(_ context: HuntContext) throws -> [Hit] {
        // Rows are grouped by the network of their address; "addresses" counts the addresses seen.
        let aggregation = try EndpointAggregate.run(context, keyColumn: "src_ip", bucketSeconds: nil, distinct: true,
                                                    distinctOver: totalFloor(context.settings),
                                                    keep: { exceedsTotal($0, settings: context.settings) },
                                                    folding: IPNetworkKey.folding)
        return networkHits(aggregation, settings: context.settings)
    }

    /// The hits of the per-network totals over a threshold, with the addresses each folds.
    package static func networkHits(_ aggregation: EndpointAggregate.Aggregation, settings: RuleSettings) -> [Hit] {
        let groups = aggregation.groups.map { item in
            (key: ["network": HitValue.string(item.key.value)], group: item.group,
             extra: ["addresses": HitValue.int(Int64(aggregation.members[item.key.value] ?? 0))])
        }
        return totalHits(networkInfo, groups, of: aggregation, settings: settings)
    }

    package static func runBudget(_ context: HuntContext) throws -> [Hit] {
        let settings = context.settings
        let aggregation = try EndpointAggregate.run(context, keyColumn: "principal", bucketSeconds: budgetDay, distinct: false) { group in
            group.count > settings.dailyBudget
        }
        return budgetHits(aggregation, settings: settings)
    }

    /// The bucket of the daily budget, in seconds.
    package static let budgetDay: Int64 = 86_400

    /// The hits of the (principal, day) groups over the budget (rows without a principal left out).
    package static func budgetHits(_ aggregation: EndpointAggregate.Aggregation, settings: RuleSettings) -> [Hit] {
        let width = budgetDay * 1_000_000_000
        let kept = aggregation.groups.filter { !$0.key.value.isEmpty && $0.group.count > settings.dailyBudget }
        let evidence = aggregation.evidence(kept.map(\.group))
        return zip(kept, evidence).map { item, refs in
            let (key, group) = item
            return Hit(rule: budgetInfo, window: HitWindow(bucket: key.bucket, width: width),
                       key: ["principal": .string(key.value)],
                       metrics: [Metric.queryCount: .int(group.count), "budget": .int(settings.dailyBudget)],
                       evidence: .aggregate(first: refs.first, last: refs.last))
        }
    }
}
