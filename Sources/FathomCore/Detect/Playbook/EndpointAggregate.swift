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

    /// A compact evidence reference: the archive path and member are shared strings, the time is
    /// formatted only when a hit is made.
    struct RowRef: Sendable {
        var archive: String
        var member: String
        var line: Int64
        var time: Int64

        var evidence: EvidenceRef {
            EvidenceRef(archive: archive, member: member, line: line, time: time == Int64.min ? nil : TimeParser.format(time))
        }
    }

    struct Group: Sendable {
        var count: Int64 = 0
        /// Distinct non-null inputs (filled in after all segments are merged).
        var distinct: Int64 = 0
        var firstTime = Int64.max
        var lastTime = Int64.min
        var firstRef: RowRef
        var lastRef: RowRef

        var first: EvidenceRef { firstRef.evidence }
        var last: EvidenceRef { lastRef.evidence }

        /// Adds a later segment's partial group (segments arrive in catalog order).
        mutating func merge(_ other: Group) {
            count += other.count
            if other.firstTime < firstTime { firstTime = other.firstTime; firstRef = other.firstRef }
            if other.lastTime >= lastTime { lastTime = other.lastTime; lastRef = other.lastRef }
        }
    }

    /// One segment's groups; the distinct inputs of group `i` are `hashes[ranges[i]]` (sorted, unique).
    struct Partial: Sendable {
        /// The key column's dictionary entries of the segment, and each group's entry code and bucket.
        var names: [String] = []
        var codes: [UInt32] = []
        var buckets: [Int64] = []
        var groups: [Group] = []
        var ranges: [Range<Int>] = []
        var hashes: [Hash128] = []
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
    ///   (a flat table when codes × buckets is small) and distinct inputs go into a `Hash128Set`.
    /// Groups for which `keep` is false are dropped before their key is materialised.
    /// Key values whose rows over all buckets number `minimumValueRows` or fewer are dropped too
    /// (a sliding window over a value's buckets can never count more than all its rows).
    static func run(_ context: HuntContext, keyColumn: String, bucketSeconds: Int64?, distinct: Bool,
                    minimumValueRows: Int64 = 0,
                    keep: (Group) -> Bool = { _ in true }) throws -> [(key: Key, group: Group)] {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        let width = bucketSeconds.map { $0 * 1_000_000_000 }
        // With a floor on a value's rows, a first cheap pass counts rows per value, so the grouping
        // pass (and its merge) only sees the few values that can reach the floor.
        var floor: Set<String>?
        if minimumValueRows > 0 {
            let counts = try context.map(.inference) { table -> [String: Int64] in
                try Self.valueRows(table, context: context, patterns: patterns, keyColumn: keyColumn, bucketed: width != nil)
            }
            var totals: [String: Int64] = [:]
            for part in counts { totals.merge(part, uniquingKeysWith: +) }
            floor = Set(totals.filter { $0.value > minimumValueRows }.keys)
        }
        let allowed = floor
        let partials = try context.map(.inference) { table -> Partial in
            try scanSegment(table, context: context, patterns: patterns, keyColumn: keyColumn, width: width, distinct: distinct,
                            allowed: allowed)
        }
        // Key values are interned to integers so groups merge on (value id, bucket) without hashing strings.
        struct Packed: Hashable {
            var id: UInt32
            var bucket: Int64
        }
        var ids: [String: UInt32] = [:]
        var values: [String] = []
        var index: [Packed: Int] = [:]
        var merged: [Group] = []
        var keys: [Packed] = []
        var firstPart: [(Int, Range<Int>)] = []
        var moreParts: [Int: [(Int, Range<Int>)]] = [:]
        for (partIndex, partial) in partials.enumerated() {
            let global = partial.names.map { name -> UInt32 in
                if let id = ids[name] { return id }
                let id = UInt32(values.count)
                ids[name] = id
                values.append(name)
                return id
            }
            index.reserveCapacity(index.count + partial.groups.count)
            for position in partial.groups.indices {
                let key = Packed(id: global[Int(partial.codes[position])], bucket: partial.buckets[position])
                let group = partial.groups[position]
                let range = distinct ? partial.ranges[position] : 0..<0
                if let existing = index[key] {
                    merged[existing].merge(group)
                    moreParts[existing, default: []].append((partIndex, range))
                } else {
                    index[key] = merged.count
                    merged.append(group)
                    keys.append(key)
                    firstPart.append((partIndex, range))
                }
            }
        }
        var valueRows = [Int64](repeating: 0, count: minimumValueRows > 0 ? values.count : 0)
        if minimumValueRows > 0 {
            for position in merged.indices { valueRows[Int(keys[position].id)] += merged[position].count }
        }
        var result: [(key: Key, group: Group)] = []
        result.reserveCapacity(merged.count)
        for position in merged.indices {
            if minimumValueRows > 0, valueRows[Int(keys[position].id)] <= minimumValueRows { continue }
            var group = merged[position]
            if distinct {
                let (partIndex, range) = firstPart[position]
                if let extra = moreParts[position] {
                    var union = Hash128Set(minimumCapacity: range.count)
                    union.formUnion(partials[partIndex].hashes[range])
                    for (other, otherRange) in extra { union.formUnion(partials[other].hashes[otherRange]) }
                    group.distinct = Int64(union.count)
                } else {
                    group.distinct = Int64(range.count)
                }
            }
            guard keep(group) else { continue }
            result.append((Key(value: values[Int(keys[position].id)], bucket: keys[position].bucket), group))
        }
        return result
    }

    /// Whether each entry of a segment's path dictionary contains one of the endpoint patterns.
    static func endpointMatches(_ paths: DictionaryColumn, patterns: [[UInt32]]) -> [Bool] {
        (0..<paths.entryCount).map { code in
            let folded = FoldedText.folded(paths.entry(UInt32(code)))
            return patterns.contains { FoldedText.contains(folded, $0) }
        }
    }

    /// Rows per key value in one segment, counting exactly the rows ``scanSegment`` groups.
    static func valueRows(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
                          bucketed: Bool) throws -> [String: Int64] {
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let pathMatches = endpointMatches(try table.dictionary("path"), patterns: patterns)
        guard pathMatches.contains(true) else { return [:] }
        let paths = try table.dictionary("path")
        let checkRange = !context.coversAll(table)
        var counts = [Int64](repeating: 0, count: keys.entryCount)
        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count where pathMatches[Int(pathSpan[row])] {
                        let time = timeSpan[row]
                        if checkRange, !context.includes(time) { continue }
                        if bucketed, time == Int64.min { continue }
                        counts[Int(keySpan[row])] += 1
                    }
                }
            }
        }
        var result: [String: Int64] = [:]
        for code in counts.indices where counts[code] > 0 { result[keys.entry(UInt32(code)).string, default: 0] += counts[code] }
        return result
    }

    static func scanSegment(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
                            width: Int64?, distinct: Bool, allowed: Set<String>? = nil) throws -> Partial {
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let paths = try table.dictionary("path")
        let inputs = try table.hash128("input_hash")
        var pathMatches = endpointMatches(paths, patterns: patterns)
        guard pathMatches.contains(true) else { return Partial() }
        // Values below the floor never form groups: their rows are passed over like other paths'.
        let keyAllowed = allowed.map { set in (0..<keys.entryCount).map { set.contains(keys.entry(UInt32($0)).string) } }
        if let keyAllowed, !keyAllowed.contains(true) { pathMatches = pathMatches.map { _ in false } }
        guard pathMatches.contains(true) else { return Partial() }
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
        // The flat table has one row per key value that can form a group: every dictionary entry,
        // or only the allowed ones (densely numbered) when a floor on value rows is in force.
        var denseKey = [Int32](repeating: 0, count: keys.entryCount)
        var keyCount = keys.entryCount
        if let keyAllowed {
            keyCount = 0
            for code in keyAllowed.indices {
                denseKey[code] = keyAllowed[code] ? Int32(keyCount) : -1
                if keyAllowed[code] { keyCount += 1 }
            }
        } else {
            for code in denseKey.indices { denseKey[code] = Int32(code) }
        }
        let useTable = bucketCount != Int.max && keyCount.multipliedReportingOverflow(by: bucketCount).partialValue <= 1 << 22
            && !keyCount.multipliedReportingOverflow(by: bucketCount).overflow
        var slots = useTable ? [Int32](repeating: -1, count: keyCount * bucketCount) : []
        var slotIndex: [CodeBucket: Int32] = [:]
        var groupCode: [UInt32] = []
        var groupBucket: [Int64] = []
        var counts: [Int64] = []
        var pairs: [GroupHash] = []
        var firstRow: [Int] = []
        var lastRow: [Int] = []
        var firstTime: [Int64] = []
        var lastTime: [Int64] = []

        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count {
                        guard pathMatches[Int(pathSpan[row])] else { continue }
                        if let keyAllowed, !keyAllowed[Int(keySpan[row])] { continue }
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
                            let slot = Int(denseKey[Int(code)]) * bucketCount + Int(offset)
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
                            firstRow.append(row)
                            lastRow.append(row)
                            firstTime.append(time)
                            lastTime.append(time)
                        }
                        counts[index] += 1
                        if distinct {
                            let hash = inputs[row]
                            if !hash.isNull { pairs.append(GroupHash(group: group, hash: hash)) }
                        }
                        if time < firstTime[index] { firstTime[index] = time; firstRow[index] = row }
                        if time >= lastTime[index] { lastTime[index] = time; lastRow[index] = row }
                    }
                }
            }
        }
        var partial = Partial()
        partial.groups.reserveCapacity(counts.count)
        let archive = context.archives[table.record.archiveID] ?? "archive \(table.record.archiveID)"
        let members = try table.dictionary("member")
        let memberNames = (0..<members.entryCount).map { members.entry(UInt32($0)).string }
        let lines = try table.int64("line")
        func ref(_ row: Int, _ time: Int64) -> RowRef {
            let line = lines[row]
            return RowRef(archive: archive, member: memberNames[Int(members.code(at: row))], line: line == Int64.min ? 0 : line,
                          time: time)
        }
        partial.names = (0..<keys.entryCount).map { keys.entry(UInt32($0)).string }
        partial.codes = groupCode
        partial.buckets = groupBucket
        for index in counts.indices {
            partial.groups.append(Group(count: counts[index], firstTime: firstTime[index], lastTime: lastTime[index],
                                        firstRef: ref(firstRow[index], firstTime[index]),
                                        lastRef: ref(lastRow[index], lastTime[index])))
        }
        if distinct {
            pairs.sort { $0.group != $1.group ? $0.group < $1.group : ($0.hash.high != $1.hash.high ? $0.hash.high < $1.hash.high : $0.hash.low < $1.hash.low) }
            var starts = [Int](repeating: 0, count: counts.count)
            var ends = [Int](repeating: 0, count: counts.count)
            partial.hashes.reserveCapacity(pairs.count)
            var position = 0
            while position < pairs.count {
                let group = Int(pairs[position].group)
                starts[group] = partial.hashes.count
                var previous: Hash128?
                while position < pairs.count, Int(pairs[position].group) == group {
                    let hash = pairs[position].hash
                    if hash != previous { partial.hashes.append(hash) }
                    previous = hash
                    position += 1
                }
                ends[group] = partial.hashes.count
            }
            partial.ranges = counts.indices.map { starts[$0]..<ends[$0] }
        }
        return partial
    }
}

struct GroupHash {
    var group: Int32
    var hash: Hash128
}

