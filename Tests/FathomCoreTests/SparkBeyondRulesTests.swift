@testable import FathomCore
import Foundation
import Testing
import FathomDetect

/// The Spark job's judgments for `llm.sensitive-output` and `audit.control-plane` — its own
/// Python, reading the tables `fathom-spec.json` exports — answer as the native ones
/// (`SensitiveData.findings`, `ControlPlane.category`) on edge texts and rows and on seeded random
/// ones. (`.ci/spark-equivalence` then compares the two rules hit for hit on SampleData.)
@Suite struct SparkBeyondRulesTests {
    static let edgeTexts: [String] = [
        "Your card 4539 1488 0343 6467 is active.", "Try 4539-1488-0343-6468 instead.",
        "Card 4539  1488 0343 6467, 4539 -1488 0343 6467 and 1111111111111111.", "4539148803436467",
        "SSN 123-45-6789, not 666-12-3456 nor 900-12-3456 nor 123-00-4567 nor 123-45-0000 nor 000-12-3456.",
        "x123-45-6789 -123-45-6789 123-45-6789- 1123-45-6789",
        "NI number QQ 12 34 56 C, AB123456C, GB123456A, ab 12 34 56 d, DA123456A, AO123456B, NK123456A.",
        "IBAN GB82 WEST 1234 5698 7654 32 and DE89370400440532013000; bad GB82WEST12345698765433; gb82west12345698765432.",
        "Write to jane.doe+billing@example.co.uk or ops@localhost or a@b.c or x@-bad.com or first.last@sub-domain.example.org.",
        "Keys: AKIAIOSFODNN7EXAMPLE, XAKIAIOSFODNN7EXAMPLE, ASIAIOSFODNN7EXAMPLE1, ghp_" + String(repeating: "a", count: 36)
            + ", github_pat_" + String(repeating: "B", count: 22) + ", xoxb-1234567890-abc, xoxq-1234567890, sk-proj-"
            + String(repeating: "Z", count: 24) + ", sk-short, -sk-" + String(repeating: "q", count: 30) + ".",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB", "-----BEGIN PRIVATE KEY-----", "-----BEGIN ENCRYPTED PRIVATE KEY----",
        "Nothing sensitive here: order 1234567890123 shipped.",
        "Ünïcödé 𝟘 4539 1488 0343 6467 ＡＫＩＡIOSFODNN7EXAMPLE é@example.com jörg@example.com",
        "", " ", "@", "AB12", "GB82", "4539 1488 0343 6467 4539 1488 0343 6467",
    ]

    /// Seeded texts: pieces that are, or nearly are, each category, joined by separators that
    /// do and do not bound a match.
    static func generatedTexts(count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(next(10))) }) }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        let pieces: [() -> String] = [
            { digits(4) + [" ", "-", "", "  "][next(4)] + digits(4) + [" ", "-", ""][next(3)] + digits(4) + " " + digits(next(8)) },
            { "4539 1488 0343 6467" }, { "5555-5555-5555-4444" }, { "378282246310005" },
            { digits(3) + "-" + digits(2) + "-" + digits(4) },
            { ["QQ", "AB", "GB", "DA", "ZZ", "ce"][next(6)] + [" ", ""][next(2)] + digits(2) + " " + digits(2) + " " + digits(2) + " " + ["A", "C", "d", "E"][next(4)] },
            { ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "GB" + digits(2) + "WEST" + digits(14), "FR14 2004 1010 0505 0001 3M02 606"][next(4)] },
            { ["jane", "a.b", "x_y%z", "é"][next(4)] + "@" + ["example.com", "sub.example.co.uk", "localhost", "-x.org"][next(4)] },
            { ["AKIA", "ASIA", "AKIB"][next(3)] + String((0..<16).map { _ in alphabet[next(alphabet.count)] }) },
            { "gh" + ["p", "o", "x"][next(3)] + "_" + String(repeating: "k", count: 30 + next(10)) },
            { "xox" + ["b", "p", "z"][next(3)] + "-" + digits(8 + next(6)) },
            { "sk-" + ["", "proj-", "ant-"][next(3)] + String(repeating: "A", count: 15 + next(10)) },
            { "-----BEGIN " + ["RSA ", "", "OPENSSH ", "rsa "][next(4)] + "PRIVATE KEY-----" },
            { ["hello", "Ⅻ", "𝟘𝟙", "x", "_", "-", "."][next(7)] },
        ]
        return (0..<count).map { _ in
            (0..<(1 + next(4))).map { _ in pieces[next(pieces.count)]() }.joined(separator: [" ", "", "-", "\n", "x", ", "][next(6)])
        }
    }

    /// Audit rows: every table entry, its neighbours (other case, other source, no match) and the
    /// Kubernetes exemption.
    static func auditRows() -> [[String]] {
        var actions = Array(FathomDetect.ControlPlane.cloudTrail.keys) + Array(FathomDetect.ControlPlane.azureActivity.keys) + Array(FathomDetect.ControlPlane.entraAudit.keys)
        actions += actions.map { $0.lowercased() } + FathomDetect.ControlPlane.kubernetes.map(\.verb) + ["delete", "GetObject", "", "ſtopLogging"]
        let services = Array(Set(FathomDetect.ControlPlane.kubernetes.map(\.resource))) + ["pods", "secrets/x", ""]
        var rows: [[String]] = []
        for source in ["cloudtrail", "azure-activity", "azure-audit", "k8s-audit", "generic", ""] {
            for action in Set(actions).sorted() {
                let serviceChoices = source == "k8s-audit" ? services.sorted() : [""]
                for service in serviceChoices {
                    for principal in ["alice", "system:serviceaccount:x", "System:bob", ""] {
                        rows.append([source, action, service, principal])
                    }
                }
            }
        }
        return rows
    }

    static let python = #"""
import json, sys
sys.path.insert(0, sys.argv[1])
import fathom_spark_job as job
request = json.load(sys.stdin)
spec = request["spec"]
detectors = job.SensitiveData(spec)
tables = job.ControlPlane(spec)
json.dump({"sensitive": [detectors.categories(text) for text in request["texts"]],
           "control": [tables.category(*row) for row in request["rows"]]}, sys.stdout)
"""#

    static func spark(texts: [String], rows: [[String]]) throws -> (sensitive: [[String]], control: [String?]) {
        let spec = try JSONSerialization.jsonObject(with: try SparkSpec(settings: RuleSettings()).json())
        let payload = try JSONSerialization.data(withJSONObject: ["spec": spec, "texts": texts, "rows": rows])
        let data = try SparkJSONTests.runJobPython(python, payload: payload)
        let decoded = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let sensitive = try #require(decoded["sensitive"] as? [[String]])
        let control = try #require(decoded["control"] as? [Any]).map { $0 as? String }
        return (sensitive, control)
    }

    @Test func sensitiveOutputAndControlPlaneJudgeAsNatively() throws {
        let texts = Self.edgeTexts + Self.generatedTexts(count: 3_000, seed: 25)
        let rows = Self.auditRows()
        let answers = try Self.spark(texts: texts, rows: rows)
        try #require(answers.sensitive.count == texts.count && answers.control.count == rows.count)
        var categoriesSeen = Set<String>()
        for (text, answer) in zip(texts, answers.sensitive) {
            let native = SensitiveData.findings(in: text).map(\.category)
            categoriesSeen.formUnion(native)
            #expect(answer == native, "text \(text.debugDescription)")
        }
        // The corpus reaches every detector, and its checks both ways.
        #expect(categoriesSeen == Set(SensitiveData.detectors.map(\.category)))
        #expect(SensitiveData.findings(in: "4539 1488 0343 6468").isEmpty)
        var verdicts = Set<String>()
        for (row, answer) in zip(rows, answers.control) {
            let native = FathomDetect.ControlPlane.category(source: row[0], action: row[1], service: row[2], principal: row[3])?.rawValue
            verdicts.insert(native ?? "none")
            #expect(answer == native, "row \(row)")
        }
        #expect(verdicts == Set(FathomDetect.ControlPlane.Category.allCases.map(\.rawValue) + ["none"]))
    }

    @Test func tablesAreExportedAsTheRulesHoldThem() throws {
        let data = try SparkSpec(settings: RuleSettings()).json()
        let spec = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let control = try #require(spec["control_plane"] as? [String: Any])
        // Actions are kept as written (the snake-case key strategy does not reach them).
        let cloudtrail = try #require(control["cloudtrail"] as? [[String]])
        #expect(Dictionary(uniqueKeysWithValues: cloudtrail.map { ($0[0], $0[1]) }) == FathomDetect.ControlPlane.cloudTrail.mapValues(\.rawValue))
        #expect(cloudtrail.contains(["StopLogging", "logging-disabled"]))
        #expect((control["kubernetes"] as? [[String]])?.count == FathomDetect.ControlPlane.kubernetes.count)
        #expect(control["kubernetes_system_prefix"] as? String == "system:")
        let sensitive = try #require(spec["sensitive_output"] as? [String: Any])
        let detectors = try #require(sensitive["detectors"] as? [[String]])
        #expect(detectors.map { $0[0] } == SensitiveData.detectors.map(\.category))
        #expect(detectors.map { $0[1] } == SensitiveData.detectors.map(\.regex.pattern))
        #expect(Set(detectors.map { $0[2] }) == Set(SensitiveData.Validation.allCases.map(\.rawValue)))
        #expect(sensitive["nino_never_issued"] as? [String] == SensitiveData.ninoNeverIssued.sorted())
    }
}
