import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// The scans behind `extraction.sliding-window`, kept small in memory: rows per (value, slot) as
/// plain counts, and the first and last row of a hit looked up afterwards, for the hits only.
///
/// Holding a group with its first and last row for every (value, 5-minute slot) cost about 400 MB
/// on a 4 GB week of gateway logs (a million groups); the counts alone are a few megabytes.
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
    /// scan (each segment is opened, and its times and paths read, once for all columns). Each
    /// value's slots ascending, values in ascending number.
    ///
    /// - Complexity: O(rows) over the overlapping segments, spread over the scan's threads; each
    ///   segment's counts are added to the total as soon as it is done.
    package static func slotRows(_ context: HuntContext, keys: [(column: String, values: Set<UInt32>)], slide: Int64,
                                 patterns: [[UInt32]]) throws -> [[SlotRow]] {
        try slotTotals(context, keys: keys, slide: slide, patterns: patterns).map { $0.rows() }
    }

    /// ``slotRows(_:keys:slide:patterns:)`` as the running sums, whose rows are read one value at a
    /// time (``SlotTotals/row(of:)``): every value's rows made at once were 12.6 MB on the 4 GB
    /// high-cardinality hunt, held beside the sums they came from.
    package static func slotTotals(_ context: HuntContext, keys: [(column: String, values: Set<UInt32>)], slide: Int64,
                                   patterns: [[UInt32]]) throws -> [SlotTotals] {
        guard keys.contains(where: { !$0.values.isEmpty }) else { return keys.map { _ in SlotTotals(values: [], span: nil) } }
        let span = try slotSpan(context, slide: slide)
        let totals = keys.map { SlotTotals(values: $0.values, span: span) }
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
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let paths = try table.dictionary("path")
        let pathMatches = EndpointAggregate.endpointMatches(paths, patterns: patterns)
        guard pathMatches.contains(true), let minTime = table.record.minTime, let maxTime = table.record.maxTime else { return [] }
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

    /// The running sum of the segments' counts: a dense table of values × slots when the hunt's
    /// slots are known and the table is small (16 MB at most), otherwise a map per value.
    package final class SlotTotals: @unchecked Sendable {
        private let lock = NSLock()
        /// Dense: the row of each value, the first slot and the slots per row.
        private let rowOfValue: [UInt32: Int]
        private let low: Int64
        private let width: Int
        private var dense: [Int64]
        /// Sparse: rows per slot per value (also the dense table's overflow, for a slot outside it).
        private var sparse: [UInt32: [Int64: Int64]] = [:]

        /// Cells of the dense table at most.
        package static let denseLimit = 1 << 21

        package init(values: Set<UInt32>, span: ClosedRange<Int64>?) {
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
        }

        package func add(_ part: [(UInt32, [(Int64, Int64)])]) {
            lock.lock()
            defer { lock.unlock() }
            for (name, pairs) in part {
                if let row = rowOfValue[name] {
                    let start = row * width
                    for (slot, count) in pairs {
                        let offset = slot - low
                        if offset >= 0, offset < Int64(width) {
                            dense[start + Int(offset)] += count
                        } else {
                            sparse[name, default: [:]][slot, default: 0] += count
                        }
                    }
                } else {
                    sparse[name, default: [:]].reserveCapacity(pairs.count)
                    for (slot, count) in pairs { sparse[name, default: [:]][slot, default: 0] += count }
                }
            }
        }

        /// Each value's slots with rows, ascending, values in ascending number.
        package func rows() -> [SlotRow] {
            values.compactMap { row(of: $0) }
        }

        /// The values that may have rows (those counted densely and those with sparse counts),
        /// ascending.
        package var values: [UInt32] {
            lock.lock()
            defer { lock.unlock() }
            return Set(rowOfValue.keys).union(sparse.keys).sorted()
        }

        /// `value`'s slots with rows, ascending; nil when it has none.
        package func row(of value: UInt32) -> SlotRow? {
            lock.lock()
            defer { lock.unlock() }
            var row = SlotRow(value: value, slots: [], counts: [])
            if let index = rowOfValue[value] {
                let start = index * width
                for offset in 0..<width where dense[start + offset] != 0 {
                    row.slots.append(low + Int64(offset))
                    row.counts.append(dense[start + offset])
                }
            }
            if let extra = sparse[value], !extra.isEmpty {
                var merged = Dictionary(uniqueKeysWithValues: zip(row.slots, row.counts))
                for (slot, count) in extra { merged[slot, default: 0] += count }
                row.slots = merged.keys.sorted()
                row.counts = row.slots.map { merged[$0] ?? 0 }
            }
            return row.slots.isEmpty ? nil : row
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
