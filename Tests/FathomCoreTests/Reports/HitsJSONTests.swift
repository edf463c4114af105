@testable import FathomCore
import Foundation
import Testing

/// Hits written one at a time are the bytes JSONEncoder writes for the whole list.
@Suite struct HitsJSONTests {
    static func hits(seed: UInt64, count: Int) -> [Hit] {
        var rng = SeededGenerator(seed: seed)
        let rules = [ExtractionBeyond.slidingInfo, ExtractionBeyond.networkInfo, InjectionNormalized.info]
        return (0..<count).map { index in
            let text = HostileText.generate(&rng, maxFragments: 6)
            let rule = rules[index % rules.count]
            if index % 2 == 0 {
                return Hit(rule: rule, time: Int64(index) * 1_000_000_123, key: ["src_ip": .string(text), "n": .int(Int64(index))],
                           metrics: ["phrases": .strings([text, "b\n"]), "ratio": .double(Double(index) / 7), "none": .null],
                           fields: ["prompt": .string(text + "\u{202E}"), "ok": .bool(index % 4 == 0)],
                           evidence: .event(EvidenceRef(archive: "a/\(text).jsonl.zst", member: text, line: Int64(index))))
            }
            return Hit(rule: rule, window: HitWindow(start: Int64(index) * 60_000_000_000, end: Int64(index + 5) * 60_000_000_000),
                       key: ["by": .string("principal"), "principal": .string(text)], metrics: [:],
                       evidence: .aggregate(first: EvidenceRef(archive: "x", member: "", line: 1, time: "2026-03-02T10:00:00Z"),
                                            last: EvidenceRef(archive: text, member: "m", line: 2)))
        }
    }

    @Test(arguments: [0, 1, 2, 25])
    func sameBytesAsTheEncoder(count: Int) throws {
        let hits = Self.hits(seed: UInt64(count) + 3, count: count)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        #expect(try HitsJSON.encode(hits, depth: 0) == encoder.encode(hits))
        // Nested one level down, as findings.json holds them.
        struct Wrapper: Encodable {
            var hits: [Hit]
            var zebra = 1
        }
        let nested = String(decoding: try encoder.encode(Wrapper(hits: hits)), as: UTF8.self)
        let spliced = "{\n  \"hits\" : " + String(decoding: try HitsJSON.encode(hits, depth: 1), as: UTF8.self) + ",\n  \"zebra\" : 1\n}"
        #expect(spliced == nested)
        // The store's copy is made from the nested bytes, two spaces fewer a line.
        #expect(HitsJSON.dedented(try HitsJSON.encode(hits, depth: 1)) == (try encoder.encode(hits)))
        // Streamed as analyze streams it: pieces from the encoder, dedented piece by piece.
        var dedenter = HitsJSON.Dedenter()
        var streamed = Data()
        try HitsJSON.encode(hits, depth: 1) { piece in
            // Cut each piece once more at an arbitrary point, so a cut can fall inside an indentation.
            let cut = piece.startIndex + piece.count / 3
            streamed.append(dedenter.dedent(piece[..<cut]))
            streamed.append(dedenter.dedent(piece[cut...]))
        }
        #expect(streamed == (try encoder.encode(hits)))
    }

    @Test func streamingFileReplacesAtomicallyOrNotAtAll() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.json")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        do {
            let file = try StreamingFile(path: path)
            try file.write(Data("half".utf8))
            // Dropped without a commit: the old file stays, no temporary file is left.
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.json"])
        let file = try StreamingFile(path: path)
        let big = Data(repeating: 0x61, count: (1 << 20) + 17)
        try file.write(Data("new".utf8))
        try file.write(big)
        try file.write(Data("!".utf8))
        try file.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("new".utf8) + big + Data("!".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.json"])
    }
}
