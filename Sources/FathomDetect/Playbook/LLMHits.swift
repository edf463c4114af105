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

    /// The hits of several rules that judge the same column, from one scan of it: each text is
    /// inflated and read once, then judged by every rule in turn (the hits are each rule's alone).
    package static func eachText(column: String, context: HuntContext, judges: [(info: RuleInfo, judge: Judge)]) throws -> [Hit] {
        // Apart, not as the `judges` tuples: reading `judges[index].judge` copies the whole tuple
        // for each row and rule — a retain and a release of every string of the rule's info, and
        // with the rows of two segments judged side by side those counts are shared cache lines
        // the two cores take from each other.
        let infos = judges.map(\.info)
        let decide = judges.map(\.judge)
        var perSegment = try context.map(.llm) { table -> [[Hit]] in
            let times = try table.int64("time")
            let texts = try table.text(column)
            // Each rule's hits apart, in row order: put together rule by rule, they are sorted
            // runs, which the hunt's stable sort only has to find (not interleaved rows to move).
            var hits = [[Hit]](repeating: [], count: decide.count)
            // Equal metrics share one dictionary: a phrase rule finds the same phrases in
            // thousands of prompts, and each dictionary is a few hundred bytes a hit.
            var shared: [[String: HitValue]: [String: HitValue]] = [:]
            // The judges chained into one function made for this segment: a judge read from an array
            // was retained and released around every call, for every row and rule (and the contexts
            // of `decide`, shared by the segments judged side by side, were cache lines the two cores
            // took from each other). Each link calls its own judge, then the next.
            let judgeAll = chained(decide)
            // The segment's hit columns, opened at its first hit.
            var hitRows: HitRows?
            for row in 0..<table.rowCount {
                let time = times[row]
                guard context.includes(time) else { continue }
                let text = texts[row]
                // What a hit takes from its row, made for the row's first hit and shared by the
                // others: one prompt is often a hit of the phrase rule, the normalised rule and
                // the model, and reading a row's fields inflates a block of each text column.
                var rowPart: RowPart?
                // Rule by rule, and the info read only for a hit (see `infos`).
                judgeAll(text) { index, found in
                    let info = infos[index]
                    let metrics: [String: HitValue]
                    if let known = shared[found] {
                        metrics = known
                    } else {
                        metrics = found
                        if shared.count < 4096 { shared[found] = found }
                    }
                    let rows = hitRows ?? HitRows(table, context: context)
                    hitRows = rows
                    let part = rowPart ?? RowPart(table: table, row: row, rows: rows)
                    rowPart = part
                    hits[index].append(part.hit(info, time: time, metrics: metrics))
                }
            }
            return hits
        }
        // Rule by rule in rule id order, then segment by segment, each part released once
        // copied: the hits are held once, not twice.
        var hits: [Hit] = []
        hits.reserveCapacity(perSegment.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } })
        for rule in infos.indices.sorted(by: { (infos[$0].id, $0) < (infos[$1].id, $1) }) {
            for index in perSegment.indices {
                hits.append(contentsOf: perSegment[index][rule])
                perSegment[index][rule] = []
            }
        }
        return hits
    }

    /// Every judge's decision on one text, handed to the second argument (the judge's index, its
    /// metrics) for each that gives metrics, in judge order.
    typealias Chain = (ByteView, (Int, [String: HitValue]) -> Void) -> Void

    /// `judges` as one ``Chain``: each link calls its judge and then the next link, whose closures
    /// it holds, so no judge is read from an array per text.
    static func chained(_ judges: [Judge]) -> Chain {
        var chain: Chain = { _, _ in }
        for index in judges.indices.reversed() {
            let judge = judges[index]
            let next = chain
            chain = { text, found in
                if let metrics = judge(text) { found(index, metrics) }
                next(text, found)
            }
        }
        return chain
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
