@testable import FathomCore
import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomAnalysis
import FathomReports

/// The regulatory judgement (regimes.json + RegulatoryAssessment) and what regulator.md makes of it.
@Suite struct RegulatoryTests {
    static let options = ReportOptions(now: "2026-03-04T12:00:00Z", verifyArchives: false)

    /// The report sample as an EU credit institution (the SampleData scenario's facts).
    static func bank(awareness: Timestamp? = "2026-03-04T08:15:00Z") -> AnalysisResult {
        var result = ReportSample.rich()
        result.caseInfo.awarenessTime = awareness
        result.caseInfo.organisation = OrganisationFacts(entity: "credit institution", sector: "banking", jurisdictions: ["EU"],
                                                         listed: ["EU"], dataSubjectsResidentIn: ["EU"])
        result.dataExposure?.categories = ["card_number": 2, "email": 3, "aws_access_key": 2]
        return result
    }

    static func assess(_ result: AnalysisResult, materiality: CivilDate? = nil) throws -> RegulatoryAssessment {
        RegulatoryAssessment(result: result, regimes: try RegimeSet.builtIn(), materiality: materiality)
    }

    static func status(_ assessment: RegulatoryAssessment, _ id: String, scope: String = "organisation") -> RegulatoryAssessment.Status? {
        assessment.judgements.first { $0.regime.id == id && $0.scope == scope }?.status
    }

    /// The compiled-in regimes are the JSON file in the sources (`.ci/embed-json.py` writes it).
    @Test func builtInMatchesTheJSONFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/FathomReports/Regulatory/regimes.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text == RegimeSet.builtInJSON, "run python3 .ci/embed-json.py")
        let set = try RegimeSet.builtIn()
        #expect(set.regimes.map(\.id) == ["gdpr", "dora", "nis2", "ai-act", "sec", "pci", "us-states"])
        #expect(set.regimes.first { $0.id == "ai-act" }?.appliesFrom == "2026-08-02")
        #expect(set.regimes.first { $0.id == "dora" }?.appliesFrom == "2025-01-17")
        for regime in set.regimes { #expect(regime.url.hasPrefix("https://"), "\(regime.id) cites its source") }
    }

    /// EU AI Act Art. 73 applies from 2026-08-02: an incident in March 2026 has no AI Act deadline.
    @Test func aiActDoesNotApplyBeforeItsApplicationDate() throws {
        var result = Self.bank()
        result.caseInfo.models[0].annexIII = "5(b)"
        result.caseInfo.models[0].businessFunction = "consumer credit scoring"
        let march = try Self.assess(result)
        #expect(Self.status(march, "ai-act") == .doesNotApply)
        #expect(march.judgements.first { $0.regime.id == "ai-act" }?.reasons.first?.contains("2026-08-02") == true)
        #expect(!march.deadlines.contains { $0.regime.hasPrefix("EU AI Act") })
        // The same credit-scoring model after the date: a high-risk system, Art. 73 deadlines run.
        let september = try Self.assess({ var later = result; later.caseInfo.awarenessTime = "2026-09-01T10:00:00Z"; return later }())
        #expect(Self.status(september, "ai-act", scope: "model fraud-scorer") == .mayApply)
        #expect(september.deadlines.first { $0.regime == "EU AI Act Art. 73(2)" }?.due?.rfc3339 == "2026-09-16T10:00:00Z")
    }

    /// Fraud-detection systems are excluded from Annex III point 5(b), named or inferred.
    @Test func fraudDetectionIsExcludedFromAnnexIII5b() throws {
        var result = Self.bank(awareness: "2026-09-01T10:00:00Z")
        result.caseInfo.models = [ModelProfile(name: "fraud-detector", businessFunction: "card fraud scoring", annexIII: "5(b)"),
                                  ModelProfile(name: "fraud-2", businessFunction: "payment fraud detection")]
        let assessment = try Self.assess(result)
        #expect(Self.status(assessment, "ai-act", scope: "model fraud-detector") == .doesNotApply)
        #expect(Self.status(assessment, "ai-act", scope: "model fraud-2") == .doesNotApply)
        #expect(assessment.judgements.first { $0.scope == "model fraud-detector" }?.reasons.joined().contains("detecting financial fraud") == true)
        #expect(Self.status(assessment, "ai-act") == .doesNotApply)
    }

    /// DORA binds a credit institution and displaces NIS2; its initial notification (24 h after
    /// awareness at the latest) is the earliest deadline, and the one the brief quotes.
    @Test func doraDisplacesNIS2AndIsTheEarliestDeadline() throws {
        let result = Self.bank()
        let assessment = try Self.assess(result)
        #expect(Self.status(assessment, "dora") == .mayApply)
        #expect(Self.status(assessment, "nis2") == .doesNotApply)
        #expect(assessment.judgements.first { $0.regime.id == "nis2" }?.reasons.first?.hasPrefix("Displaced by DORA") == true)
        #expect(!assessment.deadlines.contains { $0.regime.hasPrefix("NIS2") })
        let context = try ReportContext(result: result, options: Self.options)
        let earliest = try #require(context.deadlines.compactMap { deadline in deadline.due.map { ($0, deadline) } }.min { $0.0 < $1.0 })
        #expect(earliest.1.regime.hasPrefix("DORA Art. 19(4)(a)"))
        #expect(earliest.0.rfc3339 == "2026-03-05T08:15:00Z")
        #expect(earliest.1.clockStart.contains("[TO BE COMPLETED: time the incident was classified as major"))
        // Intermediate 72 h after the initial notification, final a month after that.
        #expect(assessment.deadlines.first { $0.regime.hasPrefix("DORA Art. 19(4)(b)") }?.due?.rfc3339 == "2026-03-08T08:15:00Z")
        #expect(assessment.deadlines.first { $0.regime.hasPrefix("DORA Art. 19(4)(c)") }?.due?.rfc3339 == "2026-04-08T08:15:00Z")
        // With the classification time: 4 h after it, unless the 24 h limit from awareness comes first.
        var classified = result
        classified.caseInfo.humanFields[RegulatoryAssessment.doraClassificationField] = "2026-03-04T10:00:00Z"
        #expect(try Self.assess(classified).deadlines.first?.regime.hasPrefix("GDPR") == true)
        #expect(try Self.assess(classified).deadlines.first { $0.regime.hasPrefix("DORA Art. 19(4)(a)") }?.due?.rfc3339 == "2026-03-04T14:00:00Z")
        classified.caseInfo.humanFields[RegulatoryAssessment.doraClassificationField] = "2026-03-05T06:00:00Z"
        #expect(try Self.assess(classified).deadlines.first { $0.regime.hasPrefix("DORA Art. 19(4)(a)") }?.due?.rfc3339 == "2026-03-05T08:15:00Z")
        #expect(Self.status(try Self.assess(classified), "dora") == .applies)
        // A person's "not major" ends DORA's clocks.
        classified.caseInfo.humanFields[RegulatoryAssessment.doraClassificationField] = "not major: no service disrupted"
        #expect(Self.status(try Self.assess(classified), "dora") == .doesNotApply)
        #expect(!(try Self.assess(classified)).deadlines.contains { $0.regime.hasPrefix("DORA") })
    }

    /// A company that is not a financial entity: NIS2 may apply, DORA does not.
    @Test func nis2MayApplyOutsideFinance() throws {
        var result = Self.bank()
        result.caseInfo.organisation?.entity = "energy supplier"
        result.caseInfo.organisation?.sector = "energy"
        let assessment = try Self.assess(result)
        #expect(Self.status(assessment, "dora") == .doesNotApply)
        #expect(Self.status(assessment, "nis2") == .mayApply)
        #expect(assessment.deadlines.first { $0.regime == "NIS2 Art. 23(4)(a)" }?.due?.rfc3339 == "2026-03-05T08:15:00Z")
    }

    /// Card numbers in output: PCI DSS / card brands apply; no listing in the US: no SEC deadline;
    /// EU residents only: no US state law.
    @Test func cardNumbersListingAndResidence() throws {
        let assessment = try Self.assess(Self.bank())
        #expect(Self.status(assessment, "pci") == .applies)
        #expect(Self.status(assessment, "sec") == .doesNotApply)
        #expect(Self.status(assessment, "us-states") == .doesNotApply)
        #expect(Self.status(assessment, "gdpr") == .applies)
        var us = Self.bank()
        us.caseInfo.organisation?.listed = ["US"]
        us.caseInfo.organisation?.dataSubjectsResidentIn = ["EU", "US-CA"]
        us.dataExposure?.categories = ["aws_access_key": 1]
        let listed = try Self.assess(us, materiality: CivilDate(year: 2026, month: 3, day: 5))
        #expect(Self.status(listed, "sec") == .applies || Self.status(listed, "sec") == .mayApply)
        #expect(listed.deadlines.first { $0.regime.hasPrefix("SEC") }?.dueDate == CivilDate(year: 2026, month: 3, day: 11))
        #expect(Self.status(listed, "pci") == .doesNotApply || Self.status(listed, "pci") == .mayApply)
        #expect(Self.status(listed, "us-states") == .mayApply)
        #expect(Self.status(listed, "gdpr") == .mayApply)
    }

    /// regulator.md: the judgement with reasons, deadlines only where a regime applies or may
    /// apply, the GDPR Art. 33(3) draft with every element, and "in production" from the evidence.
    @Test func regulatorReportJudgesAndDrafts() throws {
        var result = Self.bank()
        result.caseInfo.models[0].inProduction = nil
        result.modelTraffic = [ModelTraffic(model: "fraud-scorer", kind: "predictions", rows: 1_200, first: "2026-03-01T00:00:00Z", last: "2026-03-03T23:00:00Z")]
        let regulator = try #require(try ReportWriter.render(result: result, hits: nil, options: Self.options)["regulator.md"])
        #expect(!regulator.contains("in production not stated"))
        #expect(regulator.contains("yes (computed from logs: 1,200 predictions rows answered"))
        #expect(regulator.contains("| NIS2 | organisation | **does not apply** | Displaced by DORA"))
        #expect(regulator.contains("| EU AI Act | organisation | **does not apply** |"))
        let deadlines = try #require(regulator.components(separatedBy: "### 3.3 Deadlines").last?.components(separatedBy: "### 3.4").first)
        #expect(!deadlines.contains("NIS2") && !deadlines.contains("EU AI Act") && !deadlines.contains("SEC"))
        #expect(deadlines.contains("Earliest due time: **2026-03-05T08:15:00Z**, DORA"))
        for element in ["| (a) | Nature of the breach |", "| (a) | Categories of personal data | payment card numbers 2, e-mail addresses 3",
                        "| (a) | Categories of data subjects |", "| (a) | Approximate number of data subjects |",
                        "| (a) | Approximate number of personal data records |", "| (b) | Name and contact details of the DPO",
                        "| (c) | Likely consequences | From the data categories found: fraudulent payments with the disclosed card numbers",
                        "| (d) | Measures taken |", "| (d) | Measures proposed"] {
            #expect(regulator.contains(element), "\(element)")
        }
        // The DPO contact comes from the case file, escaped.
        #expect(!regulator.contains("| (b) | Name and contact details of the DPO or other contact point | [TO BE COMPLETED"))
        #expect(!regulator.contains("<script>"))
    }

    /// A regimes file a user edits: a moved application date moves the judgement; a bad file is refused.
    @Test func regimesFileOverridesAndIsValidated() throws {
        var json = RegimeSet.builtInJSON.replacingOccurrences(of: "\"appliesFrom\": \"2026-08-02\"", with: "\"appliesFrom\": \"2026-01-01\"")
        var result = Self.bank()
        result.caseInfo.models[0].annexIII = "5(c)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("regimes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("regimes.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        let moved = RegulatoryAssessment(result: result, regimes: try RegimeSet.load(path: path), materiality: nil)
        #expect(Self.status(moved, "ai-act", scope: "model fraud-scorer") == .mayApply)
        var options = Self.options
        options.regimes = try RegimeSet.load(path: path)
        let regulator = try #require(try ReportWriter.render(result: result, hits: nil, options: options)["regulator.md"])
        #expect(regulator.contains("EU AI Act Art. 73(2)"))
        json = RegimeSet.builtInJSON.replacingOccurrences(of: "\"test\": \"card-data\"", with: "\"test\": \"vibes\"")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReportError.self) { try RegimeSet.load(path: path) }
        json = RegimeSet.builtInJSON.replacingOccurrences(of: "\"appliesFrom\": \"2025-01-17\"", with: "\"appliesFrom\": \"17.1.2025\"")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ReportError.self) { try RegimeSet.load(path: path) }
    }

    /// The case file's organisation and custody keys are read; unknown custody keys are errors.
    @Test func caseFileOrganisationAndCustody() throws {
        let file = try CaseFile(yaml: """
            entity: credit institution
            sector: banking
            jurisdictions: [EU]
            listed: US
            data_subjects_resident_in: [EU, US-NY]
            custody:
              collector: SOC
              acquired_at: 2026-03-04T11:00:00Z
              examiner: ""
            models:
              - name: m
                annex_iii: 5(b)
            """, origin: "case.yaml")
        #expect(file.entity == "credit institution" && file.jurisdictions == ["EU"] && file.listed == ["US"])
        #expect(file.dataSubjectsResidentIn == ["EU", "US-NY"])
        #expect(file.custody?.collector == "SOC" && file.custody?.examiner == nil && file.custody?.acquiredAt?.rfc3339 == "2026-03-04T11:00:00Z")
        #expect(file.models.first?.annexIII == "5(b)")
        #expect(throws: AnalysisError.self) { try CaseFile(yaml: "custody:\n  colector: x\n", origin: "c.yaml") }
        #expect(throws: AnalysisError.self) { try CaseFile(yaml: "custody:\n  acquired_at: yesterday\n", origin: "c.yaml") }
    }
}
