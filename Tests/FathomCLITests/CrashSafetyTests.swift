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

/// Kill `fathom ingest` with SIGKILL at several moments, run it again, and check that the store
/// ends with every row exactly once.
@Suite(.serialized)
struct CrashSafetyTests {
    /// Writes `files` JSON Lines files of `lines` gateway records each; returns lines per file name.
    static func makeInputs(in directory: TemporaryDirectory, files: Int, lines: Int) throws -> [String: Int] {
        var expected: [String: Int] = [:]
        for file in 0..<files {
            var text = ""
            text.reserveCapacity(lines * 200)
            for line in 0..<lines {
                let second = (file * lines + line) % 86_400
                text += #"{"timestamp":"2026-03-02T\#(pad(second / 3600)):\#(pad(second / 60 % 60)):\#(pad(second % 60)).\#(line % 1000)Z","client_ip":"10.1.\#(file).\#(line % 250)","api_key":"key-\#(line % 37)","method":"POST","path":"/v1/models/m/predict","status":200,"latency_ms":\#(line % 90).5,"request_body":"{\"x\":\#(line)}"}"#
                text += "\n"
            }
            let name = "inputs/gateway-\(file).jsonl"
            try directory.write(name, text)
            expected["inputs/gateway-\(file).jsonl"] = lines
        }
        return expected
    }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Rows per archive as the segments on disk say, and the set of segment files.
    static func rowsOnDisk(store: URL) throws -> (perArchive: [String: Int64], files: Set<String>) {
        let catalog = try Catalog(path: store.appendingPathComponent("catalog.sqlite").path)
        var perArchive: [String: Int64] = [:]
        var referenced = Set<String>()
        for archive in try catalog.archives() {
            perArchive[archive.path] = 0
        }
        let archives = Dictionary(uniqueKeysWithValues: try catalog.archives().map { ($0.id, $0.path) })
        for segment in try catalog.segments(kind: .inference) {
            let reader = try SegmentReader(path: store.appendingPathComponent(segment.path).path)
            let path = archives[reader.archiveID] ?? "?"
            perArchive[path, default: 0] += Int64(reader.rowCount)
            referenced.insert(segment.path)
        }
        var onDisk = Set<String>()
        let folder = store.appendingPathComponent("segments/inference")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            onDisk.insert("segments/inference/" + name)
        }
        #expect(onDisk == referenced, "every segment file on disk is referenced by the catalog, and vice versa")
        return (perArchive, onDisk)
    }

    @Test(arguments: [0.05, 0.2, 0.45, 0.9])
    func killedIngestCompletesExactlyOnce(after seconds: Double) throws {
        let directory = try TemporaryDirectory("crash")
        let expected = try Self.makeInputs(in: directory, files: 4, lines: 20_000)
        // Small segments so that a kill lands between segment writes too.
        let arguments = ["ingest", "inputs", "--store", "store", "--jobs", "2", "--segment-rows", "5000"]
        let victim = try CLI.start(arguments, in: directory.url)
        Thread.sleep(forTimeInterval: seconds)
        if victim.isRunning { kill(victim.processIdentifier, SIGKILL) }
        victim.waitUntilExit()

        let rerun = try CLI.run(arguments + ["--json"], in: directory.url)
        #expect(rerun.status == 0, "re-run succeeds: \(rerun.stderr)")
        // A third run reads nothing again.
        let third = try CLI.run(arguments + ["--json"], in: directory.url)
        #expect(third.status == 0)
        #expect(!third.stdout.contains("\"status\" : \"ingested\""), "nothing is ingested twice")

        let store = directory.file("store")
        let (perArchive, _) = try Self.rowsOnDisk(store: store)
        #expect(perArchive.count == expected.count)
        for (path, lines) in expected {
            #expect(perArchive[path] == Int64(lines), "archive \(path) has each of its rows exactly once")
        }
    }
}
