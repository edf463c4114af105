import Foundation
import Testing

/// `fathom hunt --rules DIR` and `fathom rules lint DIR` with a folder in which some rules cannot
/// be used: each is reported on one line and skipped, the others run (exit 6).
@Suite struct HuntCommandTests {
    static let log = """
        198.51.100.23 - - [02/Mar/2026:10:00:00 +0000] "POST /v1/models/fraud:predict HTTP/1.1" 200 512 "-" "python-requests/2.31.0"
        198.51.100.24 - - [02/Mar/2026:10:00:05 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"

        """

    static let goodRule = """
        title: Prediction call
        name: test.predict-call
        level: high
        logsource: {product: fathom, service: inference}
        detection:
          sel:
            path|contains: predict
          condition: sel

        """

    /// Three problems: a YAML error (its message spans lines), a logsource Fathom does not read,
    /// and an id that is also a built-in rule's.
    static let badRules: [(String, String)] = [
        ("broken.yml", "title: broken\ndetection:\n  sel: [unclosed\n  condition: sel\n"),
        ("windows.yml", "title: windows\nname: test.windows\nlogsource: {product: windows}\ndetection:\n  sel: {key: x}\n  condition: sel\n"),
        ("clash.yml", "title: clash\nname: extraction.volume\nlogsource: {product: fathom, service: inference}\n"
            + "detection:\n  sel: {path: /x}\n  condition: sel\n"),
    ]

    static func prepare() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("hunt")
        try Self.log.write(to: directory.file("access.log"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: directory.file("rules"), withIntermediateDirectories: true)
        try Self.goodRule.write(to: directory.file("rules/good.yml"), atomically: true, encoding: .utf8)
        for (name, text) in Self.badRules {
            try text.write(to: directory.file("rules/" + name), atomically: true, encoding: .utf8)
        }
        let ingest = try CLI.run(["ingest", "access.log", "--store", "store"], in: directory.url)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        return directory
    }

    @Test func badRulesAreSkippedAndTheOthersRun() throws {
        let directory = try Self.prepare()
        let run = try CLI.run(["hunt", "--store", "store", "--rules", "rules", "--format", "jsonl"], in: directory.url)
        #expect(run.status == 6, "some rules were skipped: \(run.stderr)")
        let hits = run.stdout.split(separator: "\n")
        #expect(hits.filter { $0.contains("\"rule\":\"test.predict-call\"") }.count == 1, "the usable rule ran: \(run.stdout)")
        #expect(!run.stdout.contains("test.windows"))
        let skipped = run.stderr.split(separator: "\n").filter { $0.hasPrefix("fathom: skipped: ") }
        #expect(skipped.count == 3, "one line per problem: \(run.stderr)")
        #expect(skipped.contains { $0.contains("rules/broken.yml:") && $0.contains("not valid YAML") })
        #expect(skipped.contains { $0.contains("rules/windows.yml:") && $0.contains("rule 'test.windows'") && $0.contains("logsource") })
        #expect(skipped.contains { $0.contains("rules/clash.yml:") && $0.contains("built-in") })
        #expect(!run.stderr.contains("\\u{a}"), "no escaped line breaks inside a line")
    }

    @Test func lintListsEveryProblemAndExitsSix() throws {
        let directory = try Self.prepare()
        let lint = try CLI.run(["rules", "lint", "rules"], in: directory.url)
        #expect(lint.status == 6)
        #expect(lint.stdout.contains("1 rule(s) usable, 3 problem(s)."), "\(lint.stdout)")
        let clean = try CLI.run(["rules", "lint", "rules/good.yml"], in: directory.url)
        #expect(clean.status == 0, "\(clean.stdout)")
    }
}
