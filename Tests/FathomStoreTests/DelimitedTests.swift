@testable import FathomStore
import Testing

/// Splits `line` with `splitter`, returning the fields as strings or the error.
func csv(_ line: String, delimiter: Character = ",") -> Result<[String], SplitError> {
    let splitter = DelimitedSplitter(delimiter: delimiter.asciiValue ?? 0x2C)
    return withView(line) { view in
        var fields: [ByteView] = []
        do throws(SplitError) {
            try splitter.split(view, into: &fields)
            return .success(fields.map(\.string))
        } catch {
            return .failure(error)
        }
    }
}

func spaced(_ line: String) -> Result<[String], SplitError> {
    withView(line) { view in
        do throws(SplitError) {
            return .success(try FieldSplitter.split(view).map(\.string))
        } catch {
            return .failure(error)
        }
    }
}

@Suite struct DelimitedTests {
    static let csvCases: [(String, Result<[String], SplitError>)] = [
        ("a,b,c", .success(["a", "b", "c"])),
        ("", .success([""])),
        (",", .success(["", ""])),
        ("a,,c", .success(["a", "", "c"])),
        ("a,b,", .success(["a", "b", ""])),
        (#""a,b",c"#, .success(["a,b", "c"])),
        (#""a""b",c"#, .success([#"a"b"#, "c"])),
        (#""""#, .success([""])),
        (#""""""#, .success([#"""#])),
        (#""",x"#, .success(["", "x"])),
        (#"x,"""#, .success(["x", ""])),
        (#""x","#, .success(["x", ""])),
        (#""""a""","b""""#, .success([#""a""#, #"b""#])),
        ("\"a\rb\",c", .success(["a\rb", "c"])),
        (#"a"b,c"#, .success([#"a"b"#, "c"])),
        (" a , b ", .success([" a ", " b "])),
        (#""é,ü","日本""#, .success(["é,ü", "日本"])),
        (#""abc"#, .failure(SplitError(reason: "unterminated quoted field", offset: 0))),
        (#"a,"b""c"#, .failure(SplitError(reason: "unterminated quoted field", offset: 2))),
        (#""a"b,c"#, .failure(SplitError(reason: "unexpected character after closing quote", offset: 3))),
        (#""a" ,c"#, .failure(SplitError(reason: "unexpected character after closing quote", offset: 3))),
    ]

    @Test(arguments: csvCases)
    func splitsCSV(line: String, expected: Result<[String], SplitError>) {
        #expect(csv(line) == expected)
    }

    @Test func splitsTSV() {
        #expect(csv("a\t\"b\tc\"\td,e", delimiter: "\t") == .success(["a", "b\tc", "d,e"]))
    }

    @Test func unescapedFieldsStayValidTogether() throws {
        let splitter = DelimitedSplitter()
        let line = Array((0..<50).map { #""v\#($0)""x""# }.joined(separator: ",").utf8)
        try withView(line) { view in
            var fields: [ByteView] = []
            try splitter.split(view, into: &fields)
            #expect(fields.map(\.string) == (0..<50).map { #"v\#($0)"x"# })
        }
    }

    static let spacedCases: [(String, Result<[String], SplitError>)] = [
        ("a b  c", .success(["a", "b", "c"])),
        ("  a\tb ", .success(["a", "b"])),
        ("", .success([])),
        (#"1.2.3.4 - - [06/Feb/2019:00:00:38 +0000] "GET /x?a=1 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11)""#,
         .success(["1.2.3.4", "-", "-", "06/Feb/2019:00:00:38 +0000", "GET /x?a=1 HTTP/1.1", "200", "512", "-", "Mozilla/5.0 (X11)"])),
        (#"79a5 awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::123:user/x 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /awsexamplebucket1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2"#,
         .success(["79a5", "awsexamplebucket1", "06/Feb/2019:00:00:38 +0000", "192.0.2.3", "arn:aws:iam::123:user/x",
                   "3E57427F3EXAMPLE", "REST.GET.VERSIONING", "-", "GET /awsexamplebucket1?versioning HTTP/1.1", "200", "-",
                   "113", "-", "7", "-", "-", "S3Console/0.4", "-", "s9lzHYrFp=", "SigV4", "ECDHE-RSA-AES128-GCM-SHA256",
                   "AuthHeader", "awsexamplebucket1.s3.us-west-1.amazonaws.com", "TLSV1.2"])),
        (#"a "say \"hi\"" b"#, .success(["a", #"say \"hi\""#, "b"])),
        (#"a "ends with \\" b"#, .success(["a", #"ends with \\"#, "b"])),
        (#""""#, .success([""])),
        (#"a "open"#, .failure(SplitError(reason: "unterminated quoted field", offset: 2))),
        (#"a "open \" still"#, .failure(SplitError(reason: "unterminated quoted field", offset: 2))),
        ("a [06/Feb/2019:00:00:38 +0000", .failure(SplitError(reason: "unterminated bracketed field", offset: 2))),
    ]

    @Test(arguments: spacedCases)
    func splitsSpaceSeparatedLogs(line: String, expected: Result<[String], SplitError>) {
        #expect(spaced(line) == expected)
    }
}

@Suite struct TextCodecsTests {
    static let percentCases: [(String, Bool, String)] = [
        ("plain", false, "plain"),
        ("a%20b", false, "a b"),
        ("a+b", false, "a+b"),
        ("a+b%2Bc", true, "a b+c"),
        ("%E6%97%A5%e6%9c%ac", false, "日本"),
        ("100%", false, "100%"),
        ("%zz%4", false, "%zz%4"),
        ("models%2Fweights.pt", false, "models/weights.pt"),
    ]

    @Test(arguments: percentCases)
    func percentDecodes(input: String, plusAsSpace: Bool, expected: String) {
        let scratch = ScratchBuffer()
        let decoded = withView(input) { TextCodecs.percentDecode($0, plusAsSpace: plusAsSpace, into: scratch).string }
        #expect(decoded == expected)
        #expect(withView(input) { TextCodecs.percentDecodedString($0, plusAsSpace: plusAsSpace) } == expected)
    }

    static let endpoints: [(String, String)] = [
        ("10.0.0.1:443", "10.0.0.1"),
        ("10.0.0.1", "10.0.0.1"),
        ("[2001:db8::1]:8443", "2001:db8::1"),
        ("[::1]", "::1"),
        ("2001:db8::1", "2001:db8::1"),
        (" host.example:80 ", "host.example"),
        ("host:http", "host:http"),
        ("", ""),
    ]

    @Test(arguments: endpoints)
    func splitsEndpoints(input: String, expected: String) {
        #expect(withView(input) { TextCodecs.address(ofEndpoint: $0).string } == expected)
    }

    static let integers: [(String, Int64?)] = [
        ("0", 0), ("200", 200), ("-15", -15), ("+7", 7), ("9223372036854775807", .max),
        ("-9223372036854775808", .min), ("9223372036854775808", nil), ("", nil), ("-", nil),
        ("1.0", nil), (" 1", nil), ("12a", nil),
    ]

    @Test(arguments: integers)
    func parsesIntegers(input: String, expected: Int64?) {
        #expect(withView(input) { TextCodecs.parseInt64($0) } == expected)
    }

    static let doubles: [(String, Double?)] = [
        ("0", 0), ("1.5", 1.5), ("-2.25e2", -225), ("+3", 3), (".5", 0.5), ("5.", 5), ("1e-5", 1e-5),
        ("", nil), (".", nil), ("e5", nil), ("1e", nil), ("nan", nil), ("inf", nil), ("0x10", nil), ("1e999", nil),
        ("0.30000000000000004", 0.30000000000000004), ("123456789012345678901234567890", 1.2345678901234568e29),
    ]

    @Test(arguments: doubles)
    func parsesDoubles(input: String, expected: Double?) {
        #expect(withView(input) { TextCodecs.parseDouble($0) } == expected)
    }

    @Test func comparesAndTrims() {
        #expect(withView("GetObject") { TextCodecs.equalsIgnoringASCIICase($0, "getobject") })
        #expect(!withView("GetObjec") { TextCodecs.equalsIgnoringASCIICase($0, "getobject") })
        #expect(withView("Ignore Previous Instructions now") { TextCodecs.containsIgnoringASCIICase($0, "previous instructions") })
        #expect(withView(" \t x y \r\n") { TextCodecs.trimmed($0).string } == "x y")
        #expect(withView("  ") { TextCodecs.trimmed($0).isEmpty })
    }
}

/// The space-separated splitter's word-at-a-time scan for a field's end against a byte-at-a-time
/// loop: from every start of random lines of spaces, tabs, their neighbouring byte values, bytes
/// beyond ASCII, quotes, brackets and backslashes, the same index (every alignment of the words).
@Suite struct FieldSplitterScanTests {
    @Test(arguments: 0..<4)
    func findsAFieldsEndAsTheByteLoop(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &+ 77)
        // Separators, their neighbours (0x1F, 0x21, 0x08, 0x0A), the high-bit versions (0xA0,
        // 0x89), quotes, brackets, backslashes and letters.
        let alphabet: [UInt8] = [0x20, 0x09, 0x1F, 0x21, 0x08, 0x0A, 0xA0, 0x89, 0x22, 0x5B, 0x5D, 0x5C, 0x61, 0x7A, 0x30, 0xC3]
        for _ in 0..<1_000 {
            let length = Int.random(in: 0..<90, using: &rng)
            // Mostly letters, so fields run past eight bytes and most words hold no separator.
            let line = (0..<length).map { _ in
                Int.random(in: 0..<4, using: &rng) == 0 ? alphabet.randomElement(using: &rng)! : 0x61
            }
            withViews([line]) { views in
                for start in 0...line.count {
                    let expected = line[start...].firstIndex { $0 == 0x20 || $0 == 0x09 } ?? line.count
                    #expect(FieldSplitter.fieldEnd(views[0], from: start) == expected, "\(line) from \(start)")
                }
            }
        }
    }
}
