@testable import FathomCore
import FathomStore
import Foundation
import Testing

/// The Spark job's JSON decoding (Python's C `json` scanner with Fathom's hooks, plus the exact
/// member-span parser it falls back to for objects written as text) answers as the native
/// ``JSONParser`` does, record by record: the same records accepted, the same first member of
/// duplicate keys, and the same text written for each member (strings decoded, numbers, booleans,
/// objects and arrays as spelled in the record).
@Suite struct SparkJSONTests {
    /// Records chosen for the places where Python's `json` and the native parser differ unless the
    /// job says otherwise: duplicate keys, number spellings, NaN/Infinity, control characters,
    /// escapes, nesting depth, whitespace and trailing text.
    static let edges: [String] = [
        #"{"a":1,"a":2}"#,
        #"{"a":{"b":1,"b":2},"a":3}"#,
        #"{"n":1e3,"m":2.0,"k":-0,"z":-0.0,"big":123456789012345678901234567890,"e":1E+2,"f":0.5e-3}"#,
        #"{"n":NaN}"#, #"{"n":Infinity}"#, #"{"n":-Infinity}"#,
        #"{"n":01}"#, #"{"n":1.}"#, #"{"n":.5}"#, #"{"n":+1}"#, #"{"n":1e}"#,
        "{\"t\":\"tab\there\",\"nl\":\"a\u{01}b\"}",
        #"{"s":"\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t"}"#,
        #"{"s":"\x"}"#, #"{"s":"\u12"}"#,
        #"{ "o" : { "x" : [ 1 , 2 ] } , "l" : [ ] , "e" : { } }"#,
        #"{"a":1} x"#, #"{"a":1}  "#, #"  {"a":true,"b":false,"c":null}"#,
        #"[1,2]"#, #""text""#, #"{"a":1,}"#, #"{"a" 1}"#, #"{}"#, "",
        "{\"d\":" + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + "}",
        "{\"d\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}",
        "{\"d\":\"" + String(repeating: "[", count: 600) + "\"}",
        #"{"R\u0065gion":"eu","Region":"us"}"#,
    ]

    /// Seeded records: random members, spacing, duplicates, nesting and number spellings.
    static func generated(count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let keys = ["a", "b", "time", "src_ip", "R\\u0065gion", "x y"]
        let numbers = ["0", "-0", "12", "-7", "1e3", "2.0", "1.5E-2", "9223372036854775808", "0.1"]
        let strings = [#""plain""#, #""esc\"aped\\""#, #""\u00fcml""#, #""tab\tnl\n""#, #""""#, "\"raw\u{7}ctl\""]
        func space() -> String { ["", " ", "\t", "  "][next(4)] }
        func value(_ depth: Int) -> String {
            switch next(depth > 2 ? 4 : 6) {
            case 0: return numbers[next(numbers.count)]
            case 1: return strings[next(strings.count)]
            case 2: return ["true", "false", "null"][next(3)]
            case 3: return strings[next(strings.count)]
            case 4: return "[" + (0..<next(3)).map { _ in space() + value(depth + 1) + space() }.joined(separator: ",") + "]"
            default: return object(depth + 1)
            }
        }
        func object(_ depth: Int) -> String {
            "{" + space() + (0..<next(5)).map { _ in
                "\"\(keys[next(keys.count)])\"" + space() + ":" + space() + value(depth)
            }.joined(separator: space() + "," + space()) + space() + "}"
        }
        return (0..<count).map { _ in object(0) }
    }

    /// What the native parser makes of a record: nil when rejected, otherwise each distinct key's
    /// first member as [key, kind, text] (text as JSONFields.writeString writes it; "" for null).
    static func native(_ record: String) -> [[String]]? {
        let bytes = Array(record.utf8)
        return bytes.withUnsafeBytes { raw -> [[String]]? in
            guard let document = try? JSONParser().parse(ByteView(unsafeStart: raw.baseAddress, count: raw.count)) else {
                return nil
            }
            let root = document.root
            guard root.kind == .object else { return [["<not an object>"]] }
            var seen = Set<String>()
            var result: [[String]] = []
            for (key, value) in root.members where seen.insert(key).inserted {
                let text: String
                switch value.kind {
                case .string: text = value.string ?? ""
                case .null: text = ""
                default: text = value.rawBytes.string
                }
                result.append([key, "\(value.kind)", text])
            }
            return result
        }
    }

    static let python = #"""
import json, sys
sys.path.insert(0, sys.argv[1])
import fathom_spark_job as job
out = []
for text in json.load(sys.stdin):
    try:
        record = job.load_record(text)
    except job.Reject as error:
        out.append(None if "malformed" in str(error) else [["<not an object>"]])
        continue
    members = []
    for key, value in record.value.items():
        found = record.get([key])
        kind = ("null" if value is None else "bool" if isinstance(value, bool) else "number" if isinstance(value, job.RawNumber)
                else "string" if isinstance(value, str) else "object" if isinstance(value, dict) else "array")
        members.append([key, kind, job.write_string_value(found) or ""])
    out.append(members)
json.dump(out, sys.stdout)
"""#

    /// Runs `python` (a script that imports the job from the folder in `sys.argv[1]`) with the
    /// job's own Python as `fathom spark-job` writes it, `payload` on its standard input; returns
    /// its standard output. Expects it to exit 0.
    static func runJobPython(_ python: String, payload: Data) throws -> Data {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spark-python-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(PackageResources.fathom_spark_job_py).write(to: folder.appendingPathComponent("fathom_spark_job.py"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", python, folder.path]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(payload); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return data
    }

    /// The job's answers for `records`, from the job's own Python (as `fathom spark-job` writes it).
    static func spark(_ records: [String]) throws -> [[[String]]?] {
        let data = try runJobPython(python, payload: try JSONSerialization.data(withJSONObject: records))
        let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [Any])
        return decoded.map { $0 as? [[String]] }
    }

    @Test func edgeRecordsDecodeAsNatively() throws {
        let answers = try Self.spark(Self.edges)
        for (record, answer) in zip(Self.edges, answers) {
            #expect(answer == Self.native(record), "record \(record.prefix(80))")
        }
        // The table exercises both verdicts and the first-of-duplicates rule.
        #expect(Self.native(Self.edges[0]) == [["a", "number", "1"]])
        #expect(Self.native(#"{"n":NaN}"#) == nil)
        #expect(Self.native(Self.edges[25]) != nil && Self.native(Self.edges[26]) == nil)
    }

    @Test func generatedRecordsDecodeAsNatively() throws {
        let records = Self.generated(count: 3000, seed: 25)
        let answers = try Self.spark(records)
        var differences = 0
        for (record, answer) in zip(records, answers) where answer != Self.native(record) {
            differences += 1
            if differences <= 3 { Issue.record("differs: \(record)") }
        }
        #expect(differences == 0)
        #expect(records.contains { $0.contains("\"a\":1e3") || $0.contains("1e3") })
    }
}
