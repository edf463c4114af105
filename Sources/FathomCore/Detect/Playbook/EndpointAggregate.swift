import FathomStore

/// Group-by over inference rows on model endpoints: rows and distinct inputs per (key value, time
/// bucket). The engine behind `extraction.volume` and the beyond-playbook extraction rules.
struct EndpointAggregate {
    struct Key: Hashable, Sendable {
        var value: String
        var bucket: Int64
    }

    struct CodeBucket: Hashable {
        var code: UInt32
        var bucket: Int64
    }

    struct Group: Sendable {
        var count: Int64 = 0
        var inputs: Set<Hash128> = []
        var firstTime = Int64.max
        var lastTime = Int64.min
        var first = EvidenceRef(archive: "", member: "", line: 0)
        var last = EvidenceRef(archive: "", member: "", line: 0)

        /// Adds a later segment's partial group (segments arrive in catalog order).
        mutating func merge(_ other: Group) {
            count += other.count
            if inputs.isEmpty { inputs = other.inputs } else { inputs.formUnion(other.inputs) }
            if other.firstTime < firstTime { firstTime = other.firstTime; first = other.first }
            if other.lastTime >= lastTime { lastTime = other.lastTime; last = other.last }
        }
    }

    /// Floor division of a time by a bucket width (both in nanoseconds).
    @inline(__always)
    static func bucket(_ time: Int64, _ width: Int64) -> Int64 {
        time >= 0 ? time / width : -((-time - 1) / width) - 1
    }

    /// Aggregates rows whose path contains one of the endpoint patterns (case-insensitive), grouped by
    /// the dictionary column `keyColumn` and by `bucketSeconds` (nil: one bucket for all time).
    /// Rows without a time are skipped when bucketing.
    ///
    /// - Complexity: O(rows) over the overlapping segments, spread over the scan's threads; the
    ///   endpoint test runs once per path dictionary entry, rows are grouped by dictionary code
    ///   (a flat table when codes × buckets is small) and distinct inputs go into a `Set<Hash128>`.
    static func run(_ context: HuntContext, keyColumn: String, bucketSeconds: Int64?, distinct: Bool) throws -> [Key: Group] {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        let width = bucketSeconds.map { $0 * 1_000_000_000 }
        let partials = try context.map(.inference) { table -> [Key: Group] in
            try scanSegment(table, context: context, patterns: patterns, keyColumn: keyColumn, width: width, distinct: distinct)
        }
        var merged: [Key: Group] = [:]
        for partial in partials {
            for (key, group) in partial {
                if merged[key] == nil { merged[key] = group } else { merged[key]?.merge(group) }
            }
        }
        return merged
    }

    static func scanSegment(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
                            width: Int64?, distinct: Bool) throws -> [Key: Group] {
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let paths = try table.dictionary("path")
        let inputs = try table.hash128("input_hash")
        var pathMatches = [Bool](repeating: false, count: paths.entryCount)
        for code in 0..<paths.entryCount {
            let folded = FoldedText.folded(paths.entry(UInt32(code)))
            pathMatches[code] = patterns.contains { FoldedText.contains(folded, $0) }
        }
        guard pathMatches.contains(true) else { return [:] }
        let checkRange = !context.coversAll(table)
        let baseBucket: Int64
        let bucketCount: Int
        if let width, let minTime = table.record.minTime, let maxTime = table.record.maxTime {
            baseBucket = bucket(minTime, width)
            let span = bucket(maxTime, width) - baseBucket + 1
            bucketCount = span > 0 && span < 1 << 30 ? Int(span) : Int.max
        } else {
            baseBucket = 0
            bucketCount = 1
        }
        let keyCount = keys.entryCount
        let useTable = bucketCount != Int.max && keyCount.multipliedReportingOverflow(by: bucketCount).partialValue <= 1 << 22
            && !keyCount.multipliedReportingOverflow(by: bucketCount).overflow
        var slots = useTable ? [Int32](repeating: -1, count: keyCount * bucketCount) : []
        var slotIndex: [CodeBucket: Int32] = [:]
        var groupCode: [UInt32] = []
        var groupBucket: [Int64] = []
        var counts: [Int64] = []
        var sets: [Set<Hash128>] = []
        var firstRow: [Int] = []
        var lastRow: [Int] = []
        var firstTime: [Int64] = []
        var lastTime: [Int64] = []

        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count {
                        guard pathMatches[Int(pathSpan[row])] else { continue }
                        let time = timeSpan[row]
                        if checkRange, !context.includes(time) { continue }
                        var bucketValue: Int64 = 0
                        if let width {
                            if time == Int64.min { continue }
                            bucketValue = bucket(time, width)
                        }
                        let code = keySpan[row]
                        let offset = bucketValue - baseBucket
                        var group: Int32
                        if useTable {
                            let slot = Int(code) * bucketCount + Int(offset)
                            group = slots[slot]
                            if group < 0 {
                                group = Int32(counts.count)
                                slots[slot] = group
                            }
                        } else {
                            let packed = CodeBucket(code: code, bucket: bucketValue)
                            if let existing = slotIndex[packed] {
                                group = existing
                            } else {
                                group = Int32(counts.count)
                                slotIndex[packed] = group
                            }
                        }
                        let index = Int(group)
                        if index == counts.count {
                            groupCode.append(code)
                            groupBucket.append(bucketValue)
                            counts.append(0)
                            sets.append([])
                            firstRow.append(row)
                            lastRow.append(row)
                            firstTime.append(time)
                            lastTime.append(time)
                        }
                        counts[index] += 1
                        if distinct {
                            let hash = inputs[row]
                            if !hash.isNull { sets[index].insert(hash) }
                        }
                        if time < firstTime[index] { firstTime[index] = time; firstRow[index] = row }
                        if time >= lastTime[index] { lastTime[index] = time; lastRow[index] = row }
                    }
                }
            }
        }
        var result: [Key: Group] = [:]
        result.reserveCapacity(counts.count)
        for index in counts.indices {
            let key = Key(value: keys.entry(groupCode[index]).string, bucket: groupBucket[index])
            var group = Group(count: counts[index], inputs: sets[index], firstTime: firstTime[index], lastTime: lastTime[index])
            group.first = context.evidence(table, row: firstRow[index], withTime: true)
            group.last = context.evidence(table, row: lastRow[index], withTime: true)
            if result[key] == nil { result[key] = group } else { result[key]?.merge(group) }
        }
        return result
    }
}
