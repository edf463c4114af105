import FathomStore
import FathomSupport
import FathomCatalog

package enum LLMHits {
    /// A rule's decision on one text: its metrics, or nil for no hit.
    package typealias Judge = @Sendable (ByteView) -> [String: HitValue]?

    /// One hit per LLM row in the hunt's range whose `column` text `judge` gives metrics for
    /// (nil: no hit). The texts are lent from the segment's mapping.
    package static func eachText(_ info: RuleInfo, column: String, context: HuntContext,
                         judge: @escaping Judge) throws -> [Hit] {
        try eachText(column: column, context: context, judges: [(info, judge)])
    }

    /// The hits of several rules that judge the same column, from one pass over its segments: each
    /// segment's column is opened once and judged by every rule in turn (the hits are each rule's
    /// alone).
    package static func eachText(column: String, context: HuntContext, judges: [(info: RuleInfo, judge: Judge)]) throws -> [Hit] {
        let infos = judges.map(\.info)
        let decide = judges.map(\.judge)
        // Each rule's place among the run's parts: rule id order, then segment order.
        let rank = Dictionary(uniqueKeysWithValues: infos.indices.sorted(by: { (infos[$0].id, $0) < (infos[$1].id, $1) })
            .enumerated().map { ($0.element, $0.offset) })
        var perSegment = try context.mapIndexed(.llm) { table, segment -> [[Hit]] in
            let times = try table.int64("time")
            let texts = try table.text(column)
            // Each rule's hits apart, in row order: put together rule by rule, they are sorted
            // runs, which the hunt's stable sort only has to find (not interleaved rows to move).
            var hits = [[Hit]](repeating: [], count: decide.count)
            // Equal metrics share one dictionary: a phrase rule finds the same phrases in
            // thousands of prompts, and each dictionary is a few hundred bytes a hit.
            var shared: [[String: HitValue]: [String: HitValue]] = [:]
            // The segment's hit columns, opened at its first hit.
            var hitRows: HitRows?
            // What a hit takes from its row, made for the row's first hit and shared by the
            // others: one prompt is often a hit of the phrase rule, the normalised rule and the
            // model, and reading a row's fields inflates a block of each text column.
            var rowParts: [Int: RowPart] = [:]
            // Rule by rule over the segment's texts, not row by row through every rule: each
            // rule's tables (a phrase automaton, the anchors' filter, the model's 256 KB of
            // weights) stay in the core's caches for the whole segment instead of pushing one
            // another out at every prompt.
            for index in decide.indices {
                let judge = decide[index]
                let info = infos[index]
                for row in 0..<table.rowCount {
                    let time = times[row]
                    guard context.includes(time) else { continue }
                    guard let found = judge(texts[row]) else { continue }
                    let metrics: [String: HitValue]
                    if let known = shared[found] {
                        metrics = known
                    } else {
                        metrics = found
                        if shared.count < 4096 { shared[found] = found }
                    }
                    let rows = hitRows ?? HitRows(table, context: context)
                    hitRows = rows
                    let part = rowParts[row] ?? RowPart(table: table, row: row, rows: rows)
                    rowParts[row] = part
                    hits[index].append(part.hit(info, time: time, metrics: metrics))
                }
            }
            // In a hunt, each segment's hits go to the hunt's spool now: the prompt rules' hits
            // grow with the evidence (benign prompts that use the words), and held until the last
            // segment they were the largest part of the hunt's memory.
            var spooled = true
            for index in decide.indices where spooled {
                spooled = try context.spoolHits(hits[index], part: (rank[index] ?? index) << 32 | segment)
            }
            return spooled ? [] : hits
        }
        // Rule by rule in rule id order, then segment by segment, each part released once
        // copied: the hits are held once, not twice.
        var hits: [Hit] = []
        hits.reserveCapacity(perSegment.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } })
        for rule in infos.indices.sorted(by: { (infos[$0].id, $0) < (infos[$1].id, $1) }) {
            for index in perSegment.indices where rule < perSegment[index].count {
                hits.append(contentsOf: perSegment[index][rule])
                perSegment[index][rule] = []
            }
        }
        return hits
    }

    /// The parts of an LLM row's hit that come from the row alone: its key, fields and evidence.
    struct RowPart {
        let key: [String: HitValue]
        let fields: HitFields
        let evidence: EvidenceRef

        init(table: SegmentTable, row: Int, rows: HitRows) {
            let principal = (try? table.dictionary("principal").string(at: row)) ?? ""
            let session = (try? table.dictionary("session").string(at: row)) ?? ""
            key = ["principal": .string(principal), "session": .string(session)]
            fields = rows.fields(row)
            evidence = rows.evidence(row)
        }

        func hit(_ info: RuleInfo, time: Int64, metrics: [String: HitValue]) -> Hit {
            Hit(rule: info, time: Timestamp(column: time), key: key, metrics: metrics, fields: fields,
                evidence: .event(evidence))
        }
    }
}
