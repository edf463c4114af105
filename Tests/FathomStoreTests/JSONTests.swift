@testable import FathomStore
import Foundation
import Testing

/// Parses `text` and runs `body` on the root while the bytes are alive.
func withJSON<R>(_ text: String, _ body: (JSONValue) throws -> R) throws -> R {
    try withView(text) { view in
        let document = try JSONDocument(view)
        return try body(document.root)
    }
}

/// Lends views of `arrays` (kept alive for the call).
func withViews<R>(_ arrays: [[UInt8]], _ body: ([ByteView]) -> R) -> R {
    guard let first = arrays.first else { return body([]) }
    return first.withUnsafeBytes { raw in
        withViews(Array(arrays.dropFirst())) { rest in
            body([ByteView(unsafeStart: raw.baseAddress, count: raw.count)] + rest)
        }
    }
}

func parseError(_ bytes: [UInt8]) -> JSONError? {
    withView(bytes) { view in
        do throws(JSONError) {
            _ = try JSONParser().parse(view)
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct JSONStringTests {
    static let escapes: [(String, String)] = [
        (#""plain""#, "plain"),
        (#""a\/b""#, "a/b"),
        (#""q\"q""#, "q\"q"),
        (#""back\\slash""#, "back\\slash"),
        (#""\b\f\n\r\t""#, "\u{08}\u{0C}\n\r\t"),
        (#""caf\u00e9""#, "café"),
        (#""\u00E9\u4E2D""#, "é中"),
        (#""\ud83d\ude00!""#, "😀!"),
        (#""\uD83D\uDE00""#, "😀"),
        (#""x\ud83dy""#, "x\u{FFFD}y"),
        (#""\ud83d""#, "\u{FFFD}"),
        (#""\ude00\ud83d\ude00""#, "\u{FFFD}😀"),
        (#""\ud83d\u0041""#, "\u{FFFD}A"),
        (#""\u0000""#, "\u{0}"),
        (#""\u0041\\u0041""#, "A\\u0041"),
        (#""""#, ""),
        (#""héllo""#, "héllo"),
        (#""\\\\\\""#, "\\\\\\"),
        (#""a long run of plain text before the escape\n""#, "a long run of plain text before the escape\n"),
        (#""{\"id\":\"ap_1\",\"url\":\"https:\/\/x.example\/v1\"}""#, #"{"id":"ap_1","url":"https://x.example/v1"}"#),
    ]

    @Test(arguments: escapes)
    func decodesEscapes(json: String, expected: String) throws {
        let decoded = try withJSON(json) { $0.string }
        #expect(decoded == expected)
        let viaView = try withJSON(json) { $0.withDecodedString { Array($0.array) } }
        #expect(viaView == Array(expected.utf8))
    }

    /// Escapes at every offset around the decoder's eight-byte steps, against Foundation's JSON
    /// reader: the runs between escapes are copied a word at a time.
    @Test func decodesEscapesAtEveryOffset() throws {
        let pieces = [#"a"#, #"bcdefgh"#, #"\""#, #"\\"#, #"\n"#, #"\/"#, #"\u00e9"#, #"\ud83d\ude00"#, "é", "中",
                      #"{\"k\":1}"#, #"0123456789abcdef"#]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<2000 {
            var content = ""
            for _ in 0..<(next() % 10) { content += pieces[next() % pieces.count] }
            let json = "\"" + content + "\""
            let reference = try #require(
                try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed) as? String)
            let decoded = try withJSON(json) { $0.withDecodedString { Array($0.array) } }
            #expect(decoded == Array(reference.utf8), "\(json)")
        }
    }

    @Test func invalidUTF8IsRepairedNotRejected() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0xC3, 0x22]
        let text = try withView(bytes) { try JSONDocument($0).root.string }
        #expect(text == "a\u{FFFD}\u{FFFD}")
    }

    @Test func nestedDecodingUsesSeparateBuffers() throws {
        let pair = try withJSON(#"["a\nb","c\td"]"#) { root -> (String, String)? in
            let items = root.elements
            return items[0].withDecodedString { outer in
                let inner = items[1].withDecodedString { $0.string } ?? ""
                return (outer.string, inner)
            }
        }
        #expect(pair?.0 == "a\nb")
        #expect(pair?.1 == "c\td")
    }
}

@Suite struct JSONLookupTests {
    static let equivalentDocuments = [
        #"{"eventName":"GetObject","requestParameters":{"bucketName":"models","key":"w.pt"},"n":3}"#,
        #"{ "n" : 3 , "requestParameters" : { "key" : "w.pt" , "bucketName" : "models" } , "eventName" : "GetObject" }"#,
        "{\n\t\"requestParameters\": {\r\n  \"bucketName\": \"models\",\n  \"key\": \"w.pt\"\n},\n\"eventName\": \"GetObject\", \"n\": 3\n}",
        #"{"\u0065ventName":"GetObject","requestParameters":{"bucket\u004eame":"models","k\u0065y":"w.pt"},"n":3}"#,
        #"{"eventName":"GetObject","requestParameters":{"bucketName":"m\u006fdels","key":"w\u002ept"},"n":"3"}"#,
    ]

    @Test(arguments: equivalentDocuments)
    func findsMembersRegardlessOfOrderWhitespaceAndEscapes(json: String) throws {
        try withJSON(json) { root in
            #expect(root.kind == .object)
            #expect(root.count == 3)
            #expect(root["eventName"]?.string == "GetObject")
            #expect(root.value(atPath: ["requestParameters", "bucketName"])?.string == "models")
            #expect(root.value(atPath: ["requestParameters", "key"])?.string == "w.pt")
            #expect(root.value(atPath: ["requestParameters", "missing"]) == nil)
            #expect(root.value(atPath: ["eventName", "x"]) == nil)
            #expect(root["n"]?.int64 == 3)
            #expect(root["missing"] == nil)
            #expect(root["eventname"] == nil)
            // The byte-key path lookup the decoders use agrees with the string one.
            for path in [["requestParameters", "bucketName"], ["requestParameters", "key"], ["eventName"], ["n"],
                         ["requestParameters", "missing"], ["eventName", "x"], []] {
                let keys = path.map { Array($0.utf8) }
                let found = withViews(keys) { views in
                    views.withUnsafeBufferPointer { root.value(atKeys: $0)?.rawBytes.array }
                }
                #expect(found == root.value(atPath: path)?.rawBytes.array, "\(path)")
            }
        }
    }

    @Test func arraysAndMembers() throws {
        try withJSON(#"{"a":[1,"two",[3,4],{"x":null},true,false,null],"b":{},"c":[]}"#) { root in
            let items = try #require(root["a"])
            #expect(items.kind == .array)
            #expect(items.count == 7)
            #expect(items.elements.map(\.kind) == [.number, .string, .array, .object, .bool, .bool, .null])
            #expect(items.elements[2].elements.compactMap(\.int64) == [3, 4])
            #expect(items.elements[3]["x"]?.isNull == true)
            #expect(items.elements[4].bool == true)
            #expect(items.elements[5].bool == false)
            #expect(root.members.map(\.key) == ["a", "b", "c"])
            #expect(root["b"]?.count == 0)
            #expect(root["c"]?.elements.isEmpty == true)
            var seen: [String] = []
            root.forEachMember { key, value in seen.append("\(key.string ?? "")=\(value.kind)") }
            #expect(seen == ["a=array", "b=object", "c=array"])
            #expect(root["a"]?.rawBytes.string == #"[1,"two",[3,4],{"x":null},true,false,null]"#)
            #expect(items.elements[1].rawBytes.string == #""two""#)
            #expect(items.elements[1].rawStringContent?.string == "two")
        }
    }

    @Test func rawBytesAreExact() throws {
        try withJSON(#"  { "a" : [ 1 , 2 ] , "s" : "x\ny" }  "#) { root in
            #expect(root["a"]?.rawBytes.string == "[ 1 , 2 ]")
            #expect(root["s"]?.rawBytes.string == #""x\ny""#)
            #expect(root.rawBytes.string == #"{ "a" : [ 1 , 2 ] , "s" : "x\ny" }"#)
        }
    }

    @Test func booleanStrings() throws {
        try withJSON(#"{"a":"true","b":"FALSE","c":"yes","d":1}"#) { root in
            #expect(root["a"]?.bool == true)
            #expect(root["b"]?.bool == false)
            #expect(root["c"]?.bool == nil)
            #expect(root["d"]?.bool == nil)
        }
    }

    @Test func parserReusesTapeButKeepsLiveDocumentsValid() throws {
        let parser = JSONParser()
        let first = Array(#"{"a":"first","b":[1,2,3]}"#.utf8)
        let second = Array(#"[9]"#.utf8)
        try withView(first) { one in
            let kept = try parser.parse(one)
            try withView(second) { two in
                let other = try parser.parse(two)
                #expect(other.root.elements.first?.int64 == 9)
            }
            #expect(kept.root["a"]?.string == "first")
            #expect(kept.root["b"]?.count == 3)
        }
        // Many records through one parser.
        for index in 0..<100 {
            let text = #"{"i":\#(index),"pad":"\#(String(repeating: "p", count: index))"}"#
            let value = try withView(text) { try parser.parse($0).root["i"]?.int64 }
            #expect(value == Int64(index))
        }
    }

    @Test func deepButAllowedNesting() throws {
        let depth = 512
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let count = try withJSON(text) { $0.count }
        #expect(count == 1)
    }
}

@Suite struct JSONNumberTests {
    static let numbers: [(String, Int64?, Double?)] = [
        ("0", 0, 0),
        ("-0", 0, -0.0),
        ("42", 42, 42),
        ("-12", -12, -12),
        ("1.5", nil, 1.5),
        ("-1.5e3", -1500, -1500),
        ("1E+2", 100, 100),
        ("2.0", 2, 2),
        ("1e-2", nil, 0.01),
        ("0.1", nil, 0.1),
        ("123456789.123456789", nil, 123456789.123456789),
        ("9223372036854775807", Int64.max, 9223372036854775807.0),
        ("-9223372036854775808", Int64.min, -9223372036854775808.0),
        ("9223372036854775808", nil, 9223372036854775808.0),
        ("12345678901234567890123", nil, 1.2345678901234568e22),
        ("1e400", nil, nil),
        ("-1e400", nil, nil),
        ("4.9e-324", nil, Double.leastNonzeroMagnitude),
        ("1.7976931348623157e308", nil, 1.7976931348623157e308),
        (#""200""#, 200, 200),
        (#""-7""#, -7, -7),
        (#""3.25""#, nil, 3.25),
        (#""1e3""#, 1000, 1000),
        (#"" 200""#, nil, nil),
        (#""abc""#, nil, nil),
        (#""""#, nil, nil),
        ("true", nil, nil),
        ("null", nil, nil),
    ]

    @Test(arguments: numbers)
    func convertsNumbers(json: String, int64: Int64?, double: Double?) throws {
        try withJSON(json) { value in
            #expect(value.int64 == int64)
            #expect(value.double == double)
            if let double, double == 0 { #expect(value.double?.sign == double.sign) }
        }
    }

    @Test func numbersMatchTheStandardLibrary() {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let value = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF | 0x3000_0000_0000_0000)
            for text in ["\(value)", String(Int64.random(in: -1_000_000...1_000_000, using: &rng)) + "." + String(Int.random(in: 0...999_999, using: &rng))] {
                let parsed = withView(text) { TextCodecs.parseDouble($0) }
                #expect(parsed == Double(text), "\(text)")
            }
        }
    }
}

@Suite struct JSONMalformedTests {
    static let malformed: [(String, String, Int)] = [
        ("", "empty document", 0),
        ("   ", "empty document", 3),
        (#"{"a":1"#, "unexpected end of document", 6),
        (#"{"a":"x}"#, "unterminated string", 5),
        (#""abc"#, "unterminated string", 0),
        (#""a\"#, "unterminated string", 0),
        (#""\x""#, "invalid escape", 1),
        (#""\'""#, "invalid escape", 1),
        (#""\u12g4""#, #"invalid \u escape"#, 1),
        (#""\u12""#, #"invalid \u escape"#, 1),
        (#"{"a":1}x"#, "trailing characters after the document", 7),
        (#"{"a":1} {"b":2}"#, "trailing characters after the document", 8),
        ("[1,2", "unexpected end of document", 4),
        ("[1,2}", "expected ',' or ']'", 4),
        (#"{"a":1]"#, "expected ',' or '}'", 6),
        (#"{"a" 1}"#, "expected ':'", 5),
        ("{1:2}", "expected a string key", 1),
        (#"{"a":1,}"#, "expected a string key", 7),
        ("[1,]", "unexpected character", 3),
        ("]", "unexpected character", 0),
        ("01", "invalid number", 0),
        ("-", "invalid number", 0),
        ("1.", "invalid number", 0),
        ("1.e5", "invalid number", 0),
        ("1e", "invalid number", 0),
        ("+1", "unexpected character", 0),
        (".5", "unexpected character", 0),
        ("[1 2]", "expected ',' or ']'", 3),
        ("tru", "invalid literal", 0),
        ("nul", "invalid literal", 0),
        ("True", "unexpected character", 0),
        (String(repeating: "[", count: 513), "nesting deeper than 512", 512),
        (String(repeating: "{\"a\":", count: 600), "nesting deeper than 512", 2560),
    ]

    @Test(arguments: malformed)
    func rejectsMalformedDocuments(json: String, reason: String, offset: Int) {
        #expect(parseError(Array(json.utf8)) == JSONError(reason: reason, offset: offset))
    }

    @Test func rejectsRandomTruncationsWithoutTrapping() {
        let text = Array(#"{"a":[1,-2.5e3,"x\"\u00e9",{"b":null,"c":[true,false]}],"d":"\ud83d\ude00"}"#.utf8)
        for end in 0..<text.count {
            #expect(parseError(Array(text[0..<end])) != nil, "prefix \(end)")
        }
        #expect(parseError(text) == nil)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            var mutated = text
            mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            _ = parseError(mutated)  // must not trap
        }
    }
}

/// A path set answers as `value(atPath:)` does, path by path: first member wins, escaped keys
/// match their decoded spelling, shared first keys, nested paths, empty paths and non-objects.
@Suite struct JSONPathSetTests {
    static let names = ["a", "b", "ab", "ba", "time", "é", "", "request", "model", "x.y"]

    /// A random member name, sometimes spelled with escapes (`\u0061` for `a`, `\/`).
    static func spelledKey(_ name: String, _ rng: inout SeededGenerator) -> String {
        guard Bool.random(using: &rng) else { return "\"" + name + "\"" }
        let escaped = name.unicodeScalars.map { scalar -> String in
            scalar.isASCII && Bool.random(using: &rng) ? String(format: "\\u%04x", scalar.value) : String(scalar)
        }.joined()
        return "\"" + escaped + "\""
    }

    static func object(depth: Int, _ rng: inout SeededGenerator) -> String {
        let members = (0..<Int.random(in: 0..<7, using: &rng)).map { _ -> String in
            let key = spelledKey(names.randomElement(using: &rng)!, &rng)
            let value: String
            switch Int.random(in: 0..<5, using: &rng) {
            case 0 where depth < 2: value = object(depth: depth + 1, &rng)
            case 1: value = "[1,{\"a\":2}]"
            case 2: value = "null"
            default: value = String(Int.random(in: 0..<1000, using: &rng))
            }
            return key + ":" + value
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    @Test(arguments: 0..<4)
    func answersAsPathLookups(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(seed) &+ 101)
        var paths: [[String]] = [[]]
        for _ in 0..<12 {
            paths.append((0..<Int.random(in: 1...3, using: &rng)).map { _ in Self.names.randomElement(using: &rng)! })
        }
        paths.append(["a"])  // the same path twice
        paths.append(["a"])
        let set = JSONPathSet(paths)
        for _ in 0..<300 {
            let text = Int.random(in: 0..<20, using: &rng) == 0 ? "[1,2]" : Self.object(depth: 0, &rng)
            try withJSON(text) { root in
                set.find(in: root)
                for (index, path) in paths.enumerated() {
                    // The same position in the record, not only equal bytes.
                    let expected = root.value(atPath: path).map { ($0.rawBytes.base, $0.rawBytes.count) }
                    let found = set.value(index, in: root).map { ($0.rawBytes.base, $0.rawBytes.count) }
                    #expect(found?.0 == expected?.0 && found?.1 == expected?.1, "\(text) at \(path)")
                }
                // One cursor moved from path to path in a random order (a miss leaves it where it
                // was): at every step where the lookup answers, at the same position.
                let rootIndex = root.position
                var cursor = root
                var last = (root.rawBytes.base, root.rawBytes.count)
                for index in paths.indices.shuffled(using: &rng) {
                    let expected = set.value(index, in: root).map { ($0.rawBytes.base, $0.rawBytes.count) }
                    let moved = set.move(&cursor, to: index, root: rootIndex)
                    #expect(moved == (expected != nil), "\(text) at \(paths[index])")
                    let now = (cursor.rawBytes.base, cursor.rawBytes.count)
                    let wanted = expected ?? last
                    #expect(now.0 == wanted.0 && now.1 == wanted.1, "\(text) at \(paths[index]): the cursor")
                    last = now
                }
            }
        }
    }
}

/// The flat scan against the whole parse and ``JSONPathSet/find(in:)``: whenever the scan takes a
/// record, the record parses and every path's value is the same bytes of the same kind; whenever
/// the parse rejects a record, the scan does too. Records: flat ones with every scalar kind,
/// spacing, duplicate and escaped keys, nested values, and random byte mutations of them.
@Suite struct JSONFlatScanTests {
    static let keys = ["timestamp", "client_ip", "a", "ab", "ba", "é", "", "status", "body"]
    static let scalars = ["\"x\"", "\"\"", "\"a\\\"b\"", "\"\\u00e9\\n\"", "0", "-0", "12", "-3.5e+7", "1E2", "0.25",
                          "true", "false", "null", "\"ü中\""]

    static func record(_ rng: inout SeededGenerator) -> String {
        let members = (0..<Int.random(in: 0..<8, using: &rng)).map { _ -> String in
            var key = "\"" + keys.randomElement(using: &rng)! + "\""
            if Int.random(in: 0..<12, using: &rng) == 0 { key = "\"\\u0061\"" }  // an escaped "a"
            let value: String
            switch Int.random(in: 0..<14, using: &rng) {
            case 0: value = "[1,2]"
            case 1: value = "{\"a\":1}"
            default: value = scalars.randomElement(using: &rng)!
            }
            let space = [" ", "", "\t", "\r\n"]
            return space.randomElement(using: &rng)! + key + space.randomElement(using: &rng)! + ":"
                + space.randomElement(using: &rng)! + value + space.randomElement(using: &rng)!
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func mutated(_ text: String, _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = Array(text.utf8)
        let noise: [UInt8] = [0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D, 0x20, 0x30, 0x2E, 0x65, 0x2D, 0x6E, 0xFF, 0x00]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0 where !bytes.isEmpty: bytes.remove(at: position)
            case 1 where !bytes.isEmpty: bytes[position] = noise.randomElement(using: &rng)!
            default: bytes.insert(noise.randomElement(using: &rng)!, at: position)
            }
        }
        return bytes
    }

    @Test(arguments: 0..<4)
    func agreesWithTheWholeParse(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &+ 777)
        let paths = [["timestamp"], ["client_ip"], ["a"], ["ab"], ["é"], [""], ["missing"], ["a"]]
        let set = JSONPathSet(paths)
        #expect(set.isFlat)
        let flat = JSONParser()
        let whole = JSONParser()
        var taken = 0
        for iteration in 0..<3000 {
            let text = Self.record(&rng)
            let bytes = iteration % 2 == 0 ? Array(text.utf8) : Self.mutated(text, &rng)
            bytes.withByteView { view in
                let scanned = flat.parseFlat(view, paths: set)
                let parsed = try? whole.parse(view)
                if parsed == nil { #expect(scanned == nil, "\(bytes)") }
                guard let scanned, let parsed else { return }
                taken += 1
                let scannedValues = paths.indices.map { set.value($0, in: scanned.root).map(Self.describe) }
                set.find(in: parsed.root)
                let parsedValues = paths.indices.map { set.value($0, in: parsed.root).map(Self.describe) }
                #expect(scannedValues == parsedValues, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(scanned.root.rawBytes.array == parsed.root.rawBytes.array)
            }
        }
        #expect(taken > 600)
    }

    /// A value's kind, source bytes and decoded string.
    static func describe(_ value: JSONValue) -> String {
        "\(value.kind) \(value.rawBytes.array) \(value.withDecodedString { $0.array } ?? [])"
    }

    @Test func declinesNestedAndEscapedKeysButNotTheirAbsence() throws {
        let set = JSONPathSet([["a"], ["b"]])
        let parser = JSONParser()
        for text in [#"{"a":1,"n":[1]}"#, #"{"a":{"b":1}}"#, #"{"\u0061":1}"#, "[1]", #"{"a":1}x"#, #"{"a":1,}"#, "", " "] {
            #expect(Array(text.utf8).withByteView { parser.parseFlat($0, paths: set) } == nil, "\(text)")
        }
        let document = try #require(Array(#" { "b" : "x" , "a" : 2 , "a" : 3 } "#.utf8).withByteView { view in
            parser.parseFlat(view, paths: set).map { document in
                (set.value(0, in: document.root)?.int64, set.value(1, in: document.root)?.string, document.root.count)
            }
        })
        #expect(document.0 == 2 && document.1 == "x" && document.2 == 0)
        #expect(!JSONPathSet([["a", "b"]]).isFlat)
    }
}

/// The word-at-a-time string scan (and its escaped-run path, which takes a word of `\"` escapes
/// whole) against the plain byte-by-byte scan it replaces, on strings dense in quotes, backslashes
/// and `\u` escapes, valid and not, at every alignment.
@Suite struct JSONStringScanTests {
    /// The reference: one byte at a time.
    static func reference(_ bytes: [UInt8], _ quote: Int) -> (end: Int, escaped: Bool, reason: String?) {
        let simple: Set<UInt8> = [0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74]
        var j = quote + 1
        var escaped = false
        while true {
            guard j < bytes.count else { return (0, false, "unterminated string") }
            let c = bytes[j]
            if c == 0x22 { return (j, escaped, nil) }
            guard c == 0x5C else { j += 1; continue }
            escaped = true
            guard j + 1 < bytes.count else { return (0, false, "unterminated string") }
            let e = bytes[j + 1]
            if simple.contains(e) {
                j += 2
            } else if e == 0x75 {
                guard j + 6 <= bytes.count, bytes[j + 2 ..< j + 6].allSatisfy({ TextCodecs.hexValue($0) != nil }) else {
                    return (0, false, "invalid \\u escape")
                }
                j += 6
            } else {
                return (0, false, "invalid escape")
            }
        }
    }

    /// The reference decoding of a string's content the scan accepted (its `\\u` escapes are of the
    /// Basic Multilingual Plane, not surrogates).
    static func decoded(_ content: [UInt8]) -> [UInt8] {
        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
        var out: [UInt8] = []
        var j = 0
        while j < content.count {
            guard content[j] == 0x5C else { out.append(content[j]); j += 1; continue }
            if let byte = simple[content[j + 1]] {
                out.append(byte)
                j += 2
            } else {
                let unit = UInt32(String(decoding: content[j + 2 ..< j + 6], as: UTF8.self), radix: 16)!
                out += Array(String(Unicode.Scalar(unit)!).utf8)
                j += 6
            }
        }
        return out
    }

    @Test func agreesWithTheByteByByteScan() {
        var rng = SeededGenerator(seed: 20261207)
        let pieces: [[UInt8]] = [Array("\\\"".utf8), Array("\\\"".utf8), Array("\\\"".utf8), Array("\\\\".utf8), Array("\\/".utf8),
                                 Array("\\n".utf8), Array("\\u00e9".utf8), Array("\\u12".utf8), Array("\\x".utf8), Array("\\".utf8),
                                 Array("\"".utf8), Array("a".utf8), Array("bcdefgh".utf8), Array("é".utf8), [0xFF], Array(":,{}".utf8)]
        var escapedSeen = 0
        var failures = 0
        let scratch = ScratchBuffer()
        for _ in 0..<20_000 {
            var bytes = Array(repeating: UInt8(ascii: "x"), count: Int.random(in: 0..<9, using: &rng)) + [0x22]
            let quote = bytes.count - 1
            for _ in 0..<Int.random(in: 0..<24, using: &rng) { bytes += pieces.randomElement(using: &rng)! }
            if Bool.random(using: &rng) { bytes += Array("\",\"k\":1}".utf8) }
            let expected = Self.reference(bytes, quote)
            let scanned: (end: Int, escaped: Bool)?
            var reason: String?
            do {
                scanned = try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
                    try JSONParser.scanString(buffer.baseAddress!, buffer.count, quote)
                }
            } catch {
                scanned = nil
                reason = error.reason
            }
            if let scanned {
                #expect(expected.reason == nil && scanned.end == expected.end && scanned.escaped == expected.escaped, "\(bytes)")
                if scanned.escaped { escapedSeen += 1 }
                // The decoder, which takes a word of `\"` escapes whole, decodes as one byte at a time.
                let content = Array(bytes[quote + 1 ..< scanned.end])
                scratch.removeAll()
                withView(content) { JSONStringDecoder.decode($0, into: scratch) }
                #expect(scratch.view.array == Self.decoded(content), "\(bytes)")
            } else {
                failures += 1
                #expect(reason == expected.reason, "\(bytes)")
            }
        }
        #expect(escapedSeen > 3000 && failures > 1000)
    }
}

/// The inline byte compare of the dictionary builder and ``ValueNumbering`` against `memcmp`, at
/// every length to 80 and a difference at every position (and none).
@Suite struct SameBytesTests {
    @Test func agreesWithMemcmp() {
        for count in 0...80 {
            let base = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            for position in -1..<count {
                var other = base
                if position >= 0 { other[position] ^= 0x20 }
                base.withUnsafeBytes { a in
                    other.withUnsafeBytes { b in
                        let expected = count == 0 || memcmp(a.baseAddress!, b.baseAddress!, count) == 0
                        #expect(sameBytes(a.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count)
                                == expected, "length \(count), difference at \(position)")
                    }
                }
            }
        }
    }
}

/// The ASCII fast path of `ByteView.isValidUTF8` against the standard library's validation, with
/// one non-ASCII byte (valid or not) at every position of texts up to 80 bytes.
@Suite struct ByteViewUTF8Tests {
    @Test func agreesWithTheStandardLibrary() {
        for count in 0...80 {
            for position in -1..<count {
                for byte: UInt8 in [0xFF, 0xC3, 0x80] {
                    var bytes = [UInt8](repeating: 0x61, count: count)
                    if position >= 0 { bytes[position] = byte }
                    if byte == 0xC3, position >= 0, position + 1 < count { bytes[position + 1] = 0xA9 }  // é
                    let expected = String(validating: bytes, as: UTF8.self) != nil
                    #expect(bytes.withByteView { $0.isValidUTF8 } == expected, "\(bytes)")
                }
            }
        }
    }

    /// The validation past the first byte beyond ASCII against the standard library's: every
    /// sequence of two bytes, three-byte sequences of every lead and second byte beyond ASCII, four-byte
    /// sequences around every lead from F0 to F4 and random strings of scalars, broken bytes and
    /// cut sequences.
    @Test func validatesAsTheStandardLibraryBeyondASCII() {
        var mismatches: [[UInt8]] = []
        func check(_ bytes: [UInt8]) {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if bytes.withByteView({ $0.isValidUTF8 }) != expected, mismatches.count < 10 { mismatches.append(bytes) }
        }
        for first in 0...255 {
            for second in 0...255 { check([0x61, UInt8(first), UInt8(second)]) }
        }
        for first in 0x80...0xFF {
            for second in 0...255 {
                for third: UInt8 in [0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF] {
                    check([UInt8(first), UInt8(second), third])
                }
            }
        }
        for lead in 0xF0...0xF5 {
            for second in 0x70...0xC0 {
                for third in [0x7F, 0x80, 0xBF, 0xC0] {
                    for fourth in [0x7F, 0x80, 0xA5, 0xBF, 0xC0] { check([UInt8(lead), UInt8(second), UInt8(third), UInt8(fourth)]) }
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = ["a", "é", "€", "𝔘", "\u{10FFFF}", "\u{FFFD}"].map { Array($0.utf8) }
            + [[0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xF0, 0x9D], [0x80], [0xFF]]
        for _ in 0..<50_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) { bytes += pieces.randomElement(using: &generator) ?? [] }
            check(bytes)
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
