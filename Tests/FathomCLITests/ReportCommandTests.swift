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

/// `fathom report` end to end: exit statuses and byte-identical output.
@Suite struct ReportCommandTests {
    /// A minimal stored analysis; `complete` supplies every human fact.
    static func analysis(complete: Bool) throws -> String {
        let result = AnalysisResult(
            caseInfo: CaseInfo(id: "IR-7", title: "Test", classification: "CONFIDENTIAL",
                               awarenessTime: complete ? Timestamp(rfc3339: "2026-03-03T09:15:00Z") : nil, generatedAt: Timestamp(nanoseconds: 1_772_625_600_000_000_000),
                               models: [ModelProfile(name: "m", businessFunction: "scoring", dailyVolume: 10, dataType: "rows")],
                               contacts: ["lead": "a@example.com"],
                               humanFields: complete
                                   ? ["estimated_resolution": "2026-03-20", "root_cause": "stolen key", "remediation": "retrained",
                                      "sec_materiality_determination": "not an SEC registrant", "data_subjects_affected": "0",
                                      // Issue #23: DORA may apply without an entity type, until a person classifies.
                                      "dora_classification": "not major: no service was disrupted"]
                                   : ["legal_basis": nil]),
            provenance: RunProvenance(toolVersion: "0.1.0", commandLine: ["fathom", "analyze", "x"], rulesetHash: "ab", inputsHash: "cd",
                                      dataStart: nil, dataEnd: nil),
            inputs: [], coverage: [], rules: [], incidents: [],
            flowchart: FlowchartResult(incidentTypes: [], path: [], nodes: [], edges: []),
            extraction: nil, affectedDecisions: nil, dataExposure: nil, registry: nil, integrity: [], contradictions: [],
            timeline: [], openItems: [], broaderCompromise: [])
        var stored = result
        if complete {
            // Issue #23: the chain of custody is part of a final evidence report.
            stored.caseInfo.custody = CustodyFacts(collector: "SOC", acquiredAt: Timestamp(rfc3339: "2026-03-03T12:00:00Z"),
                                                   examiner: "A. Analyst", source: "gateway exports", storage: "evidence locker")
        }
        return String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
    }

    @Test func finalIsRefusedThenWritten() throws {
        let directory = try TemporaryDirectory("fathom-report")
        try directory.write("store/cases/IR-7/analysis.json", try Self.analysis(complete: false))
        let refused = try CLI.run(["report", "--case", "IR-7", "--store", "store", "--final"], in: directory.url)
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("fathom:   - human field 'legal_basis'"))
        #expect(refused.stderr.contains("awareness time"))
        #expect(!FileManager.default.fileExists(atPath: directory.file("Reports/IR-7/regulator.md").path))

        let draft = try CLI.run(["report", "--case", "IR-7", "--store", "store", "--no-verify"], in: directory.url)
        #expect(draft.status == 0)
        let regulator = try String(contentsOf: directory.file("Reports/IR-7/regulator.md"), encoding: .utf8)
        #expect(regulator.contains("**DRAFT — not for submission**"))

        try directory.write("store/cases/IR-7/analysis.json", try Self.analysis(complete: true))
        let final = try CLI.run(["report", "--case", "IR-7", "--store", "store", "--final", "--now", "2026-03-04T12:00:00Z"], in: directory.url)
        #expect(final.status == 0, "\(final.stderr)")
        let first = try Data(contentsOf: directory.file("Reports/IR-7/regulator.md"))
        #expect(String(decoding: first, as: UTF8.self).contains("**FINAL**"))
        _ = try CLI.run(["report", "--case", "IR-7", "--store", "store", "--final", "--now", "2026-03-04T12:00:00Z"], in: directory.url)
        #expect(try Data(contentsOf: directory.file("Reports/IR-7/regulator.md")) == first)
    }

    @Test func missingCaseAndBadArguments() throws {
        let directory = try TemporaryDirectory("fathom-report")
        #expect(try CLI.run(["report", "--case", "IR-9", "--store", "store"], in: directory.url).status == 3)
        #expect(try CLI.run(["report", "--case", "../x"], in: directory.url).status == 64)
        #expect(try CLI.run(["report", "--case", "IR-9", "--now", "yesterday"], in: directory.url).status == 64)
    }
}
