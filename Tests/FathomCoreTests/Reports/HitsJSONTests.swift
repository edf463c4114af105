@testable import FathomCore
import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Hits written one at a time are the bytes JSONEncoder writes for the whole list.
@Suite struct HitsJSONTests {
    static func hits(seed: UInt64, count: Int) -> [Hit] {
        var rng = SeededGenerator(seed: seed)
        let rules = [ExtractionBeyond.slidingInfo, ExtractionBeyond.networkInfo, InjectionNormalized.info]
        return (0..<count).map { index in
            let text = HostileText.generate(&rng, maxFragments: 6)
            let rule = rules[index % rules.count]
            if index % 2 == 0 {
                return Hit(rule: rule, time: Timestamp(nanoseconds: Int64(index) * 1_000_000_123), key: ["src_ip": .string(text), "n": .int(Int64(index))],
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

    /// The encoding made on two threads, piece by piece, is the one-thread encoding of the
    /// transformed hits: for no hit, one, a piece less one, exactly one and two pieces, and an odd
    /// number of pieces (the last round has one piece), at both depths.
    @Test(arguments: [0, 1, HitsJSON.pieceHits - 1, HitsJSON.pieceHits, 2 * HitsJSON.pieceHits, 3 * HitsJSON.pieceHits + 7])
    func sideBySideIsTheSameBytes(count: Int) throws {
        let hits = Self.hits(seed: UInt64(count) + 11, count: count)
        for depth in [0, 1] {
            var pieces = 0
            var joined = Data()
            try HitsJSON.encodeSideBySide(hits, depth: depth, transform: { $0.maskingSecrets() }) { piece in
                pieces += 1
                joined.append(piece)
            }
            #expect(joined == (try HitsJSON.encode(hits.map { $0.maskingSecrets() }, depth: depth)), "\(count) hits at depth \(depth)")
            #expect(pieces == max(1, (count + HitsJSON.pieceHits - 1) / HitsJSON.pieceHits))
        }
    }

    /// Hits with what the writer must spell exactly as the encoder does: every control
    /// character, keys whose byte order differs from their character or numeric order, doubles
    /// from random bit patterns (integral, tiny, huge, non-finite), integer extremes, empty lists
    /// and maps, and every optional part present or absent.
    static func awkwardHits(seed: UInt64, count: Int) -> [Hit] {
        var rng = SeededGenerator(seed: seed)
        let keys = ["a", "A", "_", "a10", "a9", "a_b", "aB", "é", "e\u{301}", "Z", "", "\u{1}", "key\"\\", "😀", "z\u{7F}"]
        let controls = String(decoding: (0..<0x20).map { UInt8($0) } + [0x22, 0x5C, 0x2F, 0x7F], as: UTF8.self)
        func text() -> String {
            Int.random(in: 0..<4, using: &rng) == 0 ? controls : HostileText.generate(&rng, maxFragments: 5)
        }
        func double() -> Double {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: return Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))
            case 1: return Double(Int.random(in: -1_000_000...1_000_000, using: &rng))
            case 2: return [Double.infinity, -.infinity, .nan, 0, -0.0, 1e16, 1e-7, 0.1, 1.0 / 3][Int.random(in: 0..<9, using: &rng)]
            default: return Double.random(in: -1e6...1e6, using: &rng)
            }
        }
        func value() -> HitValue {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &rng))
            case 2: return .int([Int64.min, Int64.max, 0, -1, Int64.random(in: Int64.min...Int64.max, using: &rng)][Int.random(in: 0..<5, using: &rng)])
            case 3: return .double(double())
            case 4: return .string(text())
            default: return .strings((0..<Int.random(in: 0..<3, using: &rng)).map { _ in text() })
            }
        }
        func map() -> [String: HitValue] {
            var result: [String: HitValue] = [:]
            for _ in 0..<Int.random(in: 0..<6, using: &rng) { result[keys.randomElement(using: &rng)!] = value() }
            return result
        }
        func ref() -> EvidenceRef {
            EvidenceRef(archive: text(), member: text(), line: Int64.random(in: 0...1_000_000, using: &rng),
                        time: Bool.random(using: &rng) ? Timestamp(nanoseconds: Int64.random(in: -1_000_000_000_000_000_000...4_000_000_000_000_000_000, using: &rng)) : nil)
        }
        let rules = [ExtractionBeyond.slidingInfo, ExtractionBeyond.networkInfo, InjectionNormalized.info]
        return (0..<count).map { _ in
            var hit = Hit(rule: rules.randomElement(using: &rng)!,
                          time: Bool.random(using: &rng) ? Timestamp(nanoseconds: Int64.random(in: -1_000_000_000_000...Int64.max / 2, using: &rng)) : nil,
                          window: Bool.random(using: &rng) ? HitWindow(start: Int64.random(in: 0...1 << 62, using: &rng), end: 1 << 62 + 7) : nil,
                          key: map(), metrics: map(), fields: Bool.random(using: &rng) ? HitFields(map()) : nil,
                          evidence: Bool.random(using: &rng) ? .event(ref()) : .aggregate(first: ref(), last: ref()))
            hit.title = text()
            hit.level = text()
            hit.atlas = (0..<Int.random(in: 0..<3, using: &rng)).map { _ in text() }
            return hit
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func writerSpellsValuesAsTheEncoder(seed: Int) throws {
        let hits = Self.awkwardHits(seed: UInt64(seed) * 7919, count: 120)
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(try HitsJSON.encode(hits, depth: 0) == pretty.encode(hits))
        for hit in hits {
            var writer = HitJSONWriter(pretty: false)
            writer.write(hit, depth: 0)
            let expected = try compact.encode(hit)
            #expect(Data(writer.bytes) == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }

    /// Escaping invisible characters while the strings are written gives the bytes of escaping the
    /// written document afterwards (what `fathom hunt --format jsonl` did): hostile text with
    /// bidirectional overrides, zero-width and tag characters, DEL and emoji, in every part of a hit.
    @Test(arguments: [11, 12, 13])
    func escapingInvisibleWhileWritingEqualsEscapingAfterwards(seed: Int) {
        var sawEscape = false
        for hit in Self.awkwardHits(seed: UInt64(seed) * 104_729, count: 150) {
            var plain = HitJSONWriter(pretty: false)
            plain.write(hit, depth: 0)
            var twoPasses: [UInt8] = []
            JSONText.appendEscapingInvisible(plain.bytes, to: &twoPasses, where: JSONText.isInvisible)
            var onePass = HitJSONWriter(pretty: false, escapingInvisible: true)
            onePass.write(hit, depth: 0)
            #expect(onePass.bytes == twoPasses, "\(String(decoding: twoPasses, as: UTF8.self))")
            if twoPasses != plain.bytes { sawEscape = true }
        }
        #expect(sawEscape, "the hostile text holds invisible characters")
    }

    /// Packed fields give back exactly what was packed: every value by name, the whole map, masked
    /// copies, and the Codable form of a dictionary.
    @Test(arguments: [5, 6, 7])
    func packedFieldsRoundTrip(seed: UInt64) throws {
        for hit in Self.awkwardHits(seed: seed, count: 200) {
            guard let fields = hit.fields else { continue }
            let map = fields.dictionary
            #expect(HitFields(map) == fields)
            #expect(fields.count == map.count && fields.names == map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            for (name, value) in map {
                #expect(fields[name].map { "\($0)" } == "\(value)", "field \(name)")
            }
            #expect(fields["no such field \u{0}"] == nil)
            let masked = fields.mapValues { $0.maskingSecrets() }
            #expect(masked.dictionary.mapValues { "\($0)" } == map.mapValues { "\($0.maskingSecrets())" })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            #expect(try encoder.encode(fields) == encoder.encode(map))
            // Decoding gives what decoding the dictionary gives (JSON itself turns 1.0 into 1).
            let data = try encoder.encode(map)
            #expect(try JSONDecoder().decode(HitFields.self, from: data).dictionary.mapValues { "\($0)" }
                    == JSONDecoder().decode([String: HitValue].self, from: data).mapValues { "\($0)" })
        }
        // Names given out of order are sorted with their values.
        let unordered = HitFields(names: ["b", "a", "c"], values: [.int(2), .string("one"), .null])
        #expect(unordered.names == ["a", "b", "c"] && unordered["b"] == .int(2) && unordered["a"] == .string("one"))
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
