import Foundation
import Synchronization
import Testing
import FathomStore

/// ``ValueNumbering`` against the grouping it replaces: values keyed by `String` (invalid UTF-8
/// repaired), across segments whose dictionaries hold overlapping values in different orders.
@Suite struct ValueNumberingTests {
    /// Writes one dictionary column holding `values` (one row each) and reads its dictionary back.
    func dictionary(_ values: [[UInt8]], in directory: TemporaryDirectory, name: String) throws -> DictionaryColumn {
        let columns = [ColumnSpec(name: "time", type: .int64), ColumnSpec(name: "src_ip", type: .dictionary)]
        let rows: [[Cell?]] = values.enumerated().map { [.int(Int64($0.offset)), .bytes($0.element)] }
        try writeSegment(directory.file(name), columns: columns, rows: rows)
        return try SegmentReader(path: directory.file(name)).dictionary(1)
    }

    /// Where a numbering keeps the entry numbers of the segments it looked up.
    enum Cache: CaseIterable, Sendable {
        /// In memory, a kilobyte of them (most segments are numbered again when asked again).
        case memory
        /// In a scratch file.
        case spilled
        /// A spill folder that cannot be written, then a writable one.
        case secondFolder
        /// Only a spill folder that cannot be written: in memory.
        case unwritable
    }

    func numbering(_ cache: Cache, in directory: TemporaryDirectory) -> ValueNumbering {
        let unwritable = SpillDirectory(root: "/proc/fathom-cannot-write-here")
        switch cache {
        case .memory: return ValueNumbering(cacheLimit: 1 << 10)
        case .spilled: return ValueNumbering(cacheLimit: 1 << 10, spills: [SpillDirectory(root: directory.file("tmp"))])
        case .secondFolder: return ValueNumbering(cacheLimit: 1 << 10, spills: [unwritable, SpillDirectory(root: directory.file("tmp"))])
        case .unwritable: return ValueNumbering(cacheLimit: 1 << 20, spills: [unwritable])
        }
    }

    @Test(arguments: Cache.allCases)
    func numbersAreTheValuesAsTextAcrossSegments(cache: Cache) throws {
        let directory = TemporaryDirectory()
        var generator = SplitMix(seed: 20_261_203)
        // Many addresses (the table grows several times), shared between segments, plus values that
        // are not valid UTF-8 — two of which repair to the same text — and the empty value.
        let pool: [[UInt8]] = (0..<6_000).map { Array("10.\($0 / 256).\($0 % 256).7".utf8) }
            + [[0xFF], [0xFE], [0xC3, 0x28], Array("ok".utf8), []]
        let numbering = numbering(cache, in: directory)
        var reference: [String: UInt32] = [:]
        for segment in 0..<5 {
            let values = (0..<3_000).map { _ in pool.randomElement(using: &generator) ?? [] }
            let column = try dictionary(values, in: directory, name: "s\(segment).seg")
            let ids = numbering.ids(of: column, segment: "s\(segment)")
            #expect(ids.count == column.entryCount)
            // Asked again: the same numbers, from the cache or not.
            #expect(numbering.ids(of: column, segment: "s\(segment)") == ids)
            for code in 0..<column.entryCount {
                let text = column.entry(UInt32(code)).string
                if let known = reference[text] {
                    #expect(ids[code] == known, "\(text) numbered twice")
                } else {
                    #expect(!reference.values.contains(ids[code]), "two texts share \(ids[code])")
                    reference[text] = ids[code]
                }
                #expect(numbering.name(ids[code]) == text)
                #expect(numbering.id(of: text) == ids[code])
                #expect(numbering.isEmpty(ids[code]) == text.isEmpty)
            }
        }
        #expect(numbering.count == reference.count)
        // Each segment asked again above came from where the cache keeps it.
        let (spilled, held) = numbering.cachedSegments
        switch cache {
        case .memory: #expect(spilled == 0 && held == 0)
        case .spilled, .secondFolder: #expect(spilled == 5 && held == 0)
        case .unwritable: #expect(spilled == 0 && held == 5)
        }
        // 0xFF and 0xFE both read as U+FFFD: one value.
        #expect(reference["\u{FFFD}"] != nil)
        #expect(numbering.id(of: "192.0.2.1") == nil)
    }

    /// Segments numbered from several threads at once, each asked for several times (as the rules
    /// of a hunt ask): every answer is the segment's first, whether read back from the scratch file
    /// or numbered again.
    @Test(arguments: [Cache.spilled, Cache.memory])
    func segmentsAskedForFromManyThreadsReadBackTheirOwnNumbers(cache: Cache) throws {
        let directory = TemporaryDirectory()
        var generator = SplitMix(seed: 20_261_206)
        let pool: [[UInt8]] = (0..<20_000).map { Array("user-\($0 * 7_919 % 20_000)".utf8) }
        let columns = try (0..<12).map { segment in
            try dictionary((0..<2_000 + segment * 97).map { _ in pool.randomElement(using: &generator) ?? [] },
                           in: directory, name: "t\(segment).seg")
        }
        let numbering = numbering(cache, in: directory)
        let first = columns.enumerated().map { numbering.ids(of: $0.element, segment: "t\($0.offset)") }
        let answers = Mutex<[[UInt32]?]>(Array(repeating: nil, count: columns.count * 8))
        DispatchQueue.concurrentPerform(iterations: columns.count * 8) { index in
            let segment = index % columns.count
            let ids = numbering.ids(of: columns[segment], segment: "t\(segment)")
            answers.withLock { $0[index] = ids }
        }
        for (index, ids) in answers.withLock({ $0 }).enumerated() {
            #expect(ids == first[index % columns.count], "segment \(index % columns.count)")
        }
        if cache == .spilled { #expect(numbering.cachedSegments.spilled == columns.count) }
    }
}
