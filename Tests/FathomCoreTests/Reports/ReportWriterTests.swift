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

@Suite struct ReportWriterTests {
    static let options = ReportOptions(now: "2026-03-04T12:00:00Z", verifyArchives: false,
                                       commandLine: ["fathom", "report", "--case", "IR-2026-0042", "--now", "2026-03-04T12:00:00Z"])

    func render(_ result: AnalysisResult = ReportSample.rich(), options: ReportOptions = options) throws -> [String: String] {
        try ReportWriter.render(result: result, hits: ReportSample.hits, options: options)
    }

    @Test func goldenFiles() throws {
        GoldenFiles.check(try render(), against: GoldenFiles.fixtureFolder("reports-golden"))
    }

    @Test func deterministic() throws {
        #expect(try render() == (try render()))
        let other = try render(options: ReportOptions(now: "2026-03-05T00:00:00Z", verifyArchives: false))
        #expect(other["brief.md"] != (try render())["brief.md"])
    }

    @Test func writesEveryDocument() throws {
        #expect(try Set(render().keys) == Set(ReportWriter.documentNames + ["timeline-volume.svg"]))
    }

    @Test(arguments: [
        ("brief.md", ["# AI/ML SECURITY INCIDENT — EXECUTIVE BRIEF", "**Classification**", "**Incident ID**", "**Date**", "**Incident Type**",
                      "## SITUATION", "## IMPACT", "## RESPONSE", "## ACTIONS REQUIRED", "## ESTIMATED RESOLUTION"]),
        ("timeline.md", ["## Key intervals", "Dwell time", "Time to detect", "Time to contain", "## Phases", "```mermaid\ngantt",
                         "## Impact windows", "## Query volume", "(timeline-volume.svg)", "## Events"]),
        ("regulator.md", ["## 1. Document control", "## 2. Status of this report", "## 3. Applicability and deadlines", "## 4. Classification",
                          "## 5. Timeline", "## 6. Assets", "## 7. Impact", "## 8. Attacker indicators", "## 9. Containment actions",
                          "## 10. Facts supplied by people", "## 11. Evidence appendix", "## 12. Open items"]),
        ("evidence.md", ["## Inputs", "### Archive 1", "Rejected records by reason", "Samples of rejected records", "## Tool and rules",
                         "## Reproducibility", "## Limitations seen in the data"]),
        ("response.md", ["**Fathom executes nothing.**", "## Flowchart path", "```mermaid\nflowchart TD", "## Actions on the path",
                         "## Ready-to-run commands", "### Roll back the model", "### Block the attackers"]),
    ])
    func sections(document: String, headings: [String]) throws {
        let text = try #require(try render()[document])
        var position = text.startIndex
        for heading in headings {
            let found = text.range(of: heading, range: position..<text.endIndex)
            #expect(found != nil, "\(document) lacks \(heading.debugDescription) (in order)")
            if let found { position = found.upperBound }
        }
    }

    @Test func briefFillsTheTemplate() throws {
        let brief = try #require(try render()["brief.md"])
        #expect(brief.contains("| **Incident ID** | IR-2026-0042 |"))
        #expect(brief.contains("| **Date** | 2026-03-04 |"))
        #expect(brief.contains("Model theft / extraction"))
        #expect(brief.contains("1,250,000 decisions a day"))
        #expect(brief.contains("**Compromised predictions served for:** 1 d 20 h 30 min (2026-03-01T14:00:00Z to 2026-03-03T10:30:00Z)"))
        #expect(brief.contains("an estimated 187,400 decisions (range 171,000–203,900, method: request volume × share served by version 7"))
        #expect(brief.contains("[TO BE COMPLETED: number of records potentially exposed]"))
        #expect(brief.contains("**Rollback:** to version 6 (last known good) at 2026-03-03T10:30:00Z."))
        #expect(brief.contains("**Root cause found:** [TO BE COMPLETED: root cause]"))
        #expect(brief.contains("## ESTIMATED RESOLUTION\n\n[TO BE COMPLETED: estimated resolution date]"))
        // Without an entity type DORA may apply, and its 24-hour limit is the earliest (issue #23).
        #expect(brief.contains("| Approve the regulatory notifications (DORA Art. 19(4)(a) first; all in regulator.md) | DPO and General Counsel | 2026-03-04 09:15 UTC (already passed) |"))
        // ACTIONS REQUIRED holds decisions for executives, at most seven, each with an owner and a deadline.
        let actions = try #require(brief.components(separatedBy: "## ACTIONS REQUIRED").last?.components(separatedBy: "## ESTIMATED").first)
        let rows = actions.split(separator: "\n").filter { $0.hasPrefix("| Approve") || $0.hasPrefix("| Confirm") }
        #expect(!rows.isEmpty && rows.count <= 7)
        #expect(rows.allSatisfy { $0.split(separator: "|").count == 3 })
        #expect(brief.contains("no control-plane action of an attacker (logging stopped, credentials created"))
    }

    @Test func exactFiguresSayTheyAreComputed() throws {
        var result = ReportSample.rich()
        result.affectedDecisions?.total = .count(12_345, unit: "decisions")
        result.affectedDecisions?.exact = true
        result.affectedDecisions?.byDecision = ["approve": 12_000, "decline": 345]
        let documents = try render(result)
        #expect(documents["brief.md"]?.contains("12,345 decisions (computed from the decision logs") == true)
        #expect(documents["regulator.md"]?.contains("| — of which decision approve | 12,000 | computed from logs |") == true)
    }

    @Test func timelineIntervalsAndOrder() throws {
        let timeline = try #require(try render()["timeline.md"])
        #expect(timeline.contains("| Dwell time | first indicator the analysis relies on 2026-02-28T22:00:00Z | first detection event 2026-03-03T08:55:00Z | 2 d 10 h 55 min |"))
        // Containment per incident: INC-1's own rollback; the others say why they have none.
        #expect(timeline.contains("| Time to contain INC-1 | first detection event 2026-03-03T08:55:00Z | containment: "))
        #expect(timeline.contains("2026-03-03T10:30:00Z | 1 h 35 min |"))
        let first = try #require(timeline.range(of: "Retrain burst by ci-bot"))
        let later = try #require(timeline.range(of: "Rollback to version 6"))
        #expect(first.lowerBound < later.lowerBound)
        #expect(timeline.contains("bundle.tar › mlflow/registry.db, line 40"))
        // An undated event (the model holds times, never text posing as one) says so.
        #expect(timeline.contains("| not determinable |"))
        // The analysis computes the intervals; a timeline without containment has no time to contain.
        var result = ReportSample.rich()
        result.timeline.removeAll { $0.phase == "containment" }
        result.keyIntervals = KeyInterval.of(timeline: result.timeline, incidents: result.incidents,
                                             awarenessTime: result.caseInfo.awarenessTime)
        #expect(result.keyIntervals?.filter { $0.measure.hasPrefix("Time to contain") }.allSatisfy { $0.seconds == nil } == true)
        #expect(try render(result)["timeline.md"]?.contains("| Time to contain INC-1 | first detection event 2026-03-03T08:55:00Z | not ") == true)
    }

    @Test func volumeChartIsSelfContained() throws {
        let svg = try #require(try render()["timeline-volume.svg"])
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("All traffic") && svg.contains("203.0.113.7") && svg.contains("2001:db8::1"))
        #expect(!svg.contains("<script") && !svg.contains("href"))
        var result = ReportSample.rich()
        result.extraction = nil
        #expect(try render(result)["timeline-volume.svg"] == nil)
    }

    @Test func regulatorDeadlinesAreCandidates() throws {
        let regulator = try #require(try render()["regulator.md"])
        // No entity, jurisdictions or listing in the case file: the regimes that may apply, said why.
        #expect(regulator.contains("| GDPR Art. 33(1) |"))
        #expect(regulator.contains("| 2026-03-06T09:15:00Z | in 1 d 21 h 15 min |"))
        #expect(regulator.contains("| 2026-03-04T09:15:00Z | **passed** 2 h 45 min ago |"))
        #expect(regulator.contains("The case file does not name the entity type"))
        #expect(regulator.contains("Were the determination made on the awareness date, the filing would be due 2026-03-09 (Monday)"))
        #expect(regulator.contains("**DRAFT — not for submission**"))
        #expect(regulator.contains("AML.T0024"))
        #expect(regulator.contains("| Records potentially exposed | [TO BE COMPLETED: number of records potentially exposed] | to be supplied by a person |"))
        #expect(regulator.contains("an estimated 187,400 decisions"))
        #expect(regulator.contains("Every action above precedes the generation of this report"))
        var aware = ReportSample.rich()
        aware.caseInfo.awarenessTime = nil
        let open = try #require(try render(aware)["regulator.md"])
        #expect(open.contains("| Awareness time | [TO BE COMPLETED: awareness time] |"))
        #expect(open.contains("- awareness time (case file 'awareness_time')"))
    }

    @Test func responseCommandsAreQuotedAndFilled() throws {
        let response = try #require(try render()["response.md"])
        // One address version per WAF IP set, the incident's attacker address included.
        #expect(response.contains("--addresses $EXISTING '203.0.113.7/32' '203.0.113.50/32'\n"))
        #expect(response.contains("--addresses $EXISTING '2001:db8::1/128'\n"))
        #expect(response.contains("Left out of the IP sets because they are not IP addresses: it's'; rm -rf \\~."))
        // An identity of unknown type is not turned into an IAM user or an API key value.
        #expect(!response.contains("update-api-key --api-key 'user-"))
        #expect(!response.contains("list-access-keys --user-name 'user-"))
        // The rollback names its target (the tag of the last known good), MLflow versions as integers.
        #expect(response.contains("confirm that 6 is clean"))
        #expect(response.contains("kubectl set image 'deployment/fraud-scorer' -n 'ml-serving' \"*=${IMAGE%:*}:6\""))
        #expect(response.contains("-d '{\"name\": \"fraud-scorer\", \"version\": \"7\", \"stage\": \"Archived\", \"archive_existing_versions\": false}'"))
        #expect(response.contains("\"alias\": \"champion\", \"version\": \"6\""))
        #expect(response.contains("classDef taken"))
        #expect(response.contains("linkStyle "))
        #expect(response.contains("The logs show confidence scores were returned to 203.0.113.7"))
        #expect(!response.contains("\u{202E}") && !response.contains("\u{1B}"))
    }

    @Test func noDocumentCarriesLiveHostileText() throws {
        for (name, document) in try render() where name.hasSuffix(".md") {
            let text = CodeBlocks.prose(of: document, name: name)
            #expect(!text.contains("<script"), "\(name)")
            #expect(!text.contains("](http"), "\(name)")
            #expect(!text.lowercased().contains("www.evil"), "\(name)")
            #expect(!text.contains("http://evil"), "\(name)")
            #expect(!text.unicodeScalars.contains { $0 != "\n" && MarkdownText.isUnsafe($0) }, "\(name)")
            #expect(!text.contains("[TO BE COMPLETED: forged]"), "\(name)")
            // Table rows keep their column count.
            var columns: Int?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                guard line.hasPrefix("|") else { columns = nil; continue }
                let count = LiveMarkdown.unescaped(String(line)).filter { $0.1 == "|" }.count
                if let columns { #expect(count == columns, "\(name): \(line.prefix(120))") } else { columns = count }
            }
        }
        let json = try #require(try render()["findings.json"])
        #expect(!json.unicodeScalars.contains { $0 != "\n" && MarkdownText.isUnsafe($0) })
        #expect(json.contains("\\u202e"))
    }

    @Test func findingsJSONIsSortedAndComplete() throws {
        let json = try #require(try render()["findings.json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["schemaVersion", "case", "generatedAt", "toolVersion", "rulesetHash", "inputsHash", "rules", "incidents", "analysis", "hits"])
        #expect((object["hits"] as? [Any])?.count == 2)
        let decoded = try JSONDecoder().decode(AnalysisResult.self, from: JSONSerialization.data(withJSONObject: object["analysis"] ?? [:]))
        #expect(decoded == ReportSample.rich())
        #expect(json.contains("\"AML.T0024\""))
        let broken = try ReportWriter.render(result: ReportSample.rich(), hits: Data("{".utf8), options: Self.options)
        #expect(broken["findings.json"]?.contains("\"hitsNote\"") == true)
    }

    /// The missing items of a `--final` refusal, nil when rendering succeeded or failed otherwise.
    func refusal(_ result: AnalysisResult, _ options: ReportOptions) -> [String]? {
        let outcome = Result { () throws(ReportError) -> [String: String] in try ReportWriter.render(result: result, hits: nil, options: options) }
        guard case let .failure(error) = outcome, case let .notFinal(missing) = error else { return nil }
        return missing
    }

    @Test func finalIsRefusedWhileHumanFieldsAreMissing() throws {
        var final = Self.options
        final.isFinal = true
        if let missing = refusal(ReportSample.rich(), final) {
            #expect(missing.contains("human field 'legal_basis'"))
            #expect(missing.contains("human field 'root_cause'"))
            #expect(missing.contains { $0.contains("[TO BE COMPLETED: estimated resolution date] in brief.md") })
            #expect(missing.contains { $0.contains("[TO BE COMPLETED: number of records potentially exposed] in brief.md, regulator.md") })
            #expect(!missing.contains { $0.contains("forged") })
        } else {
            Issue.record("expected a refusal")
        }
        var noAwareness = ReportSample.complete()
        noAwareness.caseInfo.awarenessTime = nil
        #expect(refusal(noAwareness, final)?.first?.hasPrefix("awareness time") == true)
        let documents = try ReportWriter.render(result: ReportSample.complete(), hits: nil, options: final)
        let regulator = try #require(documents["regulator.md"])
        #expect(regulator.contains("**FINAL**"))
        #expect(regulator.contains("| Version | final |"))
        #expect(regulator.contains("SEC Form 8-K Item 1.05"))
        #expect(regulator.contains("2026-03-11 (Wednesday)"))
        #expect(regulator.contains("Yes: the actions marked **before** changed the system before the notification at 2026-03-04T16:00:00Z."))
        for (name, text) in documents where name.hasSuffix(".md") { #expect(Placeholder.find(in: text).isEmpty, "\(name): \(Placeholder.find(in: text))") }
    }

    @Test(arguments: [("203.0.113.7", true), ("10.0.0.0/8", true), ("2001:db8::1", true), ("::1", true), ("::ffff:192.0.2.1", true),
                      ("2001:db8::/32", true), ("1:2:3:4:5:6:7:8", true), ("256.1.1.1", false), ("1.2.3", false), ("it's; rm", false),
                      ("1:2:3:4:5:6:7:8:9", false), ("1::2::3", false), ("203.0.113.7/33", false), ("", false), ("١.٢.٣.٤", false)])
    func addressSyntax(address: String, valid: Bool) {
        #expect(IPAddressText.isAddressOrCIDR(address) == valid)
    }

    @Test func reVerifiesArchives() throws {
        let folder = try TemporaryDirectory("fathom-reports")
        let good = try folder.write("good.log", "hello\n")
        let bad = try folder.write("bad.log", "changed\n")
        var result = ReportSample.rich()
        result.inputs[0].path = good
        result.inputs[0].sha256 = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
        result.inputs[1].path = bad
        var options = Self.options
        options.verifyArchives = true
        let evidence = try #require(try ReportWriter.render(result: result, hits: nil, options: options)["evidence.md"])
        #expect(evidence.contains("| verified |"))
        #expect(evidence.contains("| MISMATCH (now "))
        result.inputs[1].path = folder.path("gone.log")
        let missing = try #require(try ReportWriter.render(result: result, hits: nil, options: options)["evidence.md"])
        #expect(missing.contains("| not found at path |"))
        #expect(ArchiveVerifier.verify(path: good, expected: result.inputs[0].sha256.uppercased(), chunkSize: 2) == .verified)
    }

    /// Archives hashed by several threads at once (as `AnalysisOutput` shares them) get the statuses
    /// hashing them one by one gives, and the documents rendered with them are the same.
    @Test func sharedVerificationIsTheSequentialOne() throws {
        let folder = try TemporaryDirectory("fathom-reports")
        var inputs: [(path: String, sha256: String, size: Int64)] = []
        for index in 0..<24 {
            let text = String(repeating: "line \(index)\n", count: 1 + index * 500)
            let path = try folder.write("a\(index).log", text)
            let digest = try ArchiveVerifier.sha256(path: path)
            // Every third archive was altered since it was recorded; every fifth is gone.
            let recorded = index % 3 == 0 ? String(repeating: "0", count: 64) : digest
            inputs.append((index % 5 == 0 ? folder.path("gone\(index).log") : path, recorded, Int64(text.utf8.count)))
        }
        let sequential = Dictionary(inputs.map { ($0.path, ArchiveVerifier.verify(path: $0.path, expected: $0.sha256)) },
                                    uniquingKeysWith: { first, _ in first })
        #expect(Set(sequential.values.map { $0 == .verified ? 0 : $0 == .notFound ? 1 : 2 }).count == 3,
                "verified, mismatch and not found all occur")
        @Sendable func statuses(_ shared: ArchiveVerifications) -> [String: ArchiveVerification] {
            shared.results().mapValues(\.status)
        }
        for _ in 0..<3 {
            let shared = ArchiveVerifications(inputs)
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                if worker == 0 { #expect(statuses(shared) == sequential) } else { shared.help() }
            }
            #expect(statuses(shared) == sequential)
        }
        // Started early on an idle-class thread (as `analyze` and `sweep` do), then asked for.
        let early = ArchiveVerifications(inputs)
        early.startInBackground()
        #expect(statuses(early) == sequential)
        #expect(early.results().allSatisfy { path, checked in inputs.contains { $0.path == path && $0.sha256 == checked.sha256 } })
        var result = ReportSample.rich()
        result.inputs[0].path = inputs[1].path
        result.inputs[0].sha256 = inputs[1].sha256
        result.inputs[1].path = inputs[3].path
        var options = Self.options
        options.verifyArchives = true
        let verifications = ArchiveVerifications(result.inputs.map { ($0.path, $0.sha256, $0.size) })
        let withShared = try ReportWriter.renderDocuments(result: result, options: options, verifications: verifications)
        let alone = try ReportWriter.renderDocuments(result: result, options: options)
        #expect(withShared == alone)
        #expect(try #require(withShared["evidence.md"]).contains("| MISMATCH (now "))
        // A status checked against another hash than the one the report records is not used: the
        // archive is hashed again against its own.
        let stale = ArchiveVerifications(result.inputs.map { ($0.path, String(repeating: "0", count: 64), $0.size) })
        #expect(try ReportWriter.renderDocuments(result: result, options: options, verifications: stale) == alone)
    }

    @Test func runReadsTheStoredCaseAndWrites() throws {
        let folder = try TemporaryDirectory("fathom-reports")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try folder.write("store/cases/IR-2026-0042/analysis.json", encoder.encode(ReportSample.rich()))
        try folder.write("store/cases/IR-2026-0042/findings.json", ReportSample.hits)
        let request = ReportRequest(caseID: "IR-2026-0042", storeDirectory: folder.path("store"), outDirectory: folder.path("out"), options: Self.options)
        let written = try ReportWriter.run(request)
        #expect(written.count == 7)
        let brief = try String(contentsOfFile: folder.path("out/IR-2026-0042/brief.md"), encoding: .utf8)
        #expect(brief == (try render())["brief.md"])
        #expect(throws: ReportError.missingAnalysis(path: folder.path("store") + "/cases/IR-9/analysis.json")) {
            try ReportWriter.run(ReportRequest(caseID: "IR-9", storeDirectory: folder.path("store"), outDirectory: folder.path("out")))
        }
        #expect(throws: ReportError.invalidCaseID("../x")) {
            try ReportWriter.run(ReportRequest(caseID: "../x", storeDirectory: folder.path("store"), outDirectory: folder.path("out")))
        }
        #expect(throws: ReportError.invalidTime(option: "--now", value: "yesterday")) {
            try ReportWriter.render(result: ReportSample.rich(), hits: nil, options: ReportOptions(now: "yesterday"))
        }
    }
}

/// Fenced code blocks of a Markdown document, checked and removed.
enum CodeBlocks {
    /// `document` without its fenced code blocks; records an issue when a block holds a line that
    /// would close its fence early, or never closes.
    static func prose(of document: String, name: String) -> String {
        var prose: [Substring] = []
        var fence = 0
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            let run = line.prefix { $0 == "`" }.count
            if fence > 0 {
                if run >= fence {
                    #expect(line.allSatisfy { $0 == "`" }, "\(name): a line inside a code block starts with its fence: \(line.prefix(80))")
                    fence = 0
                }
                #expect(!line.unicodeScalars.contains { $0 != "\t" && MarkdownText.isUnsafe($0) }, "\(name): control character in a code block")
                continue
            }
            if run >= 3 { fence = run; continue }
            prose.append(line)
        }
        #expect(fence == 0, "\(name): unclosed code block")
        return prose.joined(separator: "\n")
    }
}
