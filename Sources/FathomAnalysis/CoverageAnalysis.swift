import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Time coverage per source kind: first and last row, and the quiet stretches that are gaps by
/// the source's own cadence.
package enum CoverageAnalysis {
    package static let hour: Int64 = 3_600_000_000_000
    /// A quiet stretch is a gap when the chance of the source being that quiet by its own habits
    /// is below this (1 in 1,000).
    package static let gapChance = 0.001
    /// An hour slot is "normally active" when the source had rows in it on at least this share of
    /// the days observed.
    package static let activeShare = 0.5

    package static func coverage(scan: StoreScan) throws -> [SourceCoverage] {
        var result: [SourceCoverage] = []
        for kind in SourceKind.allCases {
            let parts: [[Int64: Int64]] = try scan.map(kind) { table in
                let time = try table.int64("time")
                return hourCounts(rows: table.rowCount) { time[$0] }
            }
            var hours: [Int64: Int64] = [:]
            for part in parts { for (key, count) in part { hours[key, default: 0] += count } }
            guard !hours.isEmpty else { continue }
            let rows = hours.values.reduce(0, +)
            let segments = try scan.segments(kind)
            let first = segments.compactMap(\.minTime).min()
            let last = segments.compactMap(\.maxTime).max()
            let judged = gaps(hours: hours)
            var coverage = SourceCoverage(kind: kind.rawValue, rows: rows, first: first.map(Timestamp.init(nanoseconds:)),
                                          last: last.map(Timestamp.init(nanoseconds:)), gaps: judged.gaps, clockSkewSeconds: nil)
            coverage.cadence = judged.cadence
            coverage.normalQuietStretches = judged.normalQuietStretches
            result.append(coverage)
        }
        return result
    }

    /// Rows per hour (start of the UTC hour → rows) of the `rows` times `time(0) ..< time(rows)`;
    /// `Int64.min` is no time.
    ///
    /// A segment's rows come mostly in time order: the run of rows in one hour is counted and the
    /// map touched once per run, not once per row (a week's millions of rows).
    @inline(__always)
    package static func hourCounts(rows: Int, time: (Int) -> Int64) -> [Int64: Int64] {
        var hours: [Int64: Int64] = [:]
        var runHour = Int64.min
        var runEnd = Int64.min
        var runRows: Int64 = 0
        for row in 0..<rows {
            let at = time(row)
            guard at != Int64.min else { continue }
            if at >= runHour, at < runEnd {
                runRows += 1
                continue
            }
            if runRows > 0 { hours[runHour, default: 0] += runRows }
            runHour = floorHour(at)
            // The hour's end, saturated: a time in the last hour before Int64.max is counted one
            // row at a time, still in its hour.
            let (end, overflow) = runHour.addingReportingOverflow(hour)
            runEnd = overflow ? Int64.max : end
            runRows = 1
        }
        if runRows > 0 { hours[runHour, default: 0] += runRows }
        return hours
    }

    /// The lowest hour index whose start is an Int64 of nanoseconds (the hour holding the earliest
    /// times starts before Int64.min: those times are counted in the hour after it).
    private static let lowestHourIndex = Int64.min / hour

    /// The start of the UTC hour holding `nanos`; for the few times in the hour that starts before
    /// `Int64.min` (year 1677), the start of the next hour. Never overflows: evidence times reach
    /// both ends of the range (years 1677 and 2262 parse).
    package static func floorHour(_ nanos: Int64) -> Int64 {
        max(floorDiv(nanos, hour), lowestHourIndex) * hour
    }

    /// The gaps of one source, judged against its own cadence.
    ///
    /// The source's habits are learnt from the data itself, per hour slot: the hour of the day
    /// (UTC), and the hour of the week when the data span two weeks or more (so that every slot is
    /// seen at least twice); with less than two days, one slot for all hours. For each slot: `p`,
    /// the share of the hours observed in it with at least one row, and `λ`, its mean rows per hour.
    /// A slot is *normally active* when `p ≥ 0.5`. An empty hour in a normally active slot happens
    /// anyway with probability `max(e^−λ, s)`: a Poisson hour with the slot's mean, or the source's
    /// skip rate `s` (empty hours among all the hours of its normally active slots, this stretch left
    /// out), whichever is likelier. A quiet stretch (maximal
    /// run of empty hours between the first and the last row) is a gap when the product of these
    /// chances over its hours is below 1 in 1,000; empty hours in slots that are normally quiet
    /// (a nightly pipeline's day) count for nothing, so a source's routine silences are never gaps,
    /// and a source with no normally active slot (event-driven: a registry) has none.
    ///
    /// - Parameter hours: hour start (nanoseconds, UTC) → rows in that hour.
    /// - Complexity: O(h log h + q × slots) for h hours with rows and q quiet stretches (plus the
    ///   hours of the stretches shorter than 65,536 hours).
    package static func gaps(hours: [Int64: Int64]) -> (gaps: [SourceCoverage.Gap], cadence: String, normalQuietStretches: Int) {
        // Hour indices, not nanoseconds: a log dated 1677 beside one dated 2262 spans more
        // nanoseconds than an Int64 holds, and the hour after 2262-04-11T23:00Z does not start in one.
        // The hours with rows, in order; the empty ones are counted, not visited (such a span has
        // five million of them).
        let busy = hours.filter { $0.value > 0 }.map { (index: floorDiv($0.key, hour), rows: $0.value) }
            .sorted { $0.index < $1.index }
        guard let first = busy.first?.index, let last = busy.last?.index else { return ([], "no rows", 0) }
        let span = last - first + 1
        let byWeek = span >= 14 * 24
        let isFlat = span < 48
        // An hour's slot is its index modulo the period, offset so the week starts on a Sunday
        // (1970-01-01, hour 0, was a Thursday: four days in).
        let slots = isFlat ? 1 : (byWeek ? 7 * 24 : 24)
        let offset: Int64 = byWeek ? 4 * 24 : 0
        func slot(_ hourIndex: Int64) -> Int { Int(floorMod(hourIndex + offset, Int64(slots))) }
        /// The hours of `lower ... upper` whose index is `residue` modulo `period`.
        func hoursAt(_ residue: Int64, period: Int64, _ lower: Int64, _ upper: Int64) -> Int64 {
            guard lower <= upper else { return 0 }
            return floorDiv(upper - residue, period) - floorDiv(lower - 1 - residue, period)
        }
        /// The hours of `lower ... upper` in each slot.
        func slotHours(_ lower: Int64, _ upper: Int64) -> [Int64] {
            (0..<slots).map { hoursAt(floorMod(Int64($0) - offset, Int64(slots)), period: Int64(slots), lower, upper) }
        }
        let observed = slotHours(first, last)
        var active = [Int64](repeating: 0, count: slots)
        var rowsBySlot = [Int64](repeating: 0, count: slots)
        let dayObserved = (0..<24).map { hoursAt(Int64($0), period: 24, first, last) }
        var dayActive = [Int64](repeating: 0, count: 24)
        for hour in busy {
            let slotIndex = slot(hour.index)
            active[slotIndex] += 1
            rowsBySlot[slotIndex] += hour.rows
            dayActive[Int(floorMod(hour.index, 24))] += 1
        }
        let share = (0..<slots).map { observed[$0] > 0 ? Double(active[$0]) / Double(observed[$0]) : 0 }
        let isActive = (0..<slots).map { share[$0] >= activeShare }
        let lambda = (0..<slots).map { observed[$0] > 0 ? Double(rowsBySlot[$0]) / Double(observed[$0]) : 0 }
        // Empty hours among all the hours of normally active slots: how often the source skips an
        // hour it is normally active in (pooled over the slots, so a few days of data suffice).
        var activeSlotHours: Int64 = 0
        var activeSlotEmpty: Int64 = 0
        for index in 0..<slots where isActive[index] {
            activeSlotHours += observed[index]
            activeSlotEmpty += observed[index] - active[index]
        }
        var gaps: [SourceCoverage.Gap] = []
        var normal = 0
        // Each quiet stretch: the empty hours between two hours with rows.
        for (before, after) in zip(busy, busy.dropFirst()) where after.index - before.index > 1 {
            let cursor = before.index + 1
            let end = after.index - 1
            let perSlot = slotHours(cursor, end)
            var activeHours = 0
            for index in 0..<slots where isActive[index] { activeHours += Int(perSlot[index]) }
            // The skip rate without this stretch, so the stretch does not excuse itself.
            let others = activeSlotHours - Int64(activeHours)
            let skipRate = others > 0 ? Double(activeSlotEmpty - Int64(activeHours)) / Double(others) : 1
            func chance(_ slotIndex: Int) -> Double { log(max(exp(-lambda[slotIndex]), skipRate, 1e-12)) }
            var logChance = 0.0
            if end - cursor < 1 << 16 {
                // Hour by hour, in order (the sum the reports have always shown).
                var index = cursor
                while index <= end {
                    let slotIndex = slot(index)
                    if isActive[slotIndex] { logChance += chance(slotIndex) }
                    index += 1
                }
            } else {
                // Longer than seven years of hours: slot by slot.
                for index in 0..<slots where isActive[index] { logChance += Double(perSlot[index]) * chance(index) }
            }
            if logChance < log(gapChance) {
                gaps.append(.init(start: Timestamp(nanoseconds: cursor * hour), end: Timestamp(nanoseconds: (end + 1) * hour),
                                  hours: Double(end - cursor + 1), normallyActiveHours: activeHours, chance: exp(logChance)))
            } else {
                normal += 1
            }
        }
        return (gaps, cadence(isFlat: isFlat, byWeek: byWeek, dayObserved: dayObserved, dayActive: dayActive, anyActive: isActive.contains(true)), normal)
    }

    /// The source's normal activity in words, by hour of the day.
    package static func cadence(isFlat: Bool, byWeek: Bool, dayObserved: [Int64], dayActive: [Int64], anyActive: Bool) -> String {
        guard anyActive else { return "no hour with activity on most days (event-driven): quiet stretches are not gaps" }
        if isFlat { return "less than two days of data: every hour taken as normally active" }
        let activeHours = (0..<24).map { dayObserved[$0] > 0 && Double(dayActive[$0]) / Double(dayObserved[$0]) >= activeShare }
        let basis = byWeek ? " (judged per hour of the week)" : " (judged per hour of the day)"
        if activeHours.allSatisfy({ $0 }) { return "active around the clock" + basis }
        var ranges: [String] = []
        var hourOfDay = 0
        while hourOfDay < 24 {
            guard activeHours[hourOfDay] else {
                hourOfDay += 1
                continue
            }
            var last = hourOfDay
            while last + 1 < 24, activeHours[last + 1] { last += 1 }
            ranges.append(twoDigits(hourOfDay) + ":00–" + twoDigits(last) + ":59")
            hourOfDay = last + 1
        }
        if ranges.isEmpty { return "active on most days only at some hours of the week" + basis }
        return "normally active " + ranges.joined(separator: ", ") + " UTC" + basis
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0" + String(value) : String(value) }
    /// `a / b` rounded down (`b > 0`), for every `a`.
    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return a % b < 0 ? quotient - 1 : quotient
    }

    /// `a` modulo `b` in `0 ..< b` (`b > 0`), for every `a`.
    private static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
        let remainder = a % b
        return remainder < 0 ? remainder + b : remainder
    }

    /// Rows each model answered, per source kind with a `model` column (inference, llm,
    /// predictions): whether a model served traffic, from the logs.
    package static func modelTraffic(scan: StoreScan) throws -> [ModelTraffic] {
        var result: [ModelTraffic] = []
        for kind in [SourceKind.inference, .llm, .predictions] {
            let parts: [[String: (rows: Int64, first: Int64, last: Int64)]] = try scan.map(kind) { table in
                guard table.has("model") else { return [:] }
                let time = try table.int64("time")
                let models = try table.dictionary("model")
                var counts = [(rows: Int64, first: Int64, last: Int64)](repeating: (0, .max, .min), count: models.entryCount)
                for row in 0..<table.rowCount {
                    let code = Int(models.code(at: row))
                    counts[code].rows += 1
                    let at = time[row]
                    if at != Int64.min {
                        counts[code].first = min(counts[code].first, at)
                        counts[code].last = max(counts[code].last, at)
                    }
                }
                var named: [String: (rows: Int64, first: Int64, last: Int64)] = [:]
                for code in 0..<models.entryCount where counts[code].rows > 0 {
                    let name = models.entry(UInt32(code)).string
                    guard !name.isEmpty else { continue }
                    let previous = named[name] ?? (0, .max, .min)
                    named[name] = (previous.rows + counts[code].rows, min(previous.first, counts[code].first), max(previous.last, counts[code].last))
                }
                return named
            }
            var merged: [String: (rows: Int64, first: Int64, last: Int64)] = [:]
            for part in parts {
                for (name, count) in part {
                    let previous = merged[name] ?? (0, .max, .min)
                    merged[name] = (previous.rows + count.rows, min(previous.first, count.first), max(previous.last, count.last))
                }
            }
            for name in merged.keys.sorted() {
                guard let count = merged[name] else { continue }
                result.append(ModelTraffic(model: name, kind: kind.rawValue, rows: count.rows,
                                           first: count.first == .max ? nil : Timestamp(nanoseconds: count.first),
                                           last: count.last == .min ? nil : Timestamp(nanoseconds: count.last)))
            }
        }
        return result
    }
}

/// The inputs as the evidence report lists them.
package enum InputSummary {
    /// The complete archives, or with a range those holding data in `[from, to)` and those
    /// without times (whole-file inputs such as SBOMs and unreadable files).
    package static func archives(catalog: Catalog, in range: (from: Int64, to: Int64)?) throws -> [ArchiveRecord] {
        let all = try catalog.archives()
        guard let range else { return all }
        return all.filter { archive in
            guard let first = archive.firstTime, let last = archive.lastTime else { return true }
            return first < range.to && last >= range.from
        }
    }

    package static func inputs(catalog: Catalog, in range: (from: Int64, to: Int64)? = nil) throws -> [InputArchive] {
        try archives(catalog: catalog, in: range).map { archive in
            let members = try catalog.members(archiveID: archive.id).map {
                InputArchive.Member(name: $0.name, format: $0.format, kind: $0.kind, rows: $0.rows, rejected: $0.rejected,
                                    note: $0.note, lostBytes: $0.lostBytes > 0 ? $0.lostBytes : nil,
                                    lostRecords: $0.lostBytes > 0 ? $0.lostRecords : nil)
            }
            let samples = try catalog.rejectSamples(archiveID: archive.id).map {
                InputArchive.Reject(member: $0.member, line: $0.line, reason: $0.reason,
                                    sample: SecretMask.mask(String(decoding: $0.sample, as: UTF8.self)))
            }
            return InputArchive(path: archive.path, size: archive.size, sha256: archive.sha256,
                                compression: archive.compression, container: archive.container,
                                formats: archive.formats.split(separator: ",").map(String.init),
                                kinds: archive.kinds.split(separator: ",").map(String.init), rows: archive.rows,
                                rejected: archive.rejected, firstTime: archive.firstTime.map(Timestamp.init(nanoseconds:)),
                                lastTime: archive.lastTime.map(Timestamp.init(nanoseconds:)), members: members,
                                rejectReasons: try catalog.rejectReasons(archiveID: archive.id), rejectSamples: samples,
                                lostRecords: archive.lostBytes > 0 ? archive.lostRecords : nil)
        }
    }

    /// The combined hash of every input: SHA-256 over the inputs' SHA-256s (archives, case file,
    /// inventories), each as 64 lowercase hex digits followed by a line feed, sorted bytewise, with
    /// duplicates kept. The same as `sha256sum FILES | cut -c1-64 | LC_ALL=C sort | sha256sum`.
    package static func inputsHash(_ inputs: [InputArchive], supporting: [SupportingInput] = []) -> String {
        var hasher = SHA256Stream()
        let hashes = (inputs.map(\.sha256) + supporting.map(\.sha256)).map { $0.lowercased() }
        for sha in hashes.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            (sha + "\n").withByteView { hasher.update($0) }
        }
        return hasher.finalize()
    }
}
