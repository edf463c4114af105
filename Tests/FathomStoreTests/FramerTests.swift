import FathomStore
import Testing

/// A framed event in comparable form.
enum Framed: Equatable, CustomStringConvertible {
    case record(String, Int64)
    case rejected(Int64, String, sampleCount: Int)

    var description: String {
        switch self {
        case let .record(text, number): return "record#\(number)(\(text.debugDescription))"
        case let .rejected(number, reason, count): return "rejected#\(number)(\(reason), sample \(count))"
        }
    }
}

/// Frames `input` cut at the given chunk boundaries (offsets), returning events and final mode.
func frame(_ input: [UInt8], cuts: [Int] = [], maxRecordBytes: Int = 16 << 20) -> (events: [Framed], mode: FramingMode?) {
    let framer = RecordFramer(maxRecordBytes: maxRecordBytes)
    var events: [Framed] = []
    let collect: (FramedEvent) -> Void = { event in
        switch event {
        case let .record(view, number): events.append(.record(view.string, number))
        case let .rejected(number, reason, sample): events.append(.rejected(number, reason, sampleCount: sample.count))
        }
    }
    var mode: FramingMode?
    withView(input) { view in
        var start = 0
        for cut in cuts.sorted() + [input.count] where cut >= start {
            // Copy each chunk so a view that outlives its chunk would be caught as garbage.
            let chunk = Array(view[start..<cut].array)
            withView(chunk) { framer.feed($0, collect) }
            start = cut
        }
        framer.finish(collect)
        mode = framer.mode
    }
    return (events, mode)
}

func frame(_ text: String, cuts: [Int] = [], maxRecordBytes: Int = 16 << 20) -> (events: [Framed], mode: FramingMode?) {
    frame(Array(text.utf8), cuts: cuts, maxRecordBytes: maxRecordBytes)
}

@Suite struct FramerLineTests {
    static let cases: [(String, [Framed])] = [
        ("a\nb\n", [.record("a", 1), .record("b", 2)]),
        ("a\r\nb\r\n", [.record("a", 1), .record("b", 2)]),
        ("a\nb", [.record("a", 1), .record("b", 2)]),
        ("a\r\nb\r", [.record("a", 1), .record("b", 2)]),
        ("\u{FEFF}a\nb\n", [.record("a", 1), .record("b", 2)]),
        ("\u{FEFF}\n\nx", [.record("x", 3)]),
        ("a\n\n  \n\t\r\nb\n", [.record("a", 1), .record("b", 5)]),
        ("\n\n\n", []),
        ("", []),
        ("  {\"a\":1}\n{\"b\":2}", [.record("  {\"a\":1}", 1), .record("{\"b\":2}", 2)]),
        ("x,y,z\n1,2,3\n", [.record("x,y,z", 1), .record("1,2,3", 2)]),
    ]

    @Test(arguments: cases)
    func framesLines(input: String, expected: [Framed]) {
        let result = frame(input)
        #expect(result.events == expected)
        if !expected.isEmpty { #expect(result.mode == .lines) }
    }

    @Test func jsonLinesWithNonArrayRecordsKey() {
        let input = "{\"records\": 5, \"x\": 1}\n{\"records\": \"a\"}\n"
        let result = frame(input)
        #expect(result.mode == .lines)
        #expect(result.events == [.record("{\"records\": 5, \"x\": 1}", 1), .record("{\"records\": \"a\"}", 2)])
    }

    @Test func jsonLinesWithNestedRecordsKey() {
        let input = "{\"a\":{\"Records\":[1]}}\n{\"b\":2}\n"
        let result = frame(input)
        #expect(result.mode == .lines)
        #expect(result.events.count == 2)
    }

    @Test func oversizedLineIsRejectedAndSkipped() {
        let long = String(repeating: "x", count: 1000)
        let input = "a\n\(long)\nb\n"
        for cuts in [[], [5], [5, 200, 700], Array(stride(from: 1, to: 1006, by: 37))] {
            let result = frame(input, cuts: cuts, maxRecordBytes: 100)
            #expect(result.events == [
                .record("a", 1),
                .rejected(2, "record of 1000 bytes exceeds the 100 bytes limit", sampleCount: 256),
                .record("b", 3),
            ], "cuts \(cuts)")
        }
    }

    @Test func oversizedFinalLineWithoutNewline() {
        let input = "a\n" + String(repeating: "y", count: 300)
        let result = frame(input, cuts: [10, 20], maxRecordBytes: 1024)
        #expect(result.events == [.record("a", 1), .record(String(repeating: "y", count: 300), 2)])
        let rejected = frame(input, cuts: [10, 20], maxRecordBytes: 64)
        #expect(rejected.events == [.record("a", 1), .rejected(2, "record of 300 bytes exceeds the 64 bytes limit", sampleCount: 256)])
    }

    @Test func hundredMegabyteLineKeepsMemoryBounded() {
        // 100 MB line between two short ones, fed in 4 MiB chunks with the default 16 MiB limit.
        // Built with memset-speed initializers: element-wise appends are slow in debug builds.
        let head = Array("first\n".utf8), tail = Array("\nlast\n".utf8)
        var input = [UInt8](repeating: UInt8(ascii: "z"), count: head.count + 100_000_000 + tail.count)
        input.replaceSubrange(0..<head.count, with: head)
        input.replaceSubrange(input.count - tail.count..<input.count, with: tail)
        let framer = RecordFramer()
        var events: [Framed] = []
        withView(input) { view in
            var start = 0
            while start < view.count {
                let end = min(view.count, start + (4 << 20))
                framer.feed(view[start..<end]) { event in
                    switch event {
                    case let .record(v, n): events.append(.record(v.count > 100 ? "<\(v.count)>" : v.string, n))
                    case let .rejected(n, reason, sample): events.append(.rejected(n, reason, sampleCount: sample.count))
                    }
                }
                // Up to one record limit is buffered before the line is known to be too long;
                // the 100 MB line itself never is.
                #expect(framer.bufferedByteCapacity <= 2 * (16 << 20) + (1 << 20))
                start = end
            }
            framer.finish { _ in }
        }
        #expect(events == [
            .record("first", 1),
            .rejected(2, "record of 100000000 bytes exceeds the 16 MiB limit", sampleCount: 256),
            .record("last", 3),
        ])
    }

    @Test func recordsInsideAChunkAreZeroCopy() {
        let input = Array("abc\ndef\n".utf8)
        let framer = RecordFramer()
        withView(input) { view in
            var offsets: [Int] = []
            framer.feed(view) { event in
                if case let .record(record, _) = event {
                    record.withUnsafeBytes { buffer in
                        view.withUnsafeBytes { whole in
                            offsets.append(buffer.baseAddress! - whole.baseAddress!)
                        }
                    }
                }
            }
            #expect(offsets == [0, 4])
        }
    }
}

@Suite struct FramerArrayTests {
    static let cases: [(String, FramingMode, [Framed])] = [
        ("[{\"a\":1},{\"b\":2}]", .jsonArray(envelopeKey: nil),
         [.record("{\"a\":1}", 1), .record("{\"b\":2}", 2)]),
        ("\u{FEFF} [\n  {\"a\":1} ,\n  {\"b\":[1,2]}\n]\n", .jsonArray(envelopeKey: nil),
         [.record("{\"a\":1}", 1), .record("{\"b\":[1,2]}", 2)]),
        ("[]", .jsonArray(envelopeKey: nil), []),
        ("{\"Records\":[{\"eventName\":\"GetObject\"},{\"s\":\"x,]}\\\"\"}]}", .jsonArray(envelopeKey: "Records"),
         [.record("{\"eventName\":\"GetObject\"}", 1), .record("{\"s\":\"x,]}\\\"\"}", 2)]),
        ("{\n  \"Records\" : [\n    {\n      \"a\": 1\n    },\n    {\n      \"b\": \"\\\\\"\n    }\n  ]\n}\n",
         .jsonArray(envelopeKey: "Records"),
         [.record("{\n      \"a\": 1\n    }", 1), .record("{\n      \"b\": \"\\\\\"\n    }", 2)]),
        ("{\"meta\":{\"records\":5,\"x\":[1,{\"y\":\"}\"}]},\"n\":\"s,\",\"records\":[{\"a\":1}],\"next\":{\"records\":[9]}}",
         .jsonArray(envelopeKey: "records"), [.record("{\"a\":1}", 1)]),
        ("{\"records\":[{\"a\":1},{\"b\":", .jsonArray(envelopeKey: "records"),
         [.record("{\"a\":1}", 1), .rejected(2, "JSON document ends inside a record", sampleCount: 5)]),
        ("{\"Records\":[{\"a\":1}", .jsonArray(envelopeKey: "Records"), [.record("{\"a\":1}", 1)]),
        ("[1,,{\"c\":3}]", .jsonArray(envelopeKey: nil),
         [.record("1", 1), .rejected(2, "empty element in JSON array", sampleCount: 0), .record("{\"c\":3}", 3)]),
        // Concatenated documents continue the numbering; other trailing content is reported.
        ("{\"records\":[{\"a\":1}]}\n{\"records\":[{\"b\":2},{\"c\":3}]}\n", .jsonArray(envelopeKey: "records"),
         [.record("{\"a\":1}", 1), .record("{\"b\":2}", 2), .record("{\"c\":3}", 3)]),
        ("[{\"a\":1}]\n[{\"b\":2}]", .jsonArray(envelopeKey: nil), [.record("{\"a\":1}", 1), .record("{\"b\":2}", 2)]),
        ("{\"Records\":[{\"a\":1}],\"x\":{\"y\":\"}\"}}\ngarbage\n", .jsonArray(envelopeKey: "Records"),
         [.record("{\"a\":1}", 1), .rejected(2, "content after the end of the JSON document", sampleCount: 8)]),
        ("{\"Records\":[{\"a\":1}]}\n\n  ", .jsonArray(envelopeKey: "Records"), [.record("{\"a\":1}", 1)]),
        ("{\"Records\":[{\"a\":1}]}{\"Records\":[{\"b\"", .jsonArray(envelopeKey: "Records"),
         [.record("{\"a\":1}", 1), .rejected(2, "JSON document ends inside a record", sampleCount: 4)]),
    ]

    @Test(arguments: cases)
    func framesArrays(input: String, mode: FramingMode, expected: [Framed]) {
        let result = frame(input)
        #expect(result.mode == mode)
        #expect(result.events == expected)
    }

    @Test(arguments: cases)
    func everySplitPointGivesTheSameRecords(input: String, mode: FramingMode, expected: [Framed]) {
        let bytes = Array(input.utf8)
        for cut in 0...bytes.count {
            #expect(frame(bytes, cuts: [cut]).events == expected, "split at \(cut)")
        }
        #expect(frame(bytes, cuts: Array(0...bytes.count)).events == expected, "one-byte chunks")
    }

    @Test(arguments: FramerLineTests.cases)
    func everySplitPointGivesTheSameLines(input: String, expected: [Framed]) {
        let bytes = Array(input.utf8)
        for cut in 0...bytes.count {
            #expect(frame(bytes, cuts: [cut]).events == expected, "split at \(cut)")
        }
        #expect(frame(bytes, cuts: Array(0...bytes.count)).events == expected, "one-byte chunks")
    }

    @Test func oversizedElementIsRejected() {
        let big = "{\"k\":\"" + String(repeating: "v", count: 500) + "\"}"
        let input = "{\"Records\":[{\"a\":1},\(big),{\"b\":2}]}"
        for cuts in [[], [30], Array(stride(from: 3, to: input.utf8.count, by: 41))] {
            let result = frame(input, cuts: cuts, maxRecordBytes: 100)
            #expect(result.events == [
                .record("{\"a\":1}", 1),
                .rejected(2, "record of 508 bytes exceeds the 100 bytes limit", sampleCount: 256),
                .record("{\"b\":2}", 3),
            ], "cuts \(cuts)")
        }
    }

    /// Seeded fuzz: token soup (unbalanced brackets, stray quotes and backslashes, envelope
    /// keys, CR/LF) frames identically however it is chunked, and never traps.
    @Test(arguments: [UInt64(101), 102, 103, 104])
    func tokenSoupChunkingMatchesWhole(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let tokens = ["{", "}", "[", "]", "\"", "\\", ",", ":", "{\"Records\":[", "\"records\":", "\n", "\r\n",
                      " ", "a", "1", "{\"k\":\"v\"}", "\u{FEFF}", "[{", "}]}"]
        for _ in 0..<150 {
            var text = ""
            for _ in 0..<Int.random(in: 0...30, using: &rng) { text += tokens.randomElement(using: &rng)! }
            let bytes = Array(text.utf8)
            let limit = Bool.random(using: &rng) ? 16 << 20 : 12
            let whole = frame(bytes, maxRecordBytes: limit)
            var cuts: [Int] = []
            for _ in 0..<Int.random(in: 1...8, using: &rng) { cuts.append(Int.random(in: 0...bytes.count, using: &rng)) }
            let chunked = frame(bytes, cuts: cuts, maxRecordBytes: limit)
            #expect(chunked.events == whole.events, "input \(text.debugDescription) cuts \(cuts) limit \(limit)")
            #expect(chunked.mode == whole.mode, "input \(text.debugDescription)")
        }
    }

    /// Seeded property: any chunking of an input frames like the whole input.
    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func randomChunkingMatchesWhole(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let pieces = ["{\"a\":\"x\\\"]\"}", "{\"b\":[1,{\"c\":\"}\"}]}", "plain text", "  ", "", "\"s,\"", "{\"records\":1}"]
        for _ in 0..<20 {
            var lines: [String] = []
            for _ in 0..<Int.random(in: 1...8, using: &rng) { lines.append(pieces.randomElement(using: &rng)!) }
            let separator = Bool.random(using: &rng) ? "\n" : "\r\n"
            let inputs = [
                lines.joined(separator: separator),
                "[" + lines.filter { $0.hasPrefix("{") }.joined(separator: ",\n ") + "]",
                "{\"x\":[1],\"Records\":[" + lines.filter { $0.hasPrefix("{") }.joined(separator: ",") + "]}",
            ]
            for input in inputs {
                let bytes = Array(input.utf8)
                let whole = frame(bytes)
                var cuts: [Int] = []
                for _ in 0..<Int.random(in: 0...6, using: &rng) { cuts.append(Int.random(in: 0...bytes.count, using: &rng)) }
                let chunked = frame(bytes, cuts: cuts, maxRecordBytes: 16 << 20)
                #expect(chunked.events == whole.events, "input \(input.debugDescription) cuts \(cuts)")
                #expect(chunked.mode == whole.mode)
            }
        }
    }
}
