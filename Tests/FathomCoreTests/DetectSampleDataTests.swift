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

/// The playbook rules on SampleData against the simulator's `expected.json`.
///
/// The whole of SampleData is ingested (every format is read); the hits of the four playbook rules
/// with a per-hit answer are compared one by one. (`registry.change` is listed for the timeline
/// and is compared in the analysis tests through the deployment window it yields.)
@Suite struct DetectSampleDataTests {
    static var sampleData: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("SampleData")
    }

    @Test func playbookHitsMatchExpectedJSON() throws {
        let root = Self.sampleData
        let expectedURL = root.appendingPathComponent("expected.json")
        guard FileManager.default.fileExists(atPath: expectedURL.path) else { return }
        let directory = try TemporaryDirectory("fathom-sample")
        _ = try IngestEngine.run(IngestRequest(paths: [root.path], storeDirectory: directory.path("store"), jobs: 2))
        let hits = try Hunt.run(HuntRequest(storeDirectory: directory.path("store"),
                                            ruleIDs: ["extraction.volume", "prompt.injection-phrase", "pipeline.burst",
                                                      "artifact.external-access", "registry.change"], jobs: 2)).hits
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as? [String: Any])
        let detections = try #require(expected["detections"] as? [String: Any])
        func list(_ rule: String) -> [[String: Any]] { ((detections[rule] as? [String: Any])?["hits"] as? [[String: Any]]) ?? [] }
        func time(_ value: Any?) -> Int64 { TimeParser.parse(value as? String ?? "") ?? -1 }

        // extraction.volume: every hit, the nginx front-end's address included.
        let expectedVolume = list("extraction.volume").map {
            "\($0["src_ip"] ?? "") \(time($0["hour"])) \($0["query_count"] ?? "") \($0["distinct_inputs"] ?? "")"
        }.sorted()
        let volume = hits.filter { $0.rule == "extraction.volume" }.map {
            "\($0.key["src_ip"]?.description ?? "") \($0.window?.start.nanoseconds ?? 0) \($0.metrics["query_count"]?.description ?? "") "
                + "\($0.metrics["distinct_inputs"]?.description ?? "")"
        }.sorted()
        #expect(volume == expectedVolume)
        // Six of the attackers, six of the nightly batch job.
        #expect(expectedVolume.count == 12)

        // artifact.external-access: per caller, count, first and last.
        let artifact = detections["artifact.external-access"] as? [String: Any] ?? [:]
        let expectedArtifacts = ((artifact["by_src_ip"] as? [[String: Any]]) ?? []).map {
            "\($0["src_ip"] ?? "") \($0["count"] ?? "") \(time($0["first"])) \(time($0["last"]))"
        }.sorted()
        var byCaller: [String: [Int64]] = [:]
        for hit in hits where hit.rule == "artifact.external-access" {
            byCaller[hit.key["src_ip"]?.description ?? "", default: []].append(hit.time?.nanoseconds ?? 0)
        }
        let artifacts = byCaller.map { caller, times in
            "\(caller) \(times.count) \(times.min() ?? 0) \(times.max() ?? 0)"
        }.sorted()
        #expect(artifacts == expectedArtifacts)
        #expect(hits.filter { $0.rule == "artifact.external-access" }.count == (artifact["count"] as? Int ?? -1))

        // registry.change: the same number of changes of each kind (the answer key splits
        // registrations into models and versions; the rule calls both a registration).
        let registry = detections["registry.change"] as? [String: Any] ?? [:]
        let byEvent = registry["by_event"] as? [String: Int] ?? [:]
        var expectedKinds: [String: Int] = [:]
        for (event, count) in byEvent {
            expectedKinds[event.hasPrefix("register") ? "registration" : event, default: 0] += count
        }
        var kinds: [String: Int] = [:]
        for hit in hits where hit.rule == "registry.change" {
            if case let .string(kind)? = hit.metrics["change"] { kinds[kind, default: 0] += 1 }
        }
        #expect(kinds == expectedKinds)
        #expect(hits.filter { $0.rule == "registry.change" }.count == (registry["count"] as? Int ?? -1))

        // prompt.injection-phrase: same rows, same first phrase and phrase list (case-insensitively).
        let expectedPhrases = list("prompt.injection-phrase").map {
            "\(time($0["time"])) \($0["principal"] ?? "") " + ((($0["phrases"] as? [String]) ?? []).map { $0.lowercased() }).joined(separator: ",")
        }.sorted()
        let phrases = hits.filter { $0.rule == "prompt.injection-phrase" }.map { hit -> String in
            var names: [String] = []
            if case let .strings(values)? = hit.metrics["phrases"] { names = values.map { $0.lowercased() } }
            return "\(hit.time?.nanoseconds ?? 0) \(hit.key["principal"]?.description ?? "") " + names.joined(separator: ",")
        }.sorted()
        #expect(phrases == expectedPhrases)
        #expect(phrases.count == 30)

        // pipeline.burst: same groups, counts, means and deviations.
        let expectedBursts = list("pipeline.burst").map {
            "\($0["user"] ?? "") \($0["action"] ?? "") \($0["pipeline"] ?? "") \(time(($0["day"] as? String ?? "") + "T00:00:00Z")) \($0["count"] ?? "")"
        }.sorted()
        let bursts = hits.filter { $0.rule == "pipeline.burst" }
        #expect(bursts.map {
            "\($0.key["principal"]?.description ?? "") \($0.key["action"]?.description ?? "") \($0.key["pipeline"]?.description ?? "") "
                + "\($0.window?.start.nanoseconds ?? 0) \($0.metrics["count"]?.description ?? "")"
        }.sorted() == expectedBursts)
        for item in list("pipeline.burst") {
            let match = bursts.first { $0.key["principal"]?.description == item["user"] as? String
                && $0.window?.start.nanoseconds == time((item["day"] as? String ?? "") + "T00:00:00Z")
                && $0.key["action"]?.description == item["action"] as? String }
            if case let .double(mean)? = match?.metrics["mean"], case let .double(stdev)? = match?.metrics["stdev"] {
                #expect(abs(mean - (item["mean"] as? Double ?? 0)) < 1e-9)
                #expect(abs(stdev - (item["stdev"] as? Double ?? 0)) < 1e-9)
            } else {
                Issue.record("no burst hit for \(item)")
            }
        }
    }
}
