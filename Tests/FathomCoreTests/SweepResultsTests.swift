@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect

/// `fathom sweep` over Spark results folders, without Spark: results folders written here as the
/// job writes them (manifest, archives, rows, hits), each night one gateway archive of quiet
/// internal traffic — under every threshold, so no native rule fires on it — and one *marker* hit
/// of `extraction.volume` that the job "computed" and the native rule never would. Whether the
/// marker is reported tells which source the sweep used. (That the job's real hits equal the native
/// ones is `.ci/spark-equivalence`'s part.)
@Suite(.serialized)
struct SweepResultsTests {
    static let day: Int64 = 86_400_000_000_000
    static let night1 = Timestamp(rfc3339: "2026-03-02T00:00:00Z")!.nanoseconds
    static let rowsPerNight = 200
    static let volume = RuleCatalog.builtIn.first { $0.info.id == "extraction.volume" }!.info

    static func sha256(_ text: String) -> String {
        var hasher = SHA256Stream()
        Data(text.utf8).withByteView { hasher.update($0) }
        return hasher.finalize()
    }

    /// The SHA-256 of the spec `fathom spark-job` writes for the default settings.
    static func defaultSpecSHA256() throws -> String {
        var hasher = SHA256Stream()
        try SparkSpec(settings: RuleSettings()).json().withByteView { hasher.update($0) }
        return hasher.finalize()
    }

    /// The job's hit nobody else computes: `count` queries from `ip` in the hour at `start`.
    static func marker(archive: String, start: Int64, ip: String, count: Int64) -> Hit {
        Hit(rule: volume, window: HitWindow(start: start, end: start + 3_600_000_000_000), key: ["src_ip": .string(ip)],
            metrics: ["query_count": .int(count), "distinct_inputs": .int(count)],
            evidence: .aggregate(first: EvidenceRef(archive: archive, member: "", line: 1),
                                 last: EvidenceRef(archive: archive, member: "", line: 2)))
    }

    /// Writes a results folder: one archive of quiet gateway rows from `start`, the job's hits,
    /// and a manifest naming `rules`.
    static func writeResults(in directory: TemporaryDirectory, _ name: String, start: Int64, hits: [Hit],
                             rules: [String] = ["extraction.volume"], specSHA256: String) throws -> (folder: String, archive: String) {
        let archive = "/evidence/\(name)/gateway.jsonl"
        var rows: [String] = []
        for index in 0..<rowsPerNight {
            // Four internal clients, one query every seven minutes in all.
            let time = start + Int64(index) * 420_000_000_000
            let hash = sha256("\(name)-\(index)").prefix(32)
            rows.append(#"{"archive": "\#(archive)", "bytes": 400, "input_hash": "\#(hash)", "latency_ms": 4.5, "line": \#(index + 1), "member": "", "method": "POST", "model": "m", "ord": \#(index), "path": "/v1/models/m/predict", "principal": "ak_int_\#(index % 4)", "src_ip": "10.0.0.\#(index % 4 + 1)", "status": 200, "time": \#(time)}"#)
        }
        let last = start + Int64(rowsPerNight - 1) * 420_000_000_000
        let record = #"{"compression": "", "container": "", "members": [{"first_time": \#(start), "format": "json", "kind": "inference", "last_time": \#(last), "name": "\#(archive)", "rejected": 0, "rows": \#(rowsPerNight)}], "mtime_ns": \#(start + day), "path": "\#(archive)", "reject_reasons": {}, "reject_samples": [], "sha256": "\#(sha256(archive))", "size": \#(rowsPerNight * 300)}"#
        let manifest = #"{"inputs": ["/evidence/\#(name)"], "rules": [\#(rules.map { "\"\($0)\"" }.joined(separator: ", "))], "spec_sha256": "\#(specSHA256)", "spec_version": \#(SparkSpec.version), "tool_version": "\#(FathomVersion.current)"}"#
        let folder = "results/" + name
        try directory.write(folder + "/manifest/part-00000.txt", manifest + "\n")
        try directory.write(folder + "/archives/part-00000.txt", record + "\n")
        try directory.write(folder + "/rows/kind=inference/day=\(name)/part-00000.txt", rows.joined(separator: "\n") + "\n")
        try directory.write(folder + "/hits/part-00000.txt", hits.map(SweepJSON.hitText).joined(separator: "\n") + "\n")
        return (directory.path(folder), archive)
    }

    static func sweep(_ directory: TemporaryDirectory, now: String) throws -> SweepOutcome {
        let config = try SweepConfig(yaml: "output: out\nresults: [results]\n", origin: "sweep.yaml", folder: directory.path)
        return try SweepEngine.run(SweepRequest(config: config, storeDirectory: directory.path("store"), now: now))
    }

    static func markers(_ digest: SweepDigest) -> [String] {
        digest.findings.filter { $0.hit.rule == "extraction.volume" }.compactMap { finding in
            if case let .string(ip)? = finding.hit.key["src_ip"] { ip } else { nil }
        }
    }

    @Test func theJobsHitsAreTakenWhereTheSpanHoldsOnlyItsRowsAndFoldersAreTakenOnce() throws {
        let directory = try TemporaryDirectory("sweep-results")
        let spec = try Self.defaultSpecSHA256()
        let first = "2026-03-02"
        let archive1 = "/evidence/\(first)/gateway.jsonl"
        let one = try Self.writeResults(in: directory, first, start: Self.night1,
                                        hits: [Self.marker(archive: archive1, start: Self.night1 + 22 * 3_600_000_000_000,
                                                           ip: "203.0.113.7", count: 4321)], specSHA256: spec)

        // Night 1: nothing before it in the store, so the job's extraction.volume is the native
        // hunt's exactly — its marker is reported.
        let night1 = try Self.sweep(directory, now: "2026-03-03T06:00:00Z")
        #expect(night1.rulesFromSpark == ["extraction.volume"])
        #expect(night1.digest.newArchives.map(\.path) == [one.archive])
        #expect(night1.digest.newArchives.first?.rows == Int64(Self.rowsPerNight))
        #expect(Self.markers(night1.digest) == ["203.0.113.7"])
        #expect(night1.digest.findings.first?.hit.metrics["query_count"] == .int(4321))
        #expect(night1.digest.status == .newFindings)

        // Night 1's rows can no longer be read: a folder already taken must not be read again.
        try directory.write("results/\(first)/rows/kind=inference/day=\(first)/part-00000.txt", "not rows\n")

        // Night 2: the one-day look-back of extraction.volume reaches night 1's rows, which the
        // night-2 job never saw: the rule runs natively (no marker), and finds nothing.
        let second = "2026-03-03"
        _ = try Self.writeResults(in: directory, second, start: Self.night1 + Self.day,
                                  hits: [Self.marker(archive: "/evidence/\(second)/gateway.jsonl",
                                                     start: Self.night1 + Self.day + 3 * 3_600_000_000_000,
                                                     ip: "203.0.113.8", count: 5000)], specSHA256: spec)
        let night2 = try Self.sweep(directory, now: "2026-03-04T06:00:00Z")
        #expect(night2.digest.newArchives.map(\.path) == ["/evidence/\(second)/gateway.jsonl"])
        #expect(night2.rulesFromSpark.isEmpty)
        #expect(Self.markers(night2.digest).isEmpty)
        #expect(night2.digest.status == .nothingNew)

        // Night 3, no new results: nothing new, nothing loaded.
        let night3 = try Self.sweep(directory, now: "2026-03-05T06:00:00Z")
        #expect(night3.digest.newArchives.isEmpty)
        #expect(night3.digest.status == .nothingNew)
        let store = try Store(directory: directory.path("store"), forWriting: false)
        #expect(try store.catalog.archives().map(\.rows) == [Int64(Self.rowsPerNight), Int64(Self.rowsPerNight)])
    }

    @Test func resultsOfAJobWithAnotherSpecAreLoadedButTheirHitsNotUsed() throws {
        let directory = try TemporaryDirectory("sweep-results")
        let name = "2026-03-02"
        let other = Self.sha256("another spec")
        let results = try Self.writeResults(in: directory, name, start: Self.night1,
                                            hits: [Self.marker(archive: "/evidence/\(name)/gateway.jsonl",
                                                               start: Self.night1 + 3_600_000_000_000, ip: "203.0.113.7", count: 4321)],
                                            specSHA256: other)
        let outcome = try Self.sweep(directory, now: "2026-03-03T06:00:00Z")
        #expect(outcome.resultsWithOtherSpec == [results.folder])
        #expect(outcome.rulesFromSpark.isEmpty)
        #expect(outcome.digest.newArchives.map(\.path) == [results.archive])
        #expect(Self.markers(outcome.digest).isEmpty)
    }

    /// `analyze --from-results` takes the job's hits only when the job ran with this run's spec.
    @Test(arguments: [true, false])
    func analyzeTakesTheJobsHitsOnlyWithItsOwnSpec(sameSpec: Bool) throws {
        let directory = try TemporaryDirectory("spark-analysis")
        let name = "2026-03-02"
        let results = try Self.writeResults(in: directory, name, start: Self.night1,
                                            hits: [Self.marker(archive: "/evidence/\(name)/gateway.jsonl",
                                                               start: Self.night1 + 3_600_000_000_000, ip: "203.0.113.7", count: 4321)],
                                            specSHA256: sameSpec ? try Self.defaultSpecSHA256() : Self.sha256("another spec"))
        let request = AnalyzeRequest(paths: [], storeDirectory: directory.path("store"), caseID: "T-1",
                                     reportsDirectory: directory.path("out"), now: Timestamp(rfc3339: "2026-03-05T12:00:00Z"), jobs: 1)
        let outcome = try SparkAnalysis.run(resultsDirectory: results.folder, request: request)
        #expect(outcome.hasOtherSpec == !sameSpec)
        #expect(outcome.rulesFromSpark == (sameSpec ? ["extraction.volume"] : []))
        let findings = try String(contentsOfFile: directory.path("out/T-1/findings.json"), encoding: .utf8)
        #expect(findings.contains("203.0.113.7") == sameSpec)
    }

    @Test func aResultsFolderOfAnotherSpecVersionIsRefused() throws {
        let directory = try TemporaryDirectory("sweep-results")
        try directory.write("results/x/manifest/part-00000.txt", #"{"inputs": [], "rules": [], "spec_version": 999, "tool_version": "0"}"# + "\n")
        #expect {
            _ = try Self.sweep(directory, now: "2026-03-03T06:00:00Z")
        } throws: { error in
            guard case let .results(detail) = error as? SweepError else { return false }
            return detail.contains("spec version 999")
        }
    }
}
