import FathomStore
import FathomSupport
import FathomCatalog

package enum LLMHits {
    /// One hit per LLM row in the hunt's range whose `column` text `judge` gives metrics for
    /// (nil: no hit). The texts are lent from the segment's mapping.
    package static func eachText(_ info: RuleInfo, column: String, context: HuntContext,
                         judge: @escaping @Sendable (ByteView) -> [String: HitValue]?) throws -> [Hit] {
        let perSegment = try context.map(.llm) { table -> [Hit] in
            let times = try table.int64("time")
            let texts = try table.text(column)
            var hits: [Hit] = []
            for row in 0..<table.rowCount {
                let time = times[row]
                guard context.includes(time), let metrics = judge(texts[row]) else { continue }
                hits.append(hit(info, table: table, row: row, time: time, context: context, metrics: metrics))
            }
            return hits
        }
        return perSegment.flatMap { $0 }
    }

    package static func hit(_ info: RuleInfo, table: SegmentTable, row: Int, time: Int64, context: HuntContext,
                    metrics: [String: HitValue]) -> Hit {
        let principal = (try? table.dictionary("principal").string(at: row)) ?? ""
        let session = (try? table.dictionary("session").string(at: row)) ?? ""
        return Hit(rule: info, time: Timestamp(column: time),
                   key: ["principal": .string(principal), "session": .string(session)],
                   metrics: metrics, fields: context.fields(table, row: row),
                   evidence: .event(context.evidence(table, row: row)))
    }
}
