import Foundation
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

    /// One segment's groups; group `i`'s distinct inputs are counted under `distinctIDs[i]`.
    struct Partial: Sendable {
        /// The key column's dictionary entries of the segment, and each group's entry code and bucket.
        var names: [String] = []
        var codes: [UInt32] = []
        var buckets: [Int64] = []
        var groups: [Group] = []
        var distinctIDs: [UInt32] = []
    }

    /// Numbers the (name, bucket) pairs distinct inputs are counted under, across segments and threads.
    final class DistinctNames: @unchecked Sendable {
        struct Name: Hashable {
            var name: String
            var bucket: Int64
        }

        private let lock = NSLock()
        private var ids: [Name: UInt32] = [:]

        var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return ids.count
        }

        func ids(for names: [Name]) -> [UInt32] {
            lock.lock()
            defer { lock.unlock() }
            return names.map { name in
                if let id = ids[name] { return id }
                let id = UInt32(ids.count)
                ids[name] = id
                return id
            }
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
    /// Distinct inputs are counted per (`distinctKey(value)`, bucket) — by default the group's own
    /// value; the per-network rule counts them per network — exactly, by a ``DistinctCounter`` that
    /// spills to the store's `tmp/` once its memory budget is full.
    ///
    /// - Complexity: O(rows) over the overlapping segments, spread over the scan's threads; the
    ///   endpoint test runs once per path dictionary entry, rows are grouped by dictionary code
    ///   (a flat table when codes × buckets is small).
    /// Groups for which `keep` is false are dropped before their key is materialised.
    static func run(_ context: HuntContext, keyColumn: String, bucketSeconds: Int64?, distinct: Bool,
                    keep: (Group) -> Bool = { _ in true },
                    distinctKey: @escaping @Sendable (String) -> String? = { $0 }) throws -> [(key: Key, group: Group)] {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        let width = bucketSeconds.map { $0 * 1_000_000_000 }
        let counter = distinct ? DistinctCounter(spill: SpillDirectory(store: context.scan.store)) : nil
        let names = DistinctNames()
        let partials = try context.map(.inference) { table -> Partial in
            try scanSegment(table, context: context, patterns: patterns, keyColumn: keyColumn, width: width,
                            distinct: counter.map { ($0, names, distinctKey) })
        }
        let distinctCounts = try counter?.counts(groups: names.count).perGroup ?? []
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
        for partial in partials {
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
                var group = partial.groups[position]
                if distinct {
                    let id = Int(partial.distinctIDs[position])
                    group.distinct = id < distinctCounts.count ? distinctCounts[id] : 0
                }
                if let existing = index[key] {
                    merged[existing].merge(group)
                } else {
                    index[key] = merged.count
                    merged.append(group)
                    keys.append(key)
                }
            }
        }
        var result: [(key: Key, group: Group)] = []
        result.reserveCapacity(merged.count)
        for position in merged.indices {
            let group = merged[position]
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

    static func scanSegment(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String, width: Int64?,
                            distinct counting: (counter: DistinctCounter, names: DistinctNames, key: @Sendable (String) -> String?)?)
        throws -> Partial {
        let distinct = counting != nil
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let paths = try table.dictionary("path")
        let inputs = try table.hash128("input_hash")
        let pathMatches = endpointMatches(paths, patterns: patterns)
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
        // The flat table has one row per dictionary entry of the key column.
        let keyCount = keys.entryCount
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
        if let counting {
            // Each group's inputs are added to the counter under the number of its (distinct key, bucket).
            let distinctNames = counts.indices.map { index in
                counting.key(partial.names[Int(groupCode[index])]).map { DistinctNames.Name(name: $0, bucket: groupBucket[index]) }
            }
            var ids = counting.names.ids(for: distinctNames.compactMap { $0 }).makeIterator()
            partial.distinctIDs = distinctNames.map { name in name == nil ? UInt32.max : ids.next() ?? UInt32.max }
            // The counter finds the distinct ones; no sort here.
            var batch: [(group: UInt32, hash: Hash128)] = []
            batch.reserveCapacity(min(pairs.count, 1 << 16))
            for pair in pairs {
                let id = partial.distinctIDs[Int(pair.group)]
                guard id != UInt32.max else { continue }
                batch.append((id, pair.hash))
                if batch.count >= 1 << 16 {
                    counting.counter.add(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            counting.counter.add(batch)
        }
        return partial
    }
}

struct GroupHash {
    var group: Int32
    var hash: Hash128
}

