@testable import FathomCore
import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomAnalysis
import FathomReports

/// `fathom export` end to end: the files, byte-identical re-runs and the exit statuses.
@Suite struct ExportCommandTests {
    @Test func writesEveryFormatAndTheSameBytesTwice() throws {
        let directory = try TemporaryDirectory("fathom-export")
        try directory.write("store/cases/IR-7/analysis.json", try ReportCommandTests.analysis(complete: true))
        let first = try CLI.run(["export", "--case", "IR-7", "--store", "store", "--to", "out"], in: directory.url)
        #expect(first.status == 0, "\(first.stderr)")
        let names = ["ocsf.jsonl", "stix.json", "timesketch.csv", "timesketch.jsonl"]
        #expect(first.stdout.split(separator: "\n").map { String($0) } == names.map { "out/" + $0 })
        let bytes = try names.map { try Data(contentsOf: directory.url.appendingPathComponent("out/" + $0)) }
        let second = try CLI.run(["export", "--case", "IR-7", "--store", "store", "--to", "out", "--format", "stix"], in: directory.url)
        #expect(second.status == 0)
        #expect(second.stdout == "out/stix.json\n")
        #expect(try Data(contentsOf: directory.url.appendingPathComponent("out/stix.json")) == bytes[1])
    }

    @Test(arguments: [
        (["export", "--case", "IR-7", "--store", "store", "--to", "out", "--format", "misp"], Int32(64)),
        (["export", "--case", "../x", "--store", "store", "--to", "out"], Int32(64)),
        (["export", "--case", "IR-8", "--store", "store", "--to", "out"], Int32(3)),
        (["analyze", "--export", "ocsf,csv", "--store", "store"], Int32(64)),
    ])
    func exitStatuses(arguments: [String], status: Int32) throws {
        let directory = try TemporaryDirectory("fathom-export")
        try directory.write("store/cases/IR-7/analysis.json", try ReportCommandTests.analysis(complete: true))
        let run = try CLI.run(arguments, in: directory.url)
        #expect(run.status == status, "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count <= 3, "a short message: \(run.stderr)")
    }
}
