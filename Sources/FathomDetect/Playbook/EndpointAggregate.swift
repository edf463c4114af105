import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Group-by over inference rows on model endpoints: rows and distinct inputs per (key value, time
/// bucket). The engine behind `extraction.volume` and the beyond-playbook extraction rules.
package struct EndpointAggregate {
    package struct Key: Hashable, Sendable {
        package var value: String
        package var bucket: Int64
    }

    package struct CodeBucket: Hashable {
        package var code: UInt32
        package var bucket: Int64
    }

    /// A compact evidence reference: the archive path and member are shared strings, the time is
    /// formatted only when a hit is made.
    package struct RowRef: Sendable {
        package var archive: String
        package var member: String
        package var line: Int64
        package var time: Int64

        package var evidence: EvidenceRef {
            EvidenceRef(archive: archive, member: member, line: line, time: time == Int64.min ? nil : Timestamp(nanoseconds: time))
        }
    }

    /// Where a row is: its segment (numbered in catalog order) and row. 8 bytes, where a
    /// ``RowRef`` holds strings: groups keep these, and only the groups that become hits are
    /// turned into evidence (``Aggregation/evidence(_:)``).
    package struct RowAt: Sendable {
        package var segment: UInt32
        package var row: UInt32
    }

    package struct Group: Sendable {
        package var count: Int64 = 0
        /// Distinct non-null inputs (filled in after all segments are merged).
        package var distinct: Int64 = 0
        package var firstTime = Int64.max
        package var lastTime = Int64.min
        package var firstAt: RowAt
        package var lastAt: RowAt

        /// Adds a later segment's partial group (segments arrive in catalog order).
        package mutating func merge(_ other: Group) {
            count += other.count
            if other.firstTime < firstTime { firstTime = other.firstTime; firstAt = other.firstAt }
            if other.lastTime >= lastTime { lastTime = other.lastTime; lastAt = other.lastAt }
        }
    }

    /// The groups of a run, and the evidence of their rows.
    package struct Aggregation {
        package var groups: [(key: Key, group: Group)]
        package let evidence: RowEvidence

        /// The first and last row of each of `groups` as evidence, each segment read once.
        package func evidence(_ groups: [Group]) -> [(first: EvidenceRef, last: EvidenceRef)] {
            let refs = evidence.resolve(groups.flatMap { [$0.firstAt, $0.lastAt] })
            return groups.indices.map { (refs[2 * $0], refs[2 * $0 + 1]) }
        }
    }

    /// Evidence references of rows named by ``RowAt``: each segment asked for is opened once,
    /// read and let go (only the few groups that become hits are asked for).
    package struct RowEvidence {
        package let context: HuntContext
        package let records: [SegmentRecord]

        /// Each row's archive, member, line (0 when unknown) and time, as a hit cites it.
        package func resolve(_ rows: [RowAt]) -> [EvidenceRef] {
            var result = [EvidenceRef?](repeating: nil, count: rows.count)
            let bySegment = Dictionary(grouping: rows.indices, by: { rows[$0].segment })
            for segment in bySegment.keys.sorted() {
                let record = records[Int(segment)]
                let table = try? SegmentTable(record: record, path: context.scan.store.absolute(record.path))
                for index in bySegment[segment] ?? [] {
                    if let table {
                        result[index] = context.evidence(table, row: Int(rows[index].row), withTime: true)
                    } else {
                        let archive = context.archives[record.archiveID] ?? "archive \(record.archiveID)"
                        result[index] = EvidenceRef(archive: archive, member: "", line: 0)
                    }
                }
            }
            return result.map { $0 ?? EvidenceRef(archive: "", member: "", line: 0) }
        }
    }

    /// One segment's groups; group `i`'s distinct inputs are counted under `distinctIDs[i]`.
    package struct Partial: Sendable {
        /// The key column's dictionary entries of the segment, and each group's entry code and bucket.
        package var names: [String] = []
        package var codes: [UInt32] = []
        package var buckets: [Int64] = []
        package var groups: [Group] = []
        package var distinctIDs: [UInt32] = []
    }

    /// Numbers the (name, bucket) pairs distinct inputs are counted under, across segments and threads.
    package final class DistinctNames: @unchecked Sendable {
        package struct Name: Hashable {
            package var name: String
            package var bucket: Int64
        }

        private let lock = NSLock()
        private var ids: [Name: UInt32] = [:]

        package var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return ids.count
        }

        package func id(for name: Name) -> UInt32 {
            lock.lock()
            defer { lock.unlock() }
            if let id = ids[name] { return id }
            let id = UInt32(ids.count)
            ids[name] = id
            return id
        }
    }

    /// Floor division of a time by a bucket width (both in nanoseconds).
    @inline(__always)
    package static func bucket(_ time: Int64, _ width: Int64) -> Int64 {
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
    package static func run(_ context: HuntContext, keyColumn: String, bucketSeconds: Int64?, distinct: Bool,
                    keep: (Group) -> Bool = { _ in true },
                    distinctKey: @escaping @Sendable (String) -> String? = { $0 }) throws -> Aggregation {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        let width = bucketSeconds.map { $0 * 1_000_000_000 }
        let counter = distinct ? DistinctCounter(spill: SpillDirectory(store: context.scan.store)) : nil
        let names = DistinctNames()
        // Segments are numbered in catalog order, so a group's rows are 8-byte positions.
        let records = try context.scan.segments(.inference)
        let segmentIndex = Dictionary(records.enumerated().map { ($0.element.path, UInt32($0.offset)) },
                                      uniquingKeysWith: { first, _ in first })
        let partials = try context.map(.inference) { table -> Partial in
            try scanSegment(table, segment: segmentIndex[table.record.path] ?? 0, context: context, patterns: patterns,
                            keyColumn: keyColumn, width: width, distinct: counter.map { ($0, names, distinctKey) })
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
        return Aggregation(groups: result, evidence: RowEvidence(context: context, records: records))
    }

    /// Whether each entry of a segment's path dictionary contains one of the endpoint patterns.
    package static func endpointMatches(_ paths: DictionaryColumn, patterns: [[UInt32]]) -> [Bool] {
        (0..<paths.entryCount).map { code in
            let folded = FoldedText.folded(paths.entry(UInt32(code)))
            return patterns.contains { FoldedText.contains(folded, $0) }
        }
    }

    /// Rows per key value in one segment, counting exactly the rows ``scanSegment`` groups.
    package static func valueRows(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
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

    /// Pairs handed to the distinct counter at a time.
    package static let distinctBatch = 1 << 15

    package static func scanSegment(_ table: SegmentTable, segment: UInt32, context: HuntContext, patterns: [[UInt32]],
                            keyColumn: String, width: Int64?,
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
        // Each group's inputs go to the counter under the number of its (distinct key, bucket),
        // worked out when the group appears, in batches (not held for the whole segment).
        var distinctIDs: [UInt32] = []
        var batch: [(group: UInt32, hash: Hash128)] = []
        if distinct { batch.reserveCapacity(Self.distinctBatch) }
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
                            if let counting {
                                let name = counting.key(keys.entry(code).string)
                                distinctIDs.append(name.map { counting.names.id(for: DistinctNames.Name(name: $0, bucket: bucketValue)) }
                                                   ?? UInt32.max)
                            }
                        }
                        counts[index] += 1
                        if let counting, distinctIDs[index] != UInt32.max {
                            let hash = inputs[row]
                            if !hash.isNull {
                                batch.append((distinctIDs[index], hash))
                                if batch.count == Self.distinctBatch {
                                    counting.counter.add(batch)
                                    batch.removeAll(keepingCapacity: true)
                                }
                            }
                        }
                        if time < firstTime[index] { firstTime[index] = time; firstRow[index] = row }
                        if time >= lastTime[index] { lastTime[index] = time; lastRow[index] = row }
                    }
                }
            }
        }
        var partial = Partial()
        partial.groups.reserveCapacity(counts.count)
        partial.names = (0..<keys.entryCount).map { keys.entry(UInt32($0)).string }
        partial.codes = groupCode
        partial.buckets = groupBucket
        for index in counts.indices {
            partial.groups.append(Group(count: counts[index], firstTime: firstTime[index], lastTime: lastTime[index],
                                        firstAt: RowAt(segment: segment, row: UInt32(firstRow[index])),
                                        lastAt: RowAt(segment: segment, row: UInt32(lastRow[index]))))
        }
        if let counting {
            counting.counter.add(batch)
            partial.distinctIDs = distinctIDs
        }
        return partial
    }
}

