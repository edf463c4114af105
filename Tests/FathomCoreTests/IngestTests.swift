@testable import FathomCore
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

/// End-to-end ingest through the Core API: decoding, rejects, catalog idempotence.
@Suite struct IngestTests: StoreReading {
    static let gateway = """
        {"timestamp":"2026-03-02T10:00:00Z","client_ip":"203.0.113.9:51000","api_key":"k1","method":"POST","path":"\\/v1\\/models\\/m\\/predict","status":200,"latency_ms":4.5,"request_body":"{\\"x\\":1}","model":"fraud"}
        {"model":"fraud","request_body":"{\\"x\\":2}","latency_ms":5,"status":"503","path":"/v1/models/m/predict","method":"POST","api_key":"k2","client_ip":"[2001:db8::7]:443","timestamp":"2026-03-02T10:00:01.123456789+01:00"}

        {"timestamp":1772445602000,"client_ip":"198.51.100.1","api_key":"caf\\u00e9","method":"GET","path":"/health","status":200}
        """

    @Test func decodesGenericJSONLinesIntoCanonicalColumns() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("in/gateway.jsonl", Self.gateway)
        let summary = try ingest([file], store: directory.path("store"))
        #expect(summary.files.map(\.status) == [.ingested])
        #expect(summary.rows == 3)
        #expect(summary.rejected == 0)
        let rows = try rows(.inference, store: directory.path("store"))
        #expect(rows.count == 3)
        #expect(rows[0]["src_ip"] == "203.0.113.9")
        #expect(rows[0]["path"] == "/v1/models/m/predict")
        #expect(rows[0]["time"] == String(TimeParser.parse("2026-03-02T10:00:00Z")!))
        #expect(rows[0]["line"] == "1")
        #expect(rows[1]["src_ip"] == "2001:db8::7")
        #expect(rows[1]["status"] == "503")
        #expect(rows[1]["time"] == String(TimeParser.parse("2026-03-02T09:00:01.123456789Z")!))
        #expect(rows[1]["line"] == "2")
        #expect(rows[2]["principal"] == "café")
        #expect(rows[2]["line"] == "4", "line numbers count the blank line")
        #expect(rows[2]["time"] == "1772445602000000000")
        #expect(rows[0]["input_hash"] != nil && rows[0]["input_hash"] != rows[1]["input_hash"])
        #expect(rows[2]["input_hash"] == nil)
    }

    /// One ingest of files of several kinds, each forced by its path (as a sweep's patterns force
    /// them), stores each file as its own kind; a file without a forced kind gets the request's.
    @Test func kindsForcedPerPathInOneIngest() throws {
        let directory = try TemporaryDirectory()
        let record = #"{"timestamp":"2026-03-02T10:00:00Z","user":"alice","model":"m"}"# + "\n"
        let first = try directory.write("in/a.jsonl", record)
        let second = try directory.write("in/b.jsonl", record + record)
        let third = try directory.write("in/c.jsonl", record + record + record)
        var request = IngestRequest(paths: [first, second, third], storeDirectory: directory.path("store"), kind: .llm, jobs: 2)
        request.kindsByPath = [first: .pipeline, second: .registry]
        let summary = try IngestEngine.run(request)
        #expect(summary.files.map(\.status) == [.ingested, .ingested, .ingested])
        #expect(try rows(.pipeline, store: directory.path("store")).count == 1)
        #expect(try rows(.registry, store: directory.path("store")).count == 2)
        #expect(try rows(.llm, store: directory.path("store")).count == 3)
    }

    @Test func reingestingIsANoOpThatSaysSo() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("in/gateway.jsonl", Self.gateway)
        let store = directory.path("store")
        _ = try ingest([file], store: store)
        let again = try ingest([file], store: store)
        #expect(again.files.map(\.status) == [.alreadyIngested])
        // A renamed copy has the same SHA-256: read, recognised, not recorded twice.
        let copy = try directory.write("elsewhere/renamed.jsonl", Self.gateway)
        let renamed = try ingest([copy], store: store)
        #expect(renamed.files.map(\.status) == [.duplicate])
        #expect(renamed.files[0].note.contains("gateway.jsonl"))
        #expect(try rows(.inference, store: store).count == 3)
        let catalog = try Store(directory: store, forWriting: false).catalog
        #expect(try catalog.archives().count == 1)
        let sha = try catalog.archives()[0].sha256
        #expect(sha == (try Self.sha256(of: file)))
    }

    /// Segments are cut by size every time the rows reach `segmentBytes`, not only the first time:
    /// the builder's buffers keep their capacity across segments, and the size test must not see
    /// that capacity as rows (it did, and cut every later segment after one chunk).
    @Test func segmentsAreCutBySizeEveryTime() throws {
        let directory = try TemporaryDirectory()
        var text = ""
        for index in 0..<60_000 {
            text += #"{"timestamp":"2026-03-02T10:00:00Z","client_ip":"203.0.113.\#(index % 200)","api_key":"key-\#(index % 50)","method":"POST","path":"/v1/models/m/predict","status":200,"request_body":"{\"x\":\#(index)}"}"#
            text += "\n"
        }
        // Compressed, so the rows arrive in many small chunks as they do from real archives.
        let file = directory.path("gateway.jsonl.zst")
        let writer = try ZstdFileWriter(path: file)
        try writer.write(Array(text.utf8))
        try writer.close()
        let store = directory.path("store")
        _ = try IngestEngine.run(IngestRequest(paths: [file], storeDirectory: store, jobs: 1, segmentBytes: 1 << 20))
        let segments = try Store(directory: store, forWriting: false).catalog.segments(kind: .inference)
        #expect(segments.map(\.rows).reduce(0, +) == 60_000)
        #expect(segments.count >= 2, "the rows hold more than one segment's worth of bytes: \(segments.map(\.rows))")
        // Every segment but the last is cut at the size limit, so all but the last are alike.
        let rows = segments.dropLast().map(\.rows)
        #expect(rows.min()! * 2 > rows.max()!, "segment rows \(segments.map(\.rows))")
        #expect(segments.count < 20, "\(segments.count) segments for about 5 MiB of rows")
    }

    static func sha256(of path: String) throws -> String {
        var hasher = SHA256Stream()
        let mapping = try FileMapping(path: path)
        hasher.update(mapping.bytes)
        return hasher.finalize()
    }

    @Test func csvWithHeaderAndProfile() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("in/decisions.csv", """
            when,model,model_version,req,outcome,risk
            2026-03-02T10:00:00Z,fraud,v13,r-1,decline,0.91
            2026-03-02T10:00:01Z,fraud,v13,r-2,"approve",0.12
            2026-03-02T10:00:02Z,fraud,v13,r-3
            """)
        let profile = try Profile(yaml: """
            kind: predictions
            fields:
              time: when
              request_id: req
              decision: outcome
              score: risk
            """, origin: "p.yaml")
        let summary = try ingest([file], store: directory.path("store"), profile: profile)
        #expect(summary.rows == 2)
        #expect(summary.rejected == 1)
        let rows = try rows(.predictions, store: directory.path("store"))
        #expect(rows.map { $0["decision"] } == ["decline", "approve"])
        #expect(rows.map { $0["version"] } == ["v13", "v13"])
        #expect(rows.map { $0["request_id"] } == ["r-1", "r-2"])
        #expect(rows[0]["score"] == "0.91")
    }

    @Test func undecidableKindKeepsEveryRecordWholeAndSaysSo() throws {
        let directory = try TemporaryDirectory()
        let line = #"{"timestamp":"2026-03-02T10:00:00Z","colour":"red","speed":3}"#
        let file = try directory.write("in/odd.jsonl", line + "\n")
        let summary = try ingest([file], store: directory.path("store"))
        #expect(summary.files[0].status == .ingested)
        #expect(summary.files[0].rejected == 0)
        #expect(summary.files[0].kinds == ["audit"])
        #expect(summary.files[0].note.contains("colour"))
        #expect(summary.files[0].note.contains("kept whole"))
        let kept = try rows(.audit, store: directory.path("store"))
        #expect(kept.map { $0["source"] } == ["json"])
        #expect(kept.map { $0["record"] } == [line])
        // A record without any time field is still refused, naming the fields.
        let timeless = try directory.write("in/timeless.jsonl", #"{"colour":"red","speed":3}"# + "\n")
        let refused = try ingest([timeless], store: directory.path("store3"))
        #expect(refused.files[0].status == .unreadable)
        #expect(refused.files[0].note.contains("colour"))
        #expect(refused.files[0].note.contains("timeless.jsonl"))
        // With --kind it is read.
        let forced = try ingest([file], store: directory.path("store2"), kind: .inference)
        #expect(forced.rows == 1)
    }

    /// Bad input: every good record of each damaged file is still ingested; the damage is counted.
    @Test(arguments: [
        ("truncated.jsonl.zst", 5, true),
        ("corrupt-member.jsonl.gz", 4, true),
        ("cut-member.tar", 3, true),
        ("mixed.jsonl", 3, true),
        ("empty.jsonl", 0, false),
        ("huge-line.jsonl.zst", 2, true),
    ])
    func damagedInputsKeepTheirGoodRecords(name: String, goodRows: Int, hasRejects: Bool) throws {
        let directory = try TemporaryDirectory()
        let summary = try ingest([Fixtures.path("bad-inputs/" + name)], store: directory.path("store"))
        #expect(summary.files.count == 1)
        let file = summary.files[0]
        #expect(file.status == .ingested, "\(file.note)")
        #expect(file.rows >= Int64(goodRows), "\(name): \(file.rows) rows")
        #expect((file.rejected > 0) == hasRejects, "\(name): \(file.rejected) rejected; \(file.note)")
        let catalog = try Store(directory: directory.path("store"), forWriting: false).catalog
        let archive = try #require(try catalog.archives().first)
        if hasRejects {
            #expect(!(try catalog.rejectReasons(archiveID: archive.id)).isEmpty)
            #expect(!(try catalog.rejectSamples(archiveID: archive.id)).isEmpty)
        }
    }

    @Test func mixedFileRejectsAreCountedByReason() throws {
        let directory = try TemporaryDirectory()
        _ = try ingest([Fixtures.path("bad-inputs/mixed.jsonl")], store: directory.path("store"))
        let catalog = try Store(directory: directory.path("store"), forWriting: false).catalog
        let archive = try #require(try catalog.archives().first)
        let reasons = try catalog.rejectReasons(archiveID: archive.id)
        #expect(reasons["invalid UTF-8"] == 1)
        #expect(reasons.keys.contains { $0.hasPrefix("malformed JSON") })
        #expect(reasons.values.reduce(0, +) == 3)
        #expect(archive.rows == 3)
    }

    @Test func hugeLineIsRejectedWithoutLoadingIt() throws {
        let directory = try TemporaryDirectory()
        let summary = try ingest([Fixtures.path("bad-inputs/huge-line.jsonl.zst")], store: directory.path("store"))
        #expect(summary.rows == 2)
        #expect(summary.rejected == 1)
        let catalog = try Store(directory: directory.path("store"), forWriting: false).catalog
        let archive = try #require(try catalog.archives().first)
        let sample = try #require(try catalog.rejectSamples(archiveID: archive.id).first)
        #expect(sample.line == 2)
        #expect(sample.sample.count <= RejectLog.sampleBytes)
        #expect(sample.reason.contains("exceeds"))
    }

    @Test(arguments: ["not-a-log.png", "unsupported.jsonl.xz"])
    func unreadableFilesAreRecordedWithTheirReason(name: String) throws {
        let directory = try TemporaryDirectory()
        let summary = try ingest([Fixtures.path("bad-inputs/" + name)], store: directory.path("store"))
        let file = try #require(summary.files.first)
        #expect(file.rows == 0)
        #expect(file.rejected >= 1)
        #expect(!file.note.isEmpty)
        #expect(file.sha256.count == 64)
    }

    @Test func fathomIgnoreExcludesDocumentationButNotEvidence() throws {
        let directory = try TemporaryDirectory()
        try directory.write("case/.fathomignore", "# docs\nREADME.md\nnotes/*.txt\n")
        try directory.write("case/README.md", "not a log")
        try directory.write("case/notes/a.txt", "not a log")
        try directory.write("case/logs/README.md", "nested: also ignored")
        try directory.write("case/logs/gateway.jsonl", Self.gateway)
        let summary = try ingest([directory.path("case")], store: directory.path("store"))
        #expect(summary.files.map { ($0.path as NSString).lastPathComponent } == ["gateway.jsonl"])
    }

    @Test func catalogMigrationsAreRecorded() throws {
        let directory = try TemporaryDirectory()
        let catalog = try Catalog(path: directory.path("catalog.sqlite"))
        #expect(try catalog.appliedMigrations() == ["v1-archives-segments", "v2-filtered-records", "v3-sweeps", "v4-damage-loss", "v5-findings-times", "v6-findings-identity-key"])
        // Opening again applies nothing new and keeps the data.
        let again = try Catalog(path: directory.path("catalog.sqlite"))
        #expect(try again.appliedMigrations() == ["v1-archives-segments", "v2-filtered-records", "v3-sweeps", "v4-damage-loss", "v5-findings-times", "v6-findings-identity-key"])
    }

    @Test func aSecondWriterIsRefused() throws {
        let directory = try TemporaryDirectory()
        let first = try Store(directory: directory.path("store"), forWriting: true)
        #expect(throws: CatalogError.busy(path: directory.path("store"))) {
            _ = try Store(directory: directory.path("store"), forWriting: true)
        }
        _ = first
    }
}
