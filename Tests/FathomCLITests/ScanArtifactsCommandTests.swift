import Foundation
import Testing

/// `fathom scan-artifacts`: exit statuses per severity and gate, output formats, policy files.
@Suite struct ScanArtifactsCommandTests {
    static let critical = Data("cos\nsystem\n(S'true'\ntR.".utf8)
    static let unknown = Data("cmylib.models\nNet\n)R.".utf8)

    func directory(_ files: [String: Data]) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("fathom-scan")
        for (name, data) in files {
            let target = directory.file(name)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: target)
        }
        return directory
    }

    @Test func exitStatusFollowsTheWorstSeverityAndTheGate() throws {
        let clean = try directory(["ok.pkl": Data("(lp0\nI1\na.".utf8)])
        #expect(try CLI.run(["scan-artifacts", "."], in: clean.url).status == 0)

        let low = try directory(["model.pkl": Self.unknown])
        let lowRun = try CLI.run(["scan-artifacts", "."], in: low.url)
        #expect(lowRun.status == 0)
        #expect(lowRun.stdout.contains("LOW\tunsafe-pickle-import"))
        #expect(try CLI.run(["scan-artifacts", ".", "--fail-on", "low"], in: low.url).status == 5)
        #expect(try CLI.run(["scan-artifacts", ".", "--fail-on", "medium"], in: low.url).status == 0)

        let bad = try directory(["model.bin": Self.critical, "model.pkl": Self.unknown])
        #expect(try CLI.run(["scan-artifacts", "."], in: bad.url).status == 5)
        #expect(try CLI.run(["scan-artifacts", ".", "--fail-on", "critical"], in: bad.url).status == 5)

        let broken = try directory(["cut.pkl": Data([0x80, 0x04, 0x8C, 0x09, 0x61])])
        #expect(try CLI.run(["scan-artifacts", "."], in: broken.url).status == 2)

        #expect(try CLI.run(["scan-artifacts", ".", "--fail-on", "info"], in: clean.url).status == 64)
        #expect(try CLI.run(["scan-artifacts", ".", "--fail-on", "severe"], in: clean.url).status == 64)
        #expect(try CLI.run(["scan-artifacts", "missing-dir"], in: clean.url).status == 1)
    }

    @Test func jsonAndSarifOutputs() throws {
        let bad = try directory(["model.bin": Self.critical])
        let json = try CLI.run(["scan-artifacts", ".", "--format", "json"], in: bad.url)
        #expect(json.status == 5)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(report["failOn"] as? String == "high")
        #expect((report["findings"] as? [[String: Any]])?.first?["severity"] as? String == "critical")
        let sarif = try CLI.run(["scan-artifacts", ".", "--format", "sarif"], in: bad.url)
        #expect(sarif.status == 5)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let results = try #require((log["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]])
        #expect(results.count == 1)
        #expect(results.first?["level"] as? String == "error")
        #expect(try CLI.run(["scan-artifacts", ".", "--format", "sarif"], in: bad.url).stdout == sarif.stdout)
    }

    @Test func policyFileExtendsTheBuiltInOne() throws {
        let files = try directory(["model.pkl": Self.unknown])
        try files.write("policy.json", """
            {"format": "fathom-pickle-policy", "version": 1, "rules": [
              {"modules": ["mylib"], "names": ["*"], "verdict": "critical", "reason": "compromised package", "submodules": true}]}
            """)
        let run = try CLI.run(["scan-artifacts", ".", "--policy", "policy.json"], in: files.url)
        #expect(run.status == 5)
        #expect(run.stdout.contains("compromised package"))
        try files.write("broken.json", "{")
        #expect(try CLI.run(["scan-artifacts", ".", "--policy", "broken.json"], in: files.url).status == 1)
        let printed = try CLI.run(["scan-artifacts", "--print-policy"], in: files.url)
        #expect(printed.status == 0)
        let policy = try #require(try JSONSerialization.jsonObject(with: Data(printed.stdout.utf8)) as? [String: Any])
        #expect(policy["format"] as? String == "fathom-pickle-policy")
    }

    @Test func helpDocumentsTheExitStatuses() throws {
        let files = try directory([:])
        let help = try CLI.run(["scan-artifacts", "--help"], in: files.url)
        for text in ["0 = no finding at or above the --fail-on level", "5 = a finding at or above it", "2 = none, but some", "64 = usage error"] {
            #expect(help.stdout.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "  ", with: " ").contains(text))
        }
    }
}
