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

    @Test func numbersAreTheValuesAsTextAcrossSegments() throws {
        let directory = TemporaryDirectory()
        var generator = SplitMix(seed: 20_261_203)
        // Many addresses (the table grows several times), shared between segments, plus values that
        // are not valid UTF-8 — two of which repair to the same text — and the empty value.
        let pool: [[UInt8]] = (0..<6_000).map { Array("10.\($0 / 256).\($0 % 256).7".utf8) }
            + [[0xFF], [0xFE], [0xC3, 0x28], Array("ok".utf8), []]
        let numbering = ValueNumbering(cacheLimit: 1 << 10)
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
        // 0xFF and 0xFE both read as U+FFFD: one value.
        #expect(reference["\u{FFFD}"] != nil)
        #expect(numbering.id(of: "192.0.2.1") == nil)
    }
}
