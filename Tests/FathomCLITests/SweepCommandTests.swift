import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// `fathom sweep` end to end: a watched folder that grows night after night.
///
/// The inputs are gateway JSON Lines written here, so every number is known: quiet background
/// clients (internal addresses, well under every threshold) and attackers whose query counts per
/// hour are chosen to cross `extraction.volume`'s 1000 queries an hour.
@Suite(.serialized)
struct SweepCommandTests {
    static let attackerA = "198.51.100.23"
    static let attackerB = "203.0.113.9"

    /// One gateway record.
    static func line(_ time: String, ip: String, key: String, body: Int) -> String {
        #"{"timestamp":"\#(time)","client_ip":"\#(ip)","api_key":"\#(key)","method":"POST","path":"/v1/models/m/predict","status":200,"latency_ms":4.5,"request_body":"{\"x\":\#(body)}"}"#
    }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Background rows of one day.
    static let backgroundRows = 24 * 4 * 20

    /// A day of background traffic: 4 internal clients, 20 queries an hour each.
    static func background(day: String) -> [String] {
        var lines: [String] = []
        for hour in 0..<24 {
            for client in 0..<4 {
                for query in 0..<20 {
                    let time = "\(day)T\(pad(hour)):\(pad(client * 7 % 60)):\(pad(query * 3 % 60)).\(client)\(query % 10)0Z"
                    lines.append(line(time, ip: "10.0.0.\(client + 1)", key: "ak_int_\(client)", body: hour * 100 + query))
                }
            }
        }
        return lines
    }

    /// `count` queries from `ip` inside one hour, `seconds` apart from `startSecond`.
    static func burst(day: String, hour: Int, ip: String, count: Int, from startSecond: Int = 0) -> [String] {
        (0..<count).map { index in
            let second = (startSecond + index * 3600 / max(count, 1)) % 3600
            return line("\(day)T\(pad(hour)):\(pad(second / 60)):\(pad(second % 60)).\(index % 1000)Z",
                        ip: ip, key: "ak_live_\(ip)", body: index)
        }
    }

    /// A store, a watched folder and a configuration in a temporary directory.
    final class Site {
        let directory: TemporaryDirectory
        var url: URL { directory.url }

        /// `configuration` is appended to the sweep configuration (more top-level keys).
        init(configuration: String = "") throws {
            directory = try TemporaryDirectory("sweep")
            try directory.write("sweep.yaml", """
                store: store
                output: Reports
                watch:
                  - path: drops
                    patterns:
                      inference: ["**/gateway-*.jsonl"]
                lookback:
                  default: 1d
                case:
                  classification: INTERNAL

                """ + configuration)
            try FileManager.default.createDirectory(at: directory.file("drops"), withIntermediateDirectories: true)
            try directory.write("drops/README.txt", "not evidence, not matched by the patterns\n")
        }

        func drop(_ name: String, _ lines: [String]) throws {
            try directory.write("drops/" + name, lines.joined(separator: "\n") + "\n")
        }

        /// Runs a sweep with the time pinned.
        func sweep(now: String, environment: [String: String] = [:]) throws -> CLI.Output {
            try CLI.run(["sweep", "--config", "sweep.yaml", "--now", now, "--json"], in: url, environment: environment)
        }

        func start(now: String, environment: [String: String]) throws -> Process {
            try CLI.start(["sweep", "--config", "sweep.yaml", "--now", now], in: url, environment: environment)
        }

        func digest(_ output: CLI.Output) throws -> SweepDigest {
            try JSONDecoder().decode(SweepDigest.self, from: Data(output.stdout.utf8))
        }

        /// Rows per archive from the segments, and whether every segment file is referenced.
        func rowsPerArchive() throws -> [String: Int64] {
            try CrashSafetyTests.rowsOnDisk(store: directory.file("store")).perArchive
        }

        /// Day 1: background, attacker A with 1200 queries at 22:00 (one extraction.volume hit).
        func dropDay1() throws {
            try drop("2026-03-02/gateway-2026-03-02.jsonl",
                     SweepCommandTests.background(day: "2026-03-02")
                        + SweepCommandTests.burst(day: "2026-03-02", hour: 22, ip: SweepCommandTests.attackerA, count: 1200))
        }

        /// Day 2: background and a new attacker B with 1500 queries at 05:00.
        func dropDay2() throws {
            try drop("2026-03-03/gateway-2026-03-03.jsonl",
                     SweepCommandTests.background(day: "2026-03-03")
                        + SweepCommandTests.burst(day: "2026-03-03", hour: 5, ip: SweepCommandTests.attackerB, count: 1500))
        }
    }

    static func volume(_ digest: SweepDigest, ip: String) -> [SweepDigest.Finding] {
        digest.findings.filter { $0.hit.rule == "extraction.volume" && $0.hit.key["src_ip"] == .string(ip) }
    }

    @Test func firstSweepReportsFindingsAndOpensAnIncident() throws {
        let site = try Site()
        try site.dropDay1()
        let run = try site.sweep(now: "2026-03-03T06:00:00Z")
        #expect(run.status == 10, "new findings: \(run.stderr)")
        let digest = try site.digest(run)
        #expect(digest.status == .newFindings)
        #expect(digest.newArchives.map(\.path) == [site.url.appendingPathComponent("drops/2026-03-02/gateway-2026-03-02.jsonl").path])
        #expect(digest.newArchives.first?.rows == Int64(Self.backgroundRows + 1200))
        let volume = Self.volume(digest, ip: Self.attackerA)
        #expect(volume.count == 1)
        #expect(volume.first?.status == "new")
        #expect(volume.first?.hit.metrics["query_count"] == .int(1200))
        #expect(volume.first?.hit.window?.start == Timestamp(rfc3339: "2026-03-02T22:00:00Z"))
        // No background client is reported.
        #expect(!digest.findings.contains { $0.hit.keyText.contains("10.0.0.") })
        // The incident report exists and the digest links it.
        let link = try #require(volume.first?.incident)
        let folder = site.url.appendingPathComponent("Reports/sweeps/2026-03-03")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(link.report).path))
        let markdown = try String(contentsOf: folder.appendingPathComponent("digest.md"), encoding: .utf8)
        #expect(markdown.contains("](\(link.report))"))
        #expect(markdown.contains("Exit status 10"))
        let json = try Data(contentsOf: folder.appendingPathComponent("digest.json"))
        #expect(try JSONDecoder().decode(SweepDigest.self, from: json) == digest, "--json prints digest.json")
        #expect(!digest.incidents.isEmpty)
        #expect(digest.incidents.allSatisfy { $0.caseID == "SWEEP-2026-03-03" })
    }

    /// A Sigma folder with one unusable rule: the sweep runs the usable one, lists the other in
    /// its digest, and its status is about the findings.
    @Test func unusableSigmaRuleIsSkippedAndListed() throws {
        let site = try Site(configuration: "rules:\n  sigma: rules\n")
        try site.directory.write("rules/attacker.yml", """
            title: Attacker address
            name: test.attacker-address
            level: high
            logsource: {product: fathom, service: inference}
            detection:
              sel:
                src_ip: \(Self.attackerA)
              condition: sel
            """)
        try site.directory.write("rules/broken.yml", "title: broken\ndetection:\n  sel: [unclosed\n  condition: sel\n")
        try site.dropDay1()
        let run = try site.sweep(now: "2026-03-03T06:00:00Z")
        #expect(run.status == 10, "new findings: \(run.stderr)")
        let digest = try site.digest(run)
        #expect(digest.skippedRules?.count == 1)
        #expect(digest.skippedRules?.first?.file.hasSuffix("rules/broken.yml") == true)
        #expect(digest.findings.contains { $0.hit.rule == "test.attacker-address" }, "the usable Sigma rule ran")
        #expect(Self.volume(digest, ip: Self.attackerA).count == 1, "the built-in rules ran")
        let markdown = try String(contentsOf: site.url.appendingPathComponent("Reports/sweeps/2026-03-03/digest.md"), encoding: .utf8)
        #expect(markdown.contains("## Sigma rules skipped"))
    }

    /// A Spark job results folder (`fathom spark-job`'s layout) holding day 1's gateway traffic —
    /// background and attacker A's 1200 queries at 22:00 — as canonical rows, and no rule the job
    /// computed: the sweep runs every rule itself over the loaded rows.
    static func writeResults(_ site: Site, folder: String, specVersion: Int = SparkSpec.version) throws -> String {
        let archive = "s3a://acme-logs/2026/03/02/gateway.jsonl"
        var rows: [String] = []
        var times: [Int64] = []
        func row(_ time: String, ip: String, key: String, body: Int) {
            let nanos = Timestamp(rfc3339: time)!.nanoseconds
            let hash = String(repeating: "0", count: 24) + String(format: "%08x", body & 0xFFFF_FFFF)
            rows.append(#"{"archive": "\#(archive)", "input_hash": "\#(hash)", "latency_ms": 4.5, "line": \#(rows.count + 1), "member": "", "method": "POST", "ord": \#(rows.count), "path": "/v1/models/m/predict", "principal": "\#(key)", "src_ip": "\#(ip)", "status": 200, "time": \#(nanos)}"#)
            times.append(nanos)
        }
        for hour in 0..<24 {
            for client in 0..<4 {
                for query in 0..<20 {
                    row("2026-03-02T\(pad(hour)):\(pad(client * 7 % 60)):\(pad(query * 3 % 60)).\(client)\(query % 10)0Z",
                        ip: "10.0.0.\(client + 1)", key: "ak_int_\(client)", body: hour * 100 + query)
                }
            }
        }
        for index in 0..<1200 {
            let second = index * 3
            row("2026-03-02T22:\(pad(second / 60)):\(pad(second % 60)).\(index % 1000)Z", ip: attackerA, key: "ak_live_a",
                body: 1_000_000 + index)
        }
        let record = #"{"compression": "", "container": "", "members": [{"format": "json", "kind": "inference", "name": "\#(archive)", "rejected": 0, "rows": \#(rows.count)}], "mtime_ns": 1772496000000000000, "path": "\#(archive)", "reject_reasons": {}, "reject_samples": [], "sha256": "\#(String(repeating: "ab", count: 32))", "size": 4096}"#
        try site.directory.write(folder + "/manifest/part-00000.txt",
                                 #"{"inputs": ["s3a://acme-logs/2026/03/02/"], "rules": [], "spec_version": \#(specVersion), "tool_version": "0"}"# + "\n")
        try site.directory.write(folder + "/archives/part-00000.txt", record + "\n")
        try site.directory.write(folder + "/rows/kind=inference/day=2026-03-02/part-00000.txt", rows.joined(separator: "\n") + "\n")
        try site.directory.write(folder + "/hits/part-00000.txt", "")
        return archive
    }

    /// `--from-results`: the results folder's rows are swept as new archives would be (the watched
    /// folder is not read), the digest printed with --json; the same folder again is nothing new;
    /// a results folder of another spec version is refused with status 3.
    @Test func sweepOverSparkResults() throws {
        let site = try Site()
        try site.dropDay2()  // in the watched folder: not read with --from-results
        let archive = try Self.writeResults(site, folder: "nightly/2026-03-02")
        let first = try CLI.run(["sweep", "--config", "sweep.yaml", "--from-results", "nightly", "--now", "2026-03-03T06:00:00Z", "--json"],
                                in: site.url)
        #expect(first.status == 10, "\(first.stderr)")
        let digest = try site.digest(first)
        #expect(digest.newArchives.map(\.path) == [archive])
        #expect(digest.newArchives.first?.rows == Int64(Self.backgroundRows + 1200))
        let volume = Self.volume(digest, ip: Self.attackerA)
        #expect(volume.count == 1)
        #expect(volume.first?.hit.metrics["query_count"] == .int(1200))
        #expect(Self.volume(digest, ip: Self.attackerB).isEmpty, "the watched folder was not read")
        #expect(!digest.findings.contains { $0.hit.keyText.contains("10.0.0.") })

        let again = try CLI.run(["sweep", "--config", "sweep.yaml", "--from-results", "nightly", "--now", "2026-03-04T06:00:00Z", "--json"],
                                in: site.url)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try site.digest(again).newArchives.isEmpty)

        _ = try Self.writeResults(site, folder: "other/x", specVersion: 999)
        let refused = try CLI.run(["sweep", "--config", "sweep.yaml", "--from-results", "other", "--now", "2026-03-05T06:00:00Z"],
                                  in: site.url)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("spec version 999"), "\(refused.stderr)")
    }

    @Test func secondSweepWithoutNewFilesReportsNothing() throws {
        let site = try Site()
        try site.dropDay1()
        #expect(try site.sweep(now: "2026-03-03T06:00:00Z").status == 10)
        let second = try site.sweep(now: "2026-03-03T07:00:00Z")
        #expect(second.status == 0, "\(second.stderr)")
        let digest = try site.digest(second)
        #expect(digest.findings.isEmpty)
        #expect(digest.newArchives.isEmpty)
        #expect(digest.status == .nothingNew)
        // Two sweeps on one date: the second writes its own folder.
        #expect(FileManager.default.fileExists(atPath: site.url.appendingPathComponent("Reports/sweeps/2026-03-03.2/digest.md").path))
        #expect(FileManager.default.fileExists(atPath: site.url.appendingPathComponent("Reports/sweeps/2026-03-03/digest.md").path))
    }

    @Test func newDayWithANewIncident() throws {
        let site = try Site()
        try site.dropDay1()
        #expect(try site.sweep(now: "2026-03-03T06:00:00Z").status == 10)
        try site.dropDay2()
        let run = try site.sweep(now: "2026-03-04T06:00:00Z")
        #expect(run.status == 10, "\(run.stderr)")
        let digest = try site.digest(run)
        #expect(digest.newArchives.count == 1)
        let volumeB = Self.volume(digest, ip: Self.attackerB)
        #expect(volumeB.map(\.status) == ["new"])
        #expect(volumeB.first?.hit.metrics["query_count"] == .int(1500))
        #expect(volumeB.first?.incident?.caseID == "SWEEP-2026-03-04")
        // Attacker A's finding of day 1 is not reported again.
        #expect(Self.volume(digest, ip: Self.attackerA).isEmpty)
        #expect(!digest.findings.contains { $0.hit.keyText.contains(Self.attackerA) })
        // The detections read the new day plus the look-back: one day, fourteen for pipeline rules.
        #expect(digest.lookback["inference"] == "1d" && digest.lookback["pipeline"] == "14d")
        #expect(digest.newData?.start == Timestamp(rfc3339: "2026-03-03T00:00:00Z"))
        #expect(digest.scanned?.start == Timestamp(rfc3339: "2026-02-17T00:00:00Z"))
    }

    @Test func growingFindingIsReportedAsAnUpdate() throws {
        let site = try Site()
        try site.dropDay1()
        let first = try site.digest(try site.sweep(now: "2026-03-03T06:00:00Z"))
        let before = try #require(Self.volume(first, ip: Self.attackerA).first)
        // A late delivery of day 1: 400 more queries of attacker A in the same hour.
        try site.drop("2026-03-02/gateway-2026-03-02-late.jsonl",
                      Self.burst(day: "2026-03-02", hour: 22, ip: Self.attackerA, count: 400, from: 7))
        let run = try site.sweep(now: "2026-03-03T09:00:00Z")
        #expect(run.status == 10, "\(run.stderr)")
        let digest = try site.digest(run)
        let after = Self.volume(digest, ip: Self.attackerA)
        #expect(after.count == 1)
        #expect(after.first?.status == "updated")
        #expect(after.first?.identity == before.identity)
        #expect(after.first?.hit.metrics["query_count"] == .int(1600))
        #expect(after.first?.previous?.metrics["query_count"] == .int(1200))
        #expect(after.first?.previous?.firstSweep == first.sweep)
        let markdown = try String(contentsOf: site.url.appendingPathComponent("Reports/sweeps/2026-03-03.2/digest.md"), encoding: .utf8)
        #expect(markdown.contains("## Updated findings"))
        // Nothing grew since: the next sweep is quiet.
        #expect(try site.sweep(now: "2026-03-03T10:00:00Z").status == 0)
    }

    @Test func renamedFileIsRecognisedAndNotReadAgain() throws {
        let site = try Site()
        try site.dropDay1()
        #expect(try site.sweep(now: "2026-03-03T06:00:00Z").status == 10)
        let rows = try site.rowsPerArchive()
        let old = site.url.appendingPathComponent("drops/2026-03-02/gateway-2026-03-02.jsonl")
        let renamed = site.url.appendingPathComponent("drops/redelivered/gateway-2026-03-02-copy.jsonl")
        try FileManager.default.createDirectory(at: renamed.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: old, to: renamed)
        let run = try site.sweep(now: "2026-03-03T07:00:00Z")
        #expect(run.status == 0, "a copy is not news: \(run.stderr)")
        let digest = try site.digest(run)
        #expect(digest.newArchives.isEmpty)
        #expect(digest.findings.isEmpty)
        #expect(digest.copies.map(\.path) == [renamed.path])
        #expect(digest.copies.first?.originalPath == old.path)
        #expect(try site.rowsPerArchive() == rows, "no row stored twice")
        // Recognised by path, size and time from now on, and reported once.
        let again = try site.digest(try site.sweep(now: "2026-03-03T08:00:00Z"))
        #expect(again.copies.isEmpty && again.newArchives.isEmpty)
    }

    @Test func fileAlteredAfterIngestIsAlteredEvidence() throws {
        let site = try Site()
        try site.dropDay1()
        let first = try site.digest(try site.sweep(now: "2026-03-03T06:00:00Z"))
        let original = try #require(first.newArchives.first)
        let rows = try site.rowsPerArchive()
        // Someone rewrites a log line after it was read (same name, new content).
        let path = site.url.appendingPathComponent("drops/2026-03-02/gateway-2026-03-02.jsonl")
        var text = try String(contentsOf: path, encoding: .utf8)
        text = text.replacingOccurrences(of: Self.attackerA, with: "10.0.0.99")
        try Data(text.utf8).write(to: path)
        let run = try site.sweep(now: "2026-03-03T07:00:00Z")
        #expect(run.status == 11, "altered evidence: \(run.stderr)")
        let digest = try site.digest(run)
        #expect(digest.altered.map(\.path) == [path.path])
        #expect(digest.altered.first?.originalSHA256 == original.sha256)
        #expect(digest.altered.first?.sha256 != original.sha256)
        #expect(digest.newArchives.isEmpty, "the altered content is not ingested")
        #expect(try site.rowsPerArchive() == rows, "the original record and its rows stay")
        let markdown = try String(contentsOf: site.url.appendingPathComponent("Reports/sweeps/2026-03-03.2/digest.md"), encoding: .utf8)
        #expect(markdown.contains("## Altered evidence"))
        // Reported once.
        #expect(try site.sweep(now: "2026-03-03T08:00:00Z").status == 0)
    }

    @Test func twoSweepsStartedAtOnce() throws {
        let site = try Site()
        try site.dropDay1()
        // The first holds the store's lock for a while; the second starts meanwhile.
        let first = try site.start(now: "2026-03-03T06:00:00Z", environment: ["FATHOM_TEST_HOOK": "sweep.locked=pause:4"])
        let lock = site.url.appendingPathComponent("store/lock").path
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: lock) || (try? String(contentsOfFile: lock, encoding: .utf8))?.isEmpty != false {
            guard Date() < deadline else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let began = Date()
        let second = try site.sweep(now: "2026-03-03T06:00:00Z")
        #expect(second.status == 3, "the second sweep fails fast: \(second.stderr)")
        #expect(second.stderr.contains("in use"))
        #expect(Date().timeIntervalSince(began) < 3, "without waiting for the first")
        first.waitUntilExit()
        #expect(first.terminationStatus == 10)
        // Everything was reported once, by the first.
        let next = try site.digest(try site.sweep(now: "2026-03-03T07:00:00Z"))
        #expect(next.findings.isEmpty && next.newArchives.isEmpty)
        #expect(try site.rowsPerArchive().values.sorted() == [Int64(Self.backgroundRows + 1200)])
    }

    /// The same two nights, with the second sweep killed at each point, then run again: the
    /// re-run reports exactly what an uninterrupted sweep reports, and the store holds every row once.
    @Test(arguments: ["ingest.before-commit", "sweep.ingested", "sweep.detected", "sweep.reported", "sweep.written"])
    func killedSweepIsCompletedByTheNextOne(at point: String) throws {
        let control = try Site()
        try control.dropDay1()
        _ = try control.sweep(now: "2026-03-03T06:00:00Z")
        try control.dropDay2()
        let expected = try control.digest(try control.sweep(now: "2026-03-04T06:00:00Z"))

        let site = try Site()
        try site.dropDay1()
        _ = try site.sweep(now: "2026-03-03T06:00:00Z")
        try site.dropDay2()
        let killed = try site.sweep(now: "2026-03-04T06:00:00Z", environment: ["FATHOM_TEST_HOOK": "\(point)=kill"])
        #expect(killed.status == 9, "killed by SIGKILL at \(point)")
        let rerun = try site.sweep(now: "2026-03-04T06:00:00Z")
        #expect(rerun.status == 10, "\(rerun.stderr)")
        let digest = try site.digest(rerun)
        func summary(_ digest: SweepDigest) -> [String] {
            digest.findings.map { "\($0.status) \($0.identity) \(SweepDigest.metricsText($0.hit.metrics))" }
        }
        #expect(summary(digest) == summary(expected), "nothing lost, nothing doubled")
        #expect(digest.newArchives.map(\.sha256) == expected.newArchives.map(\.sha256))
        #expect(digest.date == "2026-03-04", "the killed sweep's folder is reused")
        let rows = try site.rowsPerArchive()
        #expect(rows.values.sorted() == [Int64(Self.backgroundRows + 1200), Int64(Self.backgroundRows + 1500)])
        let quiet = try site.sweep(now: "2026-03-04T07:00:00Z")
        #expect(quiet.status == 0, "the re-run completed the sweep")
    }

    @Test func theSweepsOwnOutputIsNeverReadAsEvidence() throws {
        let site = try Site()
        // The whole site is watched, without patterns: the digests land inside the watched folder.
        try site.directory.write("sweep.yaml", "store: store\noutput: Reports\nwatch: [.]\n")
        try site.dropDay1()
        let first = try site.digest(try site.sweep(now: "2026-03-03T06:00:00Z"))
        #expect(first.newArchives.count == 3, "the day-1 log, README.txt and sweep.yaml; not the store")
        let second = try site.sweep(now: "2026-03-03T07:00:00Z")
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try site.digest(second).newArchives.isEmpty, "digest.md, digest.json and the incident report are not inputs")
    }

    @Test func pruneDropsOldSegmentsButKeepsTheEvidenceRecord() throws {
        let site = try Site()
        try site.dropDay1()
        _ = try site.sweep(now: "2026-03-03T06:00:00Z")
        try site.dropDay2()
        _ = try site.sweep(now: "2026-03-04T06:00:00Z")
        let catalogPath = site.url.appendingPathComponent("store/catalog.sqlite").path
        let findings = try Catalog(path: catalogPath).findingCount()
        let prune = try CLI.run(["store", "prune", "--store", "store", "--older-than", "1", "--now", "2026-03-04T06:00:00Z", "--json"],
                                in: site.url)
        #expect(prune.status == 0, "\(prune.stderr)")
        let summary = try JSONDecoder().decode(PruneSummary.self, from: Data(prune.stdout.utf8))
        #expect(summary.segments == 1 && summary.rows == Int64(Self.backgroundRows + 1200) && summary.archives == 1)
        let catalog = try Catalog(path: catalogPath)
        #expect(try catalog.archives().count == 2, "archives stay")
        #expect(try catalog.findingCount() == findings, "findings stay")
        let rows = try site.rowsPerArchive()
        #expect(rows.values.sorted() == [0, Int64(Self.backgroundRows + 1500)])
        // A later sweep does not read the pruned archive again.
        let next = try site.digest(try site.sweep(now: "2026-03-04T07:00:00Z"))
        #expect(next.newArchives.isEmpty && next.findings.isEmpty)
    }

    /// A cutoff before the first time a column can hold (`--older-than` of 200,000 days, or a
    /// `--now` in 1677) used to trap on an overflow; nothing is that old, so nothing is pruned.
    @Test(arguments: [["--older-than", "200000", "--now", "2026-03-04T06:00:00Z"], ["--older-than", "3", "--now", "1677-09-21T00:12:44Z"]])
    func pruneBeforeTheFirstTimeDropsNothing(arguments: [String]) throws {
        let site = try Site()
        try site.dropDay1()
        _ = try site.sweep(now: "2026-03-03T06:00:00Z")
        let prune = try CLI.run(["store", "prune", "--store", "store", "--json"] + arguments, in: site.url)
        #expect(prune.status == 0, "\(prune.stderr)")
        let summary = try JSONDecoder().decode(PruneSummary.self, from: Data(prune.stdout.utf8))
        #expect(summary.segments == 0 && summary.rows == 0)
    }

    @Test func prunedKilledAfterCommitLeavesNoOrphanSegment() throws {
        let site = try Site()
        try site.dropDay1()
        _ = try site.sweep(now: "2026-03-03T06:00:00Z")
        let killed = try CLI.run(["store", "prune", "--store", "store", "--older-than", "0", "--now", "2026-03-04T00:00:00Z"],
                                 in: site.url, environment: ["FATHOM_TEST_HOOK": "prune.committed=kill"])
        #expect(killed.status == 9)
        // The next writer removes the files the catalog no longer references.
        _ = try site.sweep(now: "2026-03-04T07:00:00Z")
        let rows = try site.rowsPerArchive()
        #expect(rows.values.sorted() == [0])
    }
}
