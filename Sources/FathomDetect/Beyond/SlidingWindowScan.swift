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

    /// Rows per slot (`EndpointAggregate.bucket(time, slide)`) of each value in `values`: the rows of
    /// the extraction rules (endpoint paths) with a time inside the hunt's range.
    ///
    /// - Complexity: O(rows) over the overlapping segments, spread over the scan's threads; each
    ///   segment's counts are added to the total as soon as it is done.
    package static func slotCounts(_ context: HuntContext, keyColumn: String, slide: Int64, values: Set<UInt32>,
                           patterns: [[UInt32]]) throws -> [UInt32: [Int64: Int64]] {
        try slotCounts(context, keys: [(keyColumn, values)], slide: slide, patterns: patterns)[0]
    }

    /// ``slotCounts(_:keyColumn:slide:values:patterns:)`` of several key columns (each with its
    /// values) from one scan: each segment is opened, and its times and paths read, once for all.
    package static func slotCounts(_ context: HuntContext, keys: [(column: String, values: Set<UInt32>)], slide: Int64,
                           patterns: [[UInt32]]) throws -> [[UInt32: [Int64: Int64]]] {
        let totals = keys.map { _ in SlotTotals() }
        guard keys.contains(where: { !$0.values.isEmpty }) else { return keys.map { _ in [:] } }
        _ = try context.map(.inference) { table -> Bool in
            for (index, key) in keys.enumerated() where !key.values.isEmpty {
                totals[index].add(try segmentCounts(table, context: context, keyColumn: key.column, slide: slide,
                                                    values: key.values, patterns: patterns))
            }
            return true
        }
        return totals.map(\.counts)
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
        for (code, id) in context.numbering(keyColumn).ids(of: keys, segment: table.record.path).enumerated() where values.contains(id) {
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
        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count where pathMatches[Int(pathSpan[row])] {
                        let value = dense[Int(keySpan[row])]
                        guard value >= 0 else { continue }
                        let time = timeSpan[row]
                        if time == Int64.min { continue }
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

    /// The running sum of the segments' counts.
    package final class SlotTotals: @unchecked Sendable {
        private let lock = NSLock()
        private var totals: [UInt32: [Int64: Int64]] = [:]

        package func add(_ part: [(UInt32, [(Int64, Int64)])]) {
            lock.lock()
            defer { lock.unlock() }
            for (name, pairs) in part {
                totals[name, default: [:]].reserveCapacity(pairs.count)
                for (slot, count) in pairs { totals[name, default: [:]][slot, default: 0] += count }
            }
        }

        package var counts: [UInt32: [Int64: Int64]] {
            lock.lock()
            defer { lock.unlock() }
            return totals
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
