import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// The scans behind `extraction.sliding-window`, kept small in memory: rows per (value, slot) as
/// plain counts, and the first and last row of a hit looked up afterwards, for the hits only.
///
/// Holding a group with its first and last row for every (value, 5-minute slot) cost about 400 MB
/// on a 4 GB week of gateway logs (a million groups). The counts are radix-partitioned and spill
/// beyond the hunt's grouping budget (``SlotTotals``), so memory stays flat as the evidence grows.
package enum SlidingWindowScan {
    package typealias RowRef = EndpointAggregate.RowRef

    /// One value's rows per slot: its slots with rows, ascending, and their counts.
    package struct SlotRow: Sendable {
        package var value: UInt32
        package var slots: [Int64]
        package var counts: [Int64]
    }

    /// Rows per slot (`EndpointAggregate.bucket(time, slide)`) of each key column's values: the
    /// rows of the extraction rules (endpoint paths) with a time inside the hunt's range, from one
    /// scan (each segment is opened, and its times and paths read, once for all columns). Read back
    /// value by value with ``SlotTotals/forEachRow(_:)``.
    ///
    /// - Complexity: O(rows) over the overlapping segments, spread over the scan's threads; each
    ///   segment's counts are handed to the totals' partitions as soon as it is done. Memory: the
    ///   hunt's grouping budget (half of it, shared by the columns), then the partitions spill.
    package static func slotTotals(_ context: HuntContext, keys: [(column: String, values: Set<UInt32>)], slide: Int64,
                                   patterns: [[UInt32]]) throws -> [SlotTotals] {
        let spill = SpillDirectory(store: context.scan.store)
        let budget = context.memoryBudget / 4 / max(1, keys.count)
        guard keys.contains(where: { !$0.values.isEmpty }) else {
            return keys.map { SlotTotals(values: [], span: nil, budget: budget, spill: spill, name: "slots-" + $0.column) }
        }
        let span = try slotSpan(context, slide: slide)
        let totals = keys.map { SlotTotals(values: $0.values, span: span, budget: budget, spill: spill, name: "slots-" + $0.column) }
        _ = try context.map(.inference) { table -> Bool in
            for (index, key) in keys.enumerated() where !key.values.isEmpty {
                totals[index].add(try segmentCounts(table, context: context, keyColumn: key.column, slide: slide,
                                                    values: key.values, patterns: patterns))
            }
            return true
        }
        return totals
    }

    /// The slots `[low, high]` the scanned rows can fall in: those of the inference segments that
    /// overlap the hunt's range, narrowed to the range (nil without segments with a time).
    static func slotSpan(_ context: HuntContext, slide: Int64) throws -> ClosedRange<Int64>? {
        let to = context.to.map { $0 == Int64.min ? $0 : $0 - 1 }
        let records = try context.scan.segments(.inference, from: context.from, to: to)
        guard var low = records.compactMap(\.minTime).min(), var high = records.compactMap(\.maxTime).max() else {
            return nil
        }
        if let from = context.from { low = max(low, from) }
        if let to { high = min(high, to) }
        guard low <= high else { return nil }
        return EndpointAggregate.bucket(low, slide)...EndpointAggregate.bucket(high, slide)
    }

    /// One segment's non-zero counts per value: (slot, rows) pairs.
    package static func segmentCounts(_ table: SegmentTable, context: HuntContext, keyColumn: String, slide: Int64,
                              values: Set<UInt32>, patterns: [[UInt32]]) throws -> [(UInt32, [(Int64, Int64)])] {
        // The key column first: most segments hold none of the few candidate values, and their
        // times and paths are then not read at all.
        let keys = try table.dictionary(keyColumn)
        guard let minTime = table.record.minTime, let maxTime = table.record.maxTime else { return [] }
        var names: [UInt32] = []
        var dense = [Int32](repeating: -1, count: keys.entryCount)
        // Entries that read the same as text share a value number, and so a dense index.
        var denseOfValue: [UInt32: Int32] = [:]
        let wanted = NumberSet(values)
        for (code, id) in context.numbering(keyColumn).ids(of: keys, segment: table.record.path).enumerated() where wanted.contains(id) {
            if let known = denseOfValue[id] {
                dense[code] = known
            } else {
                dense[code] = Int32(names.count)
                denseOfValue[id] = Int32(names.count)
                names.append(id)
            }
        }
        guard !names.isEmpty else { return [] }
        let paths = try table.dictionary("path")
        let pathMatches = EndpointAggregate.endpointMatches(paths, patterns: patterns)
        guard pathMatches.contains(true) else { return [] }
        let times = try table.int64("time")
        let checkRange = !context.coversAll(table)
        let segmentPath = table.record.path
        let base = EndpointAggregate.bucket(minTime, slide)
        let span = EndpointAggregate.bucket(maxTime, slide) - base + 1
        // A flat table over the segment's slots when it is small; a hash map when the segment spans
        // a long time sparsely.
        let cells = names.count.multipliedReportingOverflow(by: Int(clamping: span))
        let flat = span > 0 && !cells.overflow && cells.partialValue <= 1 << 21
        var table = [Int64](repeating: 0, count: flat ? cells.partialValue : 0)
        struct Cell: Hashable {
            var value: Int32
            var slot: Int64
        }
        var sparse: [Cell: Int64] = [:]
        let width = Int(clamping: span)
        // The flat table is laid out over the segment's range: a row outside it is corrupt data.
        var outsideRange: Int64?
        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count where pathMatches[Int(pathSpan[row])] {
                        let value = dense[Int(keySpan[row])]
                        guard value >= 0 else { continue }
                        let time = timeSpan[row]
                        if time == Int64.min { continue }
                        if time < minTime || time > maxTime {
                            outsideRange = time
                            break
                        }
                        if checkRange, !context.includes(time) { continue }
                        let slot = EndpointAggregate.bucket(time, slide)
                        if flat {
                            table[Int(value) * width + Int(slot - base)] += 1
                        } else {
                            sparse[Cell(value: value, slot: slot), default: 0] += 1
                        }
                    }
                }
            }
        }
        if let outsideRange {
            throw StoreError.corrupt(path: segmentPath, offset: 0,
                                     detail: "a row's time (\(outsideRange) ns) lies outside the segment's range \(minTime)...\(maxTime)")
        }
        var result: [(UInt32, [(Int64, Int64)])] = []
        if flat {
            for (index, name) in names.enumerated() {
                var pairs: [(Int64, Int64)] = []
                for offset in 0..<width where table[index * width + offset] > 0 {
                    pairs.append((base + Int64(offset), table[index * width + offset]))
                }
                if !pairs.isEmpty { result.append((name, pairs)) }
            }
        } else {
            var byValue: [Int32: [(Int64, Int64)]] = [:]
            for (cell, count) in sparse { byValue[cell.value, default: []].append((cell.slot, count)) }
            for (value, pairs) in byValue { result.append((names[Int(value)], pairs)) }
        }
        return result
    }

    /// The running sum of the segments' counts per (value, slot): in a dense table of values × slots
    /// when the candidate values and the hunt's slots are few (at most ``denseLimit`` cells), and
    /// otherwise radix-partitioned by value: each segment's non-zero counts go to the partition of
    /// their value (the top bits of its hash) as 16-byte cells, kept in memory up to a budget and
    /// spilled to the store's `tmp/` beyond it; they are read back one partition at a time and
    /// summed value by value. Either way memory is bounded, however large the evidence.
    ///
    /// A map per value behind the dense table held every candidate's slots at once and grew with
    /// the evidence: 52 MB of a 73 MB peak on the 8 GB high-cardinality hunt (the values over the
    /// threshold in all, thousands of addresses and principals, times a week of 5-minute slots).
    package final class SlotTotals: @unchecked Sendable {
        /// One segment's rows of one value in one slot (16 bytes; a segment's rows in one slot
        /// beyond `UInt32.max` would take more than one cell).
        package struct Cell: BitwiseCopyable {
            var slot: Int64
            var value: UInt32
            var count: UInt32
        }

        /// Cells of the dense table at most (2 MB of counts). At 8 MB the table was full only in
        /// the larger sets of evidence (the candidates grow with it): 9 MB of the analysis' peak
        /// heap at 4 GB of the high-cardinality benchmark, none at 1 GB.
        package static let denseLimit = 1 << 18

        private let lock = NSLock()
        /// Dense: the row of each value, the first slot and the slots per row.
        private let rowOfValue: [UInt32: Int]
        private let low: Int64
        private let width: Int
        private var dense: [Int64]
        /// The cells the dense table does not hold (all of them without one).
        private let parts: PartitionedSpill<Cell>

        /// - Parameters:
        ///   - values: the candidate values (the dense table's rows).
        ///   - span: the slots rows can fall in (the dense table's columns); nil: no dense table.
        ///   - budget: bytes of partitioned cells kept in memory before the partitions spill.
        ///   - partitionBits: the partitions are `1 << partitionBits`.
        package init(values: Set<UInt32>, span: ClosedRange<Int64>?, budget: Int, spill: SpillDirectory, name: String,
                     partitionBits: Int = EndpointAggregate.partitionBits) {
            let slots = span.map { $0.upperBound - $0.lowerBound + 1 } ?? 0
            let (cells, overflow) = Int(clamping: slots).multipliedReportingOverflow(by: values.count)
            if let span, slots > 0, slots < Int64(Self.denseLimit), !overflow, cells <= Self.denseLimit {
                rowOfValue = Dictionary(uniqueKeysWithValues: values.sorted().enumerated().map { ($0.element, $0.offset) })
                low = span.lowerBound
                width = Int(slots)
                dense = [Int64](repeating: 0, count: cells)
            } else {
                rowOfValue = [:]
                low = 0
                width = 0
                dense = []
            }
            parts = PartitionedSpill(partitions: 1 << partitionBits, budget: budget, spill: spill, name: name)
        }

        /// Whether the counts are kept in a dense table (for tests).
        package var isDense: Bool { width > 0 }

        /// Whether any cell went to disk (for tests).
        package var didSpill: Bool { parts.didSpill }

        /// The partition of `value`: the top bits of a multiplicative hash, so neighbouring numbers
        /// (values numbered as they are first met) spread over all partitions.
        @inline(__always)
        private static func partition(of value: UInt32, count: Int) -> Int {
            Int(truncatingIfNeeded: (UInt64(value) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - count.trailingZeroBitCount))
        }

        /// Adds one segment's counts (``SlidingWindowScan/segmentCounts(_:context:keyColumn:slide:values:patterns:)``),
        /// from any thread.
        package func add(_ part: [(UInt32, [(Int64, Int64)])]) {
            var batch: [Cell] = []
            do {
                lock.lock()
                defer { lock.unlock() }
                for (value, pairs) in part {
                    let row = rowOfValue[value]
                    for (slot, count) in pairs {
                        if let row, slot >= low, slot - low < Int64(width) {
                            dense[row * width + Int(slot - low)] += count
                            continue
                        }
                        var rest = count
                        while rest > 0 {
                            let taken = UInt32(clamping: rest)
                            batch.append(Cell(slot: slot, value: value, count: taken))
                            rest -= Int64(taken)
                        }
                    }
                }
            }
            guard !batch.isEmpty else { return }
            let count = parts.partitionCount
            parts.add(&batch) { Self.partition(of: $0.value, count: count) }
        }

        /// Calls `body` with each value's slots with rows (ascending, a slot's counts summed over the
        /// segments), partition by partition and, within one, in ascending value number; a value
        /// is handed over once. Each partition's cells are taken (the spilled ones read back, the
        /// dense table's rows of its values added) and released before the next; the partitions are
        /// empty afterwards. Throws the first spill error.
        ///
        /// - Complexity: O(cells) to group a partition's cells by value (a counting sort); a value's
        ///   cells are sorted by slot only when its segments' parts overlap in time.
        package func forEachRow(_ body: (SlotRow) throws -> Void) throws {
            // The place of each value among the partition's values, by value number (-1: none);
            // grown as larger numbers come, and reset after each partition for the values it had.
            var placeOfValue: [Int32] = []
            // The dense table's values by partition, so that each joins its partitioned cells.
            var denseByPartition = [[UInt32]](repeating: [], count: parts.partitionCount)
            for value in rowOfValue.keys.sorted() {
                denseByPartition[Self.partition(of: value, count: parts.partitionCount)].append(value)
            }
            for partition in 0..<parts.partitionCount {
                var cells = try parts.take(partition)
                for value in denseByPartition[partition] {
                    guard let row = rowOfValue[value] else { continue }
                    for offset in 0..<width where dense[row * width + offset] != 0 {
                        var rest = dense[row * width + offset]
                        while rest > 0 {
                            let taken = UInt32(clamping: rest)
                            cells.append(Cell(slot: low + Int64(offset), value: value, count: taken))
                            rest -= Int64(taken)
                        }
                    }
                }
                guard !cells.isEmpty else { continue }
                var values: [UInt32] = []
                var starts: [Int] = []
                for cell in cells {
                    let number = Int(cell.value)
                    if number >= placeOfValue.count {
                        placeOfValue.append(contentsOf: repeatElement(-1, count: number + 1 - placeOfValue.count))
                    }
                    if placeOfValue[number] < 0 {
                        placeOfValue[number] = Int32(values.count)
                        values.append(cell.value)
                        starts.append(0)
                    }
                    starts[Int(placeOfValue[number])] += 1
                }
                // Counts to starts, then each value's cells placed in arrival order.
                var total = 0
                for place in starts.indices {
                    let count = starts[place]
                    starts[place] = total
                    total += count
                }
                starts.append(total)
                var next = starts
                var slots = [Int64](repeating: 0, count: cells.count)
                var counts = [Int64](repeating: 0, count: cells.count)
                for cell in cells {
                    let place = Int(placeOfValue[Int(cell.value)])
                    slots[next[place]] = cell.slot
                    counts[next[place]] = Int64(cell.count)
                    next[place] += 1
                }
                for place in values.indices.sorted(by: { values[$0] < values[$1] }) {
                    try body(Self.row(values[place], slots: slots[starts[place]..<starts[place + 1]],
                                  counts: counts[starts[place]..<starts[place + 1]]))
                }
                for value in values { placeOfValue[Int(value)] = -1 }
            }
        }

        /// One value's cells as a ``SlotRow``: slots ascending, equal ones summed.
        private static func row(_ value: UInt32, slots: ArraySlice<Int64>, counts: ArraySlice<Int64>) -> SlotRow {
            var pairs = Array(zip(slots, counts))
            // Each segment's part is ascending; parts of segments that overlap in time interleave.
            if !zip(pairs, pairs.dropFirst()).allSatisfy({ $0.0 < $1.0 }) { pairs.sort { $0.0 < $1.0 } }
            var row = SlotRow(value: value, slots: [], counts: [])
            row.slots.reserveCapacity(pairs.count)
            row.counts.reserveCapacity(pairs.count)
            for (slot, count) in pairs {
                if row.slots.last == slot {
                    row.counts[row.counts.count - 1] += count
                } else {
                    row.slots.append(slot)
                    row.counts.append(count)
                }
            }
            return row
        }
    }

    /// A stretch of slots `[start, end)` of one value whose first and last row are wanted.
    package struct Span: Sendable {
        package var value: String
        package var start: Int64
        package var end: Int64
    }

    /// The earliest and the latest row inside each span (rows as `slotCounts` counts them), or nil
    /// for a span without rows. Ties in time go to the earlier row (segments in catalog order, rows
    /// in file order) for the first and to the later row for the last. Spans of one value must not
    /// overlap.
    package static func edges(_ context: HuntContext, keyColumn: String, slide: Int64, spans: [Span],
                      patterns: [[UInt32]]) throws -> [(first: (Int64, RowRef), last: (Int64, RowRef))?] {
        guard !spans.isEmpty else { return [] }
        let numbering = context.numbering(keyColumn)
        var indices: [UInt32: [Int]] = [:]
        for (index, span) in spans.enumerated() {
            guard let id = numbering.id(of: span.value) else { continue }
            indices[id, default: []].append(index)
        }
        let byValue = indices
        let low = spans.map(\.start).min() ?? 0
        let high = spans.map(\.end).max() ?? 0
        typealias Edge = (firstTime: Int64, first: RowRef, lastTime: Int64, last: RowRef)
        let parts: [[Int: Edge]] = try context.map(.inference) { table in
            guard let minTime = table.record.minTime, let maxTime = table.record.maxTime,
                  EndpointAggregate.bucket(maxTime, slide) >= low, EndpointAggregate.bucket(minTime, slide) < high
            else { return [:] }
            let times = try table.int64("time")
            let keys = try table.dictionary(keyColumn)
            let paths = try table.dictionary("path")
            let pathMatches = EndpointAggregate.endpointMatches(paths, patterns: patterns)
            var wanted = [[Int]?](repeating: nil, count: keys.entryCount)
            for (code, id) in numbering.ids(of: keys, segment: table.record.path).enumerated() { wanted[code] = byValue[id] }
            let checkRange = !context.coversAll(table)
            var firstRow: [Int: (Int64, Int)] = [:]
            var lastRow: [Int: (Int64, Int)] = [:]
            times.withSpan { timeSpan in
                keys.withCodeSpan { keySpan in
                    paths.withCodeSpan { pathSpan in
                        for row in 0..<timeSpan.count where pathMatches[Int(pathSpan[row])] {
                            guard let candidates = wanted[Int(keySpan[row])] else { continue }
                            let time = timeSpan[row]
                            if time == Int64.min { continue }
                            if checkRange, !context.includes(time) { continue }
                            let slot = EndpointAggregate.bucket(time, slide)
                            guard let index = candidates.first(where: { spans[$0].start <= slot && slot < spans[$0].end }) else {
                                continue
                            }
                            if firstRow[index].map({ time < $0.0 }) ?? true { firstRow[index] = (time, row) }
                            if lastRow[index].map({ time >= $0.0 }) ?? true { lastRow[index] = (time, row) }
                        }
                    }
                }
            }
            guard !firstRow.isEmpty else { return [:] }
            let archive = context.archives[table.record.archiveID] ?? "archive \(table.record.archiveID)"
            let members = try table.dictionary("member")
            let lines = try table.int64("line")
            func ref(_ row: Int, _ time: Int64) -> RowRef {
                let line = lines[row]
                return RowRef(archive: archive, member: members.string(at: row), line: line == Int64.min ? 0 : line, time: time)
            }
            var edges: [Int: Edge] = [:]
            for (index, first) in firstRow {
                guard let last = lastRow[index] else { continue }
                edges[index] = (first.0, ref(first.1, first.0), last.0, ref(last.1, last.0))
            }
            return edges
        }
        var result = [(first: (Int64, RowRef), last: (Int64, RowRef))?](repeating: nil, count: spans.count)
        for part in parts {
            for (index, edge) in part {
                if let known = result[index] {
                    let first = edge.firstTime < known.first.0 ? (edge.firstTime, edge.first) : known.first
                    let last = edge.lastTime >= known.last.0 ? (edge.lastTime, edge.last) : known.last
                    result[index] = (first, last)
                } else {
                    result[index] = ((edge.firstTime, edge.first), (edge.lastTime, edge.last))
                }
            }
        }
        return result
    }
}
