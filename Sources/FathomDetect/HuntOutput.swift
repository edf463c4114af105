import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Renders hunt results for a terminal (`table`) or for machines (`jsonl`).
public enum HuntOutput {
    /// One JSON object per hit and line, keys sorted; text from logs is JSON-escaped (control,
    /// bidirectional and invisible characters as `\uXXXX`) and its secrets masked
    /// (``SecretMask``), so every line is one valid JSON value that shows what it holds.
    public static func jsonLines(_ result: HuntResult) throws -> String {
        var text: [UInt8] = []
        writeJSONLines(result) { text.append(contentsOf: $0) }
        return String(decoding: text, as: UTF8.self)
    }

    /// ``jsonLines(_:)`` handed over in pieces of about a megabyte, each ending at a line end, so
    /// the output of tens of thousands of hits is never held whole (`fathom hunt` writes each piece
    /// to standard output as it comes).
    ///
    /// Masking and writing a hit costs more than finding it for a rule with many hits (a phrase
    /// rule's 100,000 a week), so batches of hits are written on `jobs` threads and handed over in
    /// order, a few batches at a time.
    public static func writeJSONLines(_ result: HuntResult, chunkSize: Int = 1 << 20,
                                      jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                                      _ emit: ([UInt8]) throws -> Void) rethrows {
        let hits = result.hits
        let batchSize = 512
        let batches = (hits.count + batchSize - 1) / batchSize
        let workers = max(1, min(jobs, batches))
        // Batches per round: enough to keep every worker busy, few enough to hold little.
        let perRound = workers * 4
        var round = 0
        while round * perRound < batches {
            let first = round * perRound
            let count = min(perRound, batches - first)
            let slots = WorkSlots<[[UInt8]], Never>(count: count)
            DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
                while let claimed = slots.claim() {
                    let start = (first + claimed) * batchSize
                    slots.store(claimed, .success(pieces(hits.hits(in: start..<min(hits.count, start + batchSize)), chunkSize: chunkSize)))
                }
            }
            for slot in slots.takeAll() {
                guard case let .success(pieces)? = slot else { continue }
                for piece in pieces { try emit(piece) }
            }
            round += 1
        }
    }

    /// The JSON lines of `hits`, secrets masked and invisible characters escaped, cut into pieces
    /// of at least `chunkSize` bytes at line ends (the last one shorter).
    private static func pieces(_ hits: [Hit], chunkSize: Int) -> [[UInt8]] {
        // Invisible characters are escaped as the strings are written (only strings hold any).
        var writer = HitJSONWriter(pretty: false, escapingInvisible: true)
        var pieces: [[UInt8]] = []
        func flush() {
            guard !writer.bytes.isEmpty else { return }
            pieces.append(writer.bytes)
            writer.bytes = []
            writer.bytes.reserveCapacity(chunkSize + chunkSize / 4)
        }
        for hit in hits {
            writer.write(hit.maskingSecrets(), depth: 0)
            writer.bytes.append(0x0A)
            if writer.bytes.count >= chunkSize { flush() }
        }
        flush()
        return pieces
    }

    /// A text table; every value from the logs goes through ``TerminalText/escape(_:)``.
    public static func table(_ result: HuntResult) -> String {
        var rows: [[String]] = [["RULE", "LEVEL", "TIME / WINDOW", "KEY", "METRICS", "EVIDENCE"]]
        for hit in result.hits {
            let when: String
            if let time = hit.time {
                when = time.rfc3339
            } else if let window = hit.window {
                when = window.start.rfc3339 + " – " + window.end.rfc3339
            } else {
                when = "-"
            }
            let hit = hit.maskingSecrets()
            let key = hit.key.keys.sorted().map { "\($0)=\(hit.key[$0]?.description ?? "")" }.joined(separator: " ")
            let metrics = hit.metrics.keys.sorted().map { "\($0)=\(hit.metrics[$0]?.description ?? "")" }.joined(separator: " ")
            let evidence: String
            if let first = hit.evidence.first {
                evidence = cite(first) + (hit.evidence.last.map { $0 == first ? "" : " … " + cite($0) } ?? "")
            } else {
                evidence = cite(EvidenceRef(archive: hit.evidence.archive ?? "", member: hit.evidence.member ?? "",
                                            line: hit.evidence.line ?? 0))
            }
            rows.append([hit.rule, hit.level, when, key, metrics, evidence].map { clip(TerminalText.escape($0)) })
        }
        var text = TextFormat.table(rows)
        text += "\n\n\(result.hits.count) hit(s) from \(result.rules.count) rule(s); rows scanned: "
            + result.rowsScanned.keys.sorted().map { "\($0) \(result.rowsScanned[$0] ?? 0)" }.joined(separator: ", ")
        return text
    }

    package static func cite(_ ref: EvidenceRef) -> String {
        let name = (ref.archive as NSString).lastPathComponent
        return name + (ref.member.isEmpty ? "" : "!" + ref.member) + ":\(ref.line)"
    }

    package static func clip(_ text: String, limit: Int = 120) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
