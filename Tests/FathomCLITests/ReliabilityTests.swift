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

/// Reproductions of the "never lose evidence, never crash" defects, each run through the CLI as a
/// user would meet it: a full disk, an input that shrinks while it is read, link loops, links out
/// of the evidence folder, SQLite look-alikes, the report folder inside the evidence folder.
@Suite(.serialized)
struct ReliabilityTests {
    /// Whether this machine lets the tests mount a small tmpfs (root in a container that allows it).
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let directory = try? TemporaryDirectory("tmpfs-probe") else { return false }
        let mounted = Self.shell("mount -t tmpfs -o size=1m tmpfs '\(directory.url.path)'") == 0
        if mounted { _ = Self.shell("umount '\(directory.url.path)'") }
        return mounted
    }()

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Total rows of every kind in the store's catalog, per archive path.
    static func catalogRows(_ store: URL) throws -> [String: Int64] {
        let catalog = try Catalog(path: store.appendingPathComponent("catalog.sqlite").path)
        return Dictionary(uniqueKeysWithValues: try catalog.archives().map { ($0.path, $0.rows) })
    }

    // MARK: 1. A full disk never loses an archive

    /// A segment write that fails (as on a full disk) leaves the archive unrecorded, exit 3, and the
    /// next run reads it in full.
    @Test func failedSegmentWriteLeavesTheArchivePendingForTheNextRun() throws {
        let directory = try TemporaryDirectory("enospc-hook")
        let expected = try CrashSafetyTests.makeInputs(in: directory, files: 3, lines: 4_000)
        let arguments = ["ingest", "inputs", "--store", "store", "--jobs", "1", "--segment-rows", "1000"]
        let failed = try CLI.run(arguments, in: directory.url, environment: ["FATHOM_TEST_HOOK": "segment.write=fail"])
        #expect(failed.status == 3, "a store failure is exit 3: \(failed.stderr)")
        #expect(failed.stderr.contains("No space left on device"))
        #expect(failed.stderr.contains("the next run reads it"))
        let before = try Self.catalogRows(directory.file("store"))
        #expect(before.isEmpty, "no archive is recorded by a run whose every segment write failed: \(before)")

        let rerun = try CLI.run(arguments + ["--json"], in: directory.url)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let (perArchive, _) = try CrashSafetyTests.rowsOnDisk(store: directory.file("store"))
        for (path, lines) in expected {
            #expect(perArchive[path] == Int64(lines), "\(path) is read in full once the store can be written")
        }
    }

    /// The same with a real full disk: the store on a 1 MB tmpfs. The first run fills it (exit 3),
    /// the tmpfs is grown, and a second run stores every row of every archive.
    @Test(.enabled(if: ReliabilityTests.canMountTmpfs, "needs root and permission to mount a tmpfs"))
    func fullDiskLosesNoArchive() throws {
        let directory = try TemporaryDirectory("enospc")
        let expected = try CrashSafetyTests.makeInputs(in: directory, files: 4, lines: 12_000)
        let store = directory.file("store")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        try #require(Self.shell("mount -t tmpfs -o size=1m tmpfs '\(store.path)'") == 0)
        defer { Self.shell("umount '\(store.path)'") }
        let arguments = ["ingest", "inputs", "--store", "store", "--jobs", "2", "--segment-rows", "2000"]
        let full = try CLI.run(arguments, in: directory.url)
        #expect(full.status == 3, "a full disk is a store failure: \(full.stderr)")
        #expect(full.stderr.contains("No space left on device") || full.stderr.contains("full"), "\(full.stderr)")

        try #require(Self.shell("mount -o remount,size=64m '\(store.path)'") == 0)
        let freed = try CLI.run(arguments + ["--json"], in: directory.url)
        #expect(freed.status == 0, "\(freed.stderr)")
        #expect(!freed.stdout.contains("unreadable"))
        let (perArchive, _) = try CrashSafetyTests.rowsOnDisk(store: store)
        #expect(perArchive.count == expected.count)
        for (path, lines) in expected {
            #expect(perArchive[path] == Int64(lines), "\(path) has each of its rows once after space was freed")
        }
    }

    // MARK: 2. An input that shrinks while it is read

    /// logrotate's `copytruncate` empties a file while Fathom reads it: no SIGBUS, exit 2, the file
    /// is listed as not read and not recorded, and the next run reads what the file now holds.
    @Test(arguments: [false, true])
    func inputTruncatedWhileReadIsNotRecordedAndReadAgain(compressed: Bool) throws {
        let directory = try TemporaryDirectory("shrink")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 1, lines: 30_000)
        var name = "inputs/gateway-0.jsonl"
        if compressed {
            #expect(Self.shell("cd '\(directory.url.path)' && zstd -q --rm -1 \(name)") == 0)
            name += ".zst"
        }
        let path = directory.file(name).path
        let arguments = ["ingest", name, "--store", "store", "--json"]
        let victim = Process()
        victim.executableURL = CLI.executable
        victim.arguments = arguments
        victim.currentDirectoryURL = directory.url
        victim.environment = ProcessInfo.processInfo.environment.merging(["FATHOM_TEST_HOOK": "ingest.opened=pause:1.5"]) { $1 }
        let out = Pipe()
        victim.standardOutput = out
        victim.standardError = FileHandle.nullDevice
        try victim.run()
        Thread.sleep(forTimeInterval: 0.7)
        // copytruncate: the content moves elsewhere and the file is cut to a few new lines.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        victim.waitUntilExit()
        #expect(victim.terminationReason == .exit, "no signal (SIGBUS) ends the run")
        #expect(victim.terminationStatus == 2, "an input not read through is exit 2")
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.contains("\"status\" : \"not-read\""), "\(text)")
        #expect(text.contains("changed while it was read"), "\(text)")
        #expect(try Self.catalogRows(directory.file("store")).isEmpty, "nothing of the half-read file is recorded")

        let rerun = try CLI.run(arguments, in: directory.url)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(!rerun.stdout.contains("already-ingested"), "the file is read again, not taken as known")
    }
}

extension ReliabilityTests {
    /// Runs `fathom` and kills it if it has not finished after `seconds` (a hang is a failure).
    static func runBounded(_ arguments: [String], in directory: URL, seconds: Double) throws -> (CLI.Output, timedOut: Bool) {
        let outputs = try TemporaryDirectory("bounded")
        _ = FileManager.default.createFile(atPath: outputs.file("out").path, contents: nil)
        _ = FileManager.default.createFile(atPath: outputs.file("err").path, contents: nil)
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: outputs.file("out"))
        process.standardError = try FileHandle(forWritingTo: outputs.file("err"))
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: outputs.file("out"), encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: outputs.file("err"), encoding: .utf8)) ?? ""
        return (CLI.Output(status: process.terminationStatus, stdout: stdout, stderr: stderr), timedOut)
    }

    // MARK: 3. Directory link loops

    /// Two directory links that loop (each folder reachable through the other) neither hang the
    /// walk nor read a file twice; the loops are listed as skipped.
    @Test func directoryLinkLoopsEndAndEveryFileIsReadOnce() throws {
        let directory = try TemporaryDirectory("loops")
        let expected = try CrashSafetyTests.makeInputs(in: directory, files: 2, lines: 100)
        let manager = FileManager.default
        try manager.createDirectory(at: directory.file("inputs/a/b"), withIntermediateDirectories: true)
        try manager.createSymbolicLink(atPath: directory.file("inputs/a/b/up").path, withDestinationPath: "../..")
        try manager.createSymbolicLink(atPath: directory.file("inputs/a/again").path, withDestinationPath: "b")
        try manager.createSymbolicLink(atPath: directory.file("inputs/a/b/self").path, withDestinationPath: ".")
        let (output, timedOut) = try Self.runBounded(["ingest", "inputs", "--store", "store", "--json"],
                                                     in: directory.url, seconds: 30)
        #expect(!timedOut, "the walk ends")
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("symbolic link loop"), "\(output.stdout)")
        let rows = try Self.catalogRows(directory.file("store"))
        #expect(rows.count == expected.count, "each file once: \(rows.keys.sorted())")
        #expect(rows.values.reduce(0, +) == Int64(expected.values.reduce(0, +)))
    }

    // MARK: 4. Links out of the evidence folder

    /// A link to a credentials file outside the evidence folder is listed and not read, so its
    /// content reaches no report. With --follow-symlinks it is read, and the secret in its
    /// rejected-record sample is masked in every report.
    @Test func linksOutOfTheEvidenceFolderAreNotReadAndSecretsAreMasked() throws {
        let directory = try TemporaryDirectory("links-out")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 1, lines: 50)
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        try directory.write("home/.aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = \(secret)\n")
        try FileManager.default.createSymbolicLink(atPath: directory.file("inputs/credentials").path,
                                                   withDestinationPath: directory.file("home/.aws/credentials").path)
        let run = try CLI.run(["analyze", "inputs", "--case", "LINKS", "--now", "2026-03-05T00:00:00Z"], in: directory.url)
        #expect(run.status == 0, "\(run.stderr)")
        let reports = directory.file("Reports/LINKS")
        let evidence = try String(contentsOf: reports.appendingPathComponent("evidence.md"), encoding: .utf8)
        #expect(evidence.contains("Inputs found but not recorded"))
        #expect(evidence.contains("outside the input folders"))
        for name in try FileManager.default.contentsOfDirectory(atPath: reports.path) {
            let text = (try? String(contentsOf: reports.appendingPathComponent(name), encoding: .utf8)) ?? ""
            #expect(!text.contains("wJalrXUtnFEMI"), "no secret in \(name)")
        }

        let followed = try CLI.run(["analyze", "inputs", "--case", "FOLLOWED", "--follow-symlinks", "--store", "store2",
                                    "--now", "2026-03-05T00:00:00Z"], in: directory.url)
        #expect(followed.status == 2 || followed.status == 0, "\(followed.stderr)")
        let second = directory.file("Reports/FOLLOWED")
        let secondEvidence = try String(contentsOf: second.appendingPathComponent("evidence.md"), encoding: .utf8)
        #expect(secondEvidence.contains("credentials"), "the followed link is read")
        for name in try FileManager.default.contentsOfDirectory(atPath: second.path) {
            let text = (try? String(contentsOf: second.appendingPathComponent(name), encoding: .utf8)) ?? ""
            #expect(!text.contains("wJalrXUtnFEMI"), "the secret is masked in \(name)")
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"), "the access key id is masked in \(name)")
        }
    }

    // MARK: 8. The report folder is not evidence

    /// `fathom analyze .` run inside the evidence folder twice: the second run reads neither the
    /// report folder nor the store of the first.
    @Test func analyzeInsideTheEvidenceFolderDoesNotReadItsOwnReports() throws {
        let directory = try TemporaryDirectory("self-read")
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("SampleData")
        let evidence = directory.file("evidence")
        try FileManager.default.copyItem(at: sample, to: evidence)
        let arguments = ["analyze", ".", "--case", "SELF", "--now", "2026-03-05T00:00:00Z", "--json"]
        let first = try CLI.run(arguments, in: evidence)
        #expect(first.status == 0, "\(first.stderr)")
        let rowsBefore = try Self.catalogRows(evidence.appendingPathComponent(".fathom"))
        let second = try CLI.run(arguments, in: evidence)
        #expect(second.status == 0, "\(second.stderr)")
        let rowsAfter = try Self.catalogRows(evidence.appendingPathComponent(".fathom"))
        #expect(rowsAfter == rowsBefore, "no new archive: \(Set(rowsAfter.keys).subtracting(rowsBefore.keys).sorted())")
        #expect(!rowsAfter.keys.contains { $0.hasPrefix("Reports") })
    }
}

extension ReliabilityTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let sqliteFixtures = repository.appendingPathComponent("Tests/FathomCoreTests/Fixtures/sqlite")

    // MARK: 5. SQLite files that are not a readable MLflow registry

    /// Six files with the SQLite header that are not a readable MLflow registry: each is recorded
    /// with its hash as unreadable, with the reason, and the run exits 2.
    @Test(arguments: ["not-mlflow.db", "no-tables.db", "header-only.db", "cut-pages.db", "scrambled-pages.db",
                      "magic-then-noise.db"])
    func sqliteThatIsNotAReadableRegistryIsUnreadable(name: String) throws {
        let directory = try TemporaryDirectory("sqlite")
        try FileManager.default.copyItem(at: Self.sqliteFixtures.appendingPathComponent(name), to: directory.file(name))
        let run = try CLI.run(["ingest", name, "--store", "store", "--json"], in: directory.url)
        #expect(run.status == 2, "exit 2 for an unreadable input: \(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("\"status\" : \"unreadable\""), "\(run.stdout)")
        #expect(run.stdout.contains("SQLite") || run.stdout.contains("sqlite"), "the reason names the database: \(run.stdout)")
    }

    // MARK: 6. Committed transactions in a -wal file

    /// An MLflow registry whose last committed transaction is in its -wal: the database is read
    /// with the log (4 versions, as SQLite sees it, not 3), the -wal is recorded as evidence of its
    /// own, and neither is "unreadable"; the evidence files are not modified.
    @Test func mlflowWriteAheadLogIsRead() throws {
        let directory = try TemporaryDirectory("wal")
        let evidence = directory.file("evidence")
        try FileManager.default.createDirectory(at: evidence, withIntermediateDirectories: true)
        for name in ["mlflow-wal.db", "mlflow-wal.db-wal"] {
            try FileManager.default.copyItem(at: Self.sqliteFixtures.appendingPathComponent(name),
                                             to: evidence.appendingPathComponent(name))
        }
        let before = try FileManager.default.contentsOfDirectory(atPath: evidence.path).sorted()
        let hashes = try before.map { try Data(contentsOf: evidence.appendingPathComponent($0)) }
        let run = try CLI.run(["ingest", "evidence", "--store", "store", "--json"], in: directory.url)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        #expect(!run.stdout.contains("unreadable"), "\(run.stdout)")
        #expect(run.stdout.contains("write-ahead log"), "\(run.stdout)")
        let catalog = try Catalog(path: directory.file("store/catalog.sqlite").path)
        let archives = try catalog.archives()
        let database = try #require(archives.first { $0.path.hasSuffix("mlflow-wal.db") })
        let log = try #require(archives.first { $0.path.hasSuffix("mlflow-wal.db-wal") })
        #expect(log.formats == "sqlite-wal")
        // mlflow-new.db: 1 registered model + 3 versions (+ 2 stage events) + alias + tag = 8 rows;
        // the version in the log adds a registration and a stage event.
        #expect(database.rows == 10, "the committed version in the -wal is read: \(database.rows) rows")
        #expect(try FileManager.default.contentsOfDirectory(atPath: evidence.path).sorted() == before,
                "no -shm or other file was created beside the evidence")
        #expect(try before.map { try Data(contentsOf: evidence.appendingPathComponent($0)) } == hashes, "evidence unchanged")
    }

    // MARK: 9. A tar cut inside its first member

    @Test(arguments: [(300, true), (5_000, false)])
    func tarCutInItsFirstMemberIsNotACleanIngest(cutAt: Int, nothingRead: Bool) throws {
        let directory = try TemporaryDirectory("tar-cut")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 1, lines: 200)
        #expect(Self.shell("cd '\(directory.url.path)/inputs' && tar cf ../full.tar gateway-0.jsonl && head -c \(cutAt) ../full.tar > ../cut.tar") == 0)
        let run = try CLI.run(["ingest", "cut.tar", "--store", "store", "--json"], in: directory.url)
        #expect(run.status == (nothingRead ? 2 : 0), "\(run.stdout)")
        #expect(run.stdout.contains(nothingRead ? "\"status\" : \"unreadable\"" : "\"status\" : \"ingested\""))
        #expect(run.stdout.contains("cut short"), "the damage is named: \(run.stdout)")
        #expect(!run.stdout.contains("\"rejected\" : 0"), "the damage is counted: \(run.stdout)")
    }

    // MARK: 10. One NUL byte does not make a log binary

    @Test func strayNULByteRejectsOneRecordNotTheFile() throws {
        let directory = try TemporaryDirectory("nul")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 1, lines: 1_000)
        let path = directory.file("inputs/gateway-0.jsonl").path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let secondLine = try #require(bytes.firstIndex(of: 0x0A)) + 20
        bytes[secondLine] = 0
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let run = try CLI.run(["ingest", "inputs", "--store", "store", "--json"], in: directory.url)
        #expect(run.status == 0, "\(run.stdout)")
        #expect(run.stdout.contains("\"rows\" : 999"), "999 of 1,000 rows: \(run.stdout)")
        #expect(run.stdout.contains("\"rejected\" : 1"))
    }

    // MARK: 11. A killed analysis leaves no temporary file behind

    @Test func killedAnalysisLeavesNoTemporaryFileAfterTheNextRun() throws {
        let directory = try TemporaryDirectory("kill-report")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 1, lines: 2_000)
        let arguments = ["analyze", "inputs", "--case", "K", "--now", "2026-03-05T00:00:00Z"]
        let killed = try CLI.run(arguments, in: directory.url, environment: ["FATHOM_TEST_HOOK": "report.findings-written=kill"])
        #expect(killed.status != 0)
        let folder = directory.file("Reports/K")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tmp") }
        #expect(!leftovers.isEmpty, "the kill left a temporary file (the situation under test)")
        let rerun = try CLI.run(arguments, in: directory.url)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tmp") }
        #expect(after.isEmpty, "the next run removed it: \(after)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("findings.json").path))
    }

    // MARK: 12. Loss counted in records, not in "one rejected record"

    /// A one-bit flip in the middle zstd frame of three loses that frame's rows: the summary and
    /// the evidence report say about how many records were lost, within a few percent of the truth.
    @Test func corruptFrameLossIsCountedInRecords() throws {
        let directory = try TemporaryDirectory("bitflip")
        _ = try CrashSafetyTests.makeInputs(in: directory, files: 3, lines: 4_000)
        let inputs = directory.file("inputs").path
        #expect(Self.shell("cd '\(inputs)' && for f in 0 1 2; do zstd -q -1 gateway-$f.jsonl -o part-$f.zst; done && cat part-0.zst part-1.zst part-2.zst > ../frames.jsonl.zst") == 0)
        var bytes = try [UInt8](Data(contentsOf: directory.file("frames.jsonl.zst")))
        let first = try FileManager.default.attributesOfItem(atPath: inputs + "/part-0.zst")[.size] as? Int ?? 0
        let second = try FileManager.default.attributesOfItem(atPath: inputs + "/part-1.zst")[.size] as? Int ?? 0
        bytes[first + second / 2] ^= 0x10
        try Data(bytes).write(to: directory.file("frames.jsonl.zst"))
        let run = try CLI.run(["analyze", "frames.jsonl.zst", "--case", "FLIP", "--now", "2026-03-05T00:00:00Z"], in: directory.url)
        #expect(run.status == 0, "\(run.stderr)")
        let catalog = try Catalog(path: directory.file(".fathom/catalog.sqlite").path)
        let archive = try #require(try catalog.archives().first)
        let lost = 12_000 - archive.rows
        #expect(lost > 1_000, "a frame's rows are lost: \(archive.rows) read")
        #expect(abs(archive.lostRecords - lost) * 20 <= lost, "estimate \(archive.lostRecords) within 5 % of \(lost)")
        let evidence = try String(contentsOf: directory.file("Reports/FLIP/evidence.md"), encoding: .utf8)
        #expect(evidence.contains("Damaged evidence: about"), "the evidence report says it plainly")
    }
}

extension ReliabilityTests {
    /// A sweep whose store writes fail (a full disk) exits 3 and records nothing of the new day;
    /// once the store can be written, the next sweep reports exactly what a sweep without the
    /// failure reports.
    @Test func sweepOnAFullDiskLosesNoFinding() throws {
        let failing = try SweepCommandTests.Site()
        try failing.dropDay1()
        let full = try failing.sweep(now: "2026-03-03T06:00:00Z", environment: ["FATHOM_TEST_HOOK": "segment.write=fail"])
        #expect(full.status == 3, "\(full.stderr)")
        #expect(try failing.rowsPerArchive().isEmpty, "no archive recorded")
        let recovered = try failing.digest(try failing.sweep(now: "2026-03-03T06:00:00Z"))

        let clean = try SweepCommandTests.Site()
        try clean.dropDay1()
        let reference = try clean.digest(try clean.sweep(now: "2026-03-03T06:00:00Z"))
        // The same findings (the two sites differ only by their folder).
        func summary(_ digest: SweepDigest) -> [String] {
            digest.findings.map { finding in
                let hit = finding.hit
                return "\(hit.rule) \(hit.keyText) \(SweepDigest.metricsText(hit.metrics)) \(hit.window.map { "\($0.start)-\($0.end)" } ?? "")"
                    + " \(hit.evidence.first?.line ?? 0)-\(hit.evidence.last?.line ?? 0)"
            }
        }
        #expect(summary(recovered) == summary(reference), "the same findings as without the failure")
        #expect(recovered.newArchives.map(\.rows) == reference.newArchives.map(\.rows))
        #expect(!recovered.findings.isEmpty)
    }
}
