import FathomCore
import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// One small scenario, generated once for all tests.
private struct Fixture: Sendable {
    let directory: String
    let expectedData: Data

    var expected: [String: Any] {
        (try? JSONSerialization.jsonObject(with: expectedData)) as? [String: Any] ?? [:]
    }

    static let shared: Result<Fixture, SimulatorFailure> = {
        let directory = NSTemporaryDirectory() + "fathom-sim-\(ProcessInfo.processInfo.processIdentifier)-a"
        do {
            let request = SimulationRequest(outputDirectory: directory, seed: 7, scale: 4000, days: 2,
                                            start: ScenarioTime.parseDate("2026-03-02") ?? 0, threads: 2)
            _ = try Simulator.run(request)
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/expected.json"))
            guard (try JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                return .failure(SimulatorFailure(message: "expected.json is not an object"))
            }
            return .success(Fixture(directory: directory, expectedData: data))
        } catch {
            return .failure(SimulatorFailure(message: "\(error)"))
        }
    }()

    func detection(_ id: String) -> [String: Any] {
        ((expected["detections"] as? [String: Any])?[id] as? [String: Any]) ?? [:]
    }

    func analysis(_ key: String) -> [String: Any] {
        ((expected["analysis"] as? [String: Any])?[key] as? [String: Any]) ?? [:]
    }
}

private struct SimulatorFailure: Error, Sendable { let message: String }

private func fixture() throws -> Fixture { try Fixture.shared.get() }

/// SHA-256 of every file under `directory`, as `sha256sum` prints them (sorted by path).
private func digest(of directory: String) throws -> String {
    let paths = (FileManager.default.subpaths(atPath: directory) ?? []).sorted().filter { path in
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory)
        return exists && !isDirectory.boolValue
    }
    let data = try ScenarioText.runTool("sha256sum", paths.map { directory + "/" + $0 })
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: directory, with: "")
}

@Suite("Simulator") struct SimulatorTests {
    @Test func sameSeedGivesIdenticalBytesWhateverTheThreadCount() throws {
        let base = NSTemporaryDirectory() + "fathom-sim-\(ProcessInfo.processInfo.processIdentifier)-det"
        let start = try #require(ScenarioTime.parseDate("2026-03-02"))
        var digests: [String] = []
        for (run, threads) in [(1, 1), (2, 2)] {
            let request = SimulationRequest(outputDirectory: "\(base)\(run)", seed: 99, scale: 2000, days: 1,
                                            start: start, threads: threads)
            _ = try Simulator.run(request)
            digests.append(try digest(of: "\(base)\(run)"))
            if run > 1 { try? FileManager.default.removeItem(atPath: "\(base)\(run)") }
        }
        #expect(digests[0] == digests[1])
        #expect(digests[0].contains("expected.json"))
        // Another seed gives other bytes.
        let other = SimulationRequest(outputDirectory: "\(base)4", seed: 100, scale: 2000, days: 1, start: start, threads: 2)
        _ = try Simulator.run(other)
        #expect(try digest(of: "\(base)4") != digests[0])
        try? FileManager.default.removeItem(atPath: "\(base)1")
        try? FileManager.default.removeItem(atPath: "\(base)4")
    }

    @Test func bundleHoldsTheSameArchives() throws {
        let directory = NSTemporaryDirectory() + "fathom-sim-\(ProcessInfo.processInfo.processIdentifier)-bundle"
        let start = try #require(ScenarioTime.parseDate("2026-03-02"))
        let folders = SimulationRequest(outputDirectory: directory + "/folders", seed: 5, scale: 1000, days: 1, start: start, threads: 2)
        var bundled = folders
        bundled.outputDirectory = directory + "/bundle"
        bundled.isBundle = true
        let plain = try Simulator.run(folders)
        _ = try Simulator.run(bundled)
        #expect(!FileManager.default.fileExists(atPath: directory + "/bundle/inference"))
        let tar = directory + "/bundle.tar"
        _ = try ScenarioText.runTool("zstd", ["-d", "-q", "-f", directory + "/bundle/bundle.tar.zst", "-o", tar])
        let listing = String(decoding: try ScenarioText.runTool("tar", ["-tf", tar]), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(listing == plain.files.map(\.path))
        let extracted = directory + "/x"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        _ = try ScenarioText.runTool("tar", ["-xf", tar, "-C", extracted])
        let folderDigest = try digest(of: directory + "/folders").split(separator: "\n")
            .filter { !$0.hasSuffix("/expected.json") }.joined(separator: "\n") + "\n"
        #expect(try digest(of: extracted) == folderDigest)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test func archivesAreMultiFrameAndMultiMember() throws {
        let fixture = try fixture()
        let gateway = try ScenarioText.files(in: fixture.directory + "/inference", prefix: "gateway-")
        #expect(gateway.count == 2)
        let listing = String(decoding: try ScenarioText.runTool("zstd", ["-lv", gateway[0]]), as: UTF8.self)
        let frames = listing.split(separator: "\n").first { $0.contains("# Zstandard Frames") }
        let count = frames.flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
        #expect(count >= 4)
        // gzip: the members are separate streams; count the gzip magic at member starts by
        // decompressing members one at a time is overkill: check the header appears more than once.
        let nginx = try ScenarioText.files(in: fixture.directory + "/inference", prefix: "nginx-")
        let raw = try Data(contentsOf: URL(fileURLWithPath: nginx[0]))
        var members = 0
        var index = raw.startIndex
        while index < raw.endIndex - 3 {
            if raw[index] == 0x1F && raw[index + 1] == 0x8B && raw[index + 2] == 0x08 && raw[index + 3] == 0x00 { members += 1 }
            index += 1
        }
        #expect(members >= 4)
    }

    @Test func plantedFactsArePresentInTheArchives() throws {
        let fixture = try fixture()
        let d = fixture.directory
        let gateway = try ScenarioText.files(in: d + "/inference", prefix: "gateway-").map(ScenarioText.decompressed).joined()
        #expect(gateway.contains("\"client_ip\":\"198.51.100.23\""))
        #expect(gateway.contains("2001:db8:4f2a::17"))
        #expect(gateway.contains("\\/v1\\/models\\/fraud-detector\\/predict"))
        #expect(gateway.contains("\\u00e9"))
        let nginx = try ScenarioText.files(in: d + "/inference", prefix: "nginx-").map(ScenarioText.decompressed).joined()
        #expect(nginx.contains("203.0.113.7 - - ["))
        let s3 = try ScenarioText.files(in: d + "/storage", prefix: "s3-").map(ScenarioText.decompressed).joined()
        #expect(s3.contains(" 198.51.100.201 "))
        #expect(s3.contains("models/fraud-detector/v13/model.safetensors"))
        #expect(s3.contains("epoch%3D12-step%3D3000.ckpt"))
        #expect(s3.contains(" 11.0.0.1 ") && s3.contains(" 10.255.255.255 "))
        let azure = try ScenarioText.files(in: d + "/storage", prefix: "azure-").map(ScenarioText.decompressed)
        for document in azure {
            let records = try ScenarioText.json(document)["records"] as? [[String: Any]]
            #expect((records?.count ?? 0) > 0)
        }
        #expect(azure.joined().contains("\"callerIpAddress\":\"203.0.113.150:"))
        let llm = try ScenarioText.files(in: d + "/llm", prefix: "llm-").map(ScenarioText.decompressed).joined()
        #expect(llm.contains("ig\\u200bnore prev\\u200bious"))
        #expect(llm.contains("\\uff49\\uff47\\uff4e\\uff4f\\uff52\\uff45"))
        #expect(llm.contains("1gn0re prev10us"))
        #expect(llm.contains("aWdub3JlIHByZXZpb3Vz"))
        let audit = try ScenarioText.decompressed(d + "/registry/k8s-audit.jsonl.gz")
        #expect(audit.contains("registry.example.com/fraud-detector:v13"))
        let sql = String(decoding: try ScenarioText.runTool("sqlite3", [d + "/registry/mlflow.db",
            "SELECT version, current_stage, user_id FROM model_versions WHERE name = 'fraud-detector' AND version >= 12 ORDER BY version"]), as: UTF8.self)
        #expect(sql == "12|Production|a.kowalski\n13|Archived|d.silva\n")
        var dependents: [String] = []
        for path in try ScenarioText.files(in: d + "/sbom", prefix: "") where path.hasSuffix(".cdx.json") {
            let sbom = try ScenarioText.json(try ScenarioText.decompressed(path))
            let components = sbom["components"] as? [[String: Any]] ?? []
            let purls = components.compactMap { $0["purl"] as? String }
            if purls.contains("pkg:pypi/torchtriton@2.0.0") {
                dependents.append(((sbom["metadata"] as? [String: Any])?["component"] as? [String: Any])?["name"] as? String ?? "")
            }
            #expect(sbom["specVersion"] as? String == "1.5")
        }
        #expect(dependents.sorted() == ["credit-risk", "doc-classifier", "fraud-detector"])
        let flowchart = fixture.analysis("flowchart")
        #expect(flowchart["other_models_on_same_dependency"] as? [String] == ["credit-risk", "doc-classifier", "fraud-detector"])
        let requirements = try ScenarioText.decompressed(d + "/sbom/fraud-detector/requirements.txt")
        #expect(requirements.contains("torchtriton==2.0.0 \\\n    --hash=sha256:"))
    }

    @Test func extractionVolumeMatchesAnIndependentCount() throws {
        let fixture = try fixture()
        var perHour: [String: (count: Int, inputs: Set<String>)] = [:]
        let paths = ["/predict", "/inference", "/completions"]
        for file in try ScenarioText.files(in: fixture.directory + "/inference", prefix: "gateway-") {
            for line in try ScenarioText.lines(file) {
                let row = try ScenarioText.json(line)
                let path = row["path"] as? String ?? ""
                guard paths.contains(where: path.contains) else { continue }
                let key = "\(row["client_ip"] as? String ?? "")|\(ScenarioText.hourOf(rfc3339: row["timestamp"] as? String ?? ""))"
                var entry = perHour[key] ?? (0, [])
                entry.count += 1
                if let body = row["request_body"] as? String { entry.inputs.insert(body) }
                perHour[key] = entry
            }
        }
        for file in try ScenarioText.files(in: fixture.directory + "/inference", prefix: "nginx-") {
            for line in try ScenarioText.lines(file) {
                let fields = ScenarioText.logFields(line)
                let request = fields[4].split(separator: " ")
                guard request.count == 3, paths.contains(where: request[1].contains) else { continue }
                let key = "\(fields[0])|\(ScenarioText.hourOf(commonLog: fields[3]))"
                perHour[key, default: (0, [])].count += 1
            }
        }
        let mine = perHour.filter { $0.value.count > 1000 || $0.value.inputs.count > 500 }
            .map { "\($0.key)|\($0.value.count)|\($0.value.inputs.count)" }.sorted()
        let hits = fixture.detection("extraction.volume")["hits"] as? [[String: Any]] ?? []
        let theirs = hits.map { "\($0["src_ip"] as? String ?? "")|\($0["hour"] as? String ?? "")|\($0["query_count"] as? Int ?? -1)|\($0["distinct_inputs"] as? Int ?? -1)" }.sorted()
        #expect(mine == theirs)
        #expect(!theirs.isEmpty)
        // The slow and distributed attackers never trip the hourly rule; the loud ones do.
        #expect(theirs.contains { $0.hasPrefix("198.51.100.23|") })
        #expect(theirs.contains { $0.hasPrefix("2001:db8:4f2a::17|") })
        #expect(theirs.contains { $0.hasPrefix("203.0.113.7|") && $0.hasSuffix("|0") })
        #expect(!theirs.contains { $0.hasPrefix("203.0.113.77|") || $0.hasPrefix("192.0.2.") })
    }

    @Test func artifactAccessMatchesAnIndependentCount() throws {
        let fixture = try fixture()
        var counts: [String: Int] = [:]
        let keyPattern = try NSRegularExpression(pattern: "model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl)", options: [.caseInsensitive])
        func matches(_ key: String) -> Bool {
            keyPattern.firstMatch(in: key, range: NSRange(key.startIndex..., in: key)) != nil
        }
        func isInternal(_ ip: String) -> Bool {
            let octets = ip.split(separator: ".").compactMap { Int($0) }
            return octets.count == 4 && (octets[0] == 10 || (octets[0] == 192 && octets[1] == 168))
        }
        for file in try ScenarioText.files(in: fixture.directory + "/storage", prefix: "s3-") {
            for line in try ScenarioText.lines(file) {
                let fields = ScenarioText.logFields(line)
                #expect([18, 23, 24, 26].contains(fields.count))
                let key = fields[7].removingPercentEncoding ?? fields[7]
                guard ["REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.DELETE.OBJECT"].contains(fields[6]), key != "-",
                      matches(key), !isInternal(fields[3]) else { continue }
                counts[fields[3], default: 0] += 1
            }
        }
        for file in try ScenarioText.files(in: fixture.directory + "/storage", prefix: "azure-") {
            for record in try ScenarioText.json(try ScenarioText.decompressed(file))["records"] as? [[String: Any]] ?? [] {
                let caller = record["callerIpAddress"] as? String ?? ""
                let ip = String(caller[..<(caller.lastIndex(of: ":") ?? caller.endIndex)])
                let key = (record["properties"] as? [String: Any])?["objectKey"] as? String ?? ""
                guard ["GetBlob", "PutBlob", "DeleteBlob"].contains(record["operationName"] as? String ?? ""),
                      matches(key), !isInternal(ip) else { continue }
                counts[ip, default: 0] += 1
            }
        }
        let expected = fixture.detection("artifact.external-access")
        let byIP = expected["by_src_ip"] as? [[String: Any]] ?? []
        var theirs: [String: Int] = [:]
        for entry in byIP { theirs[entry["src_ip"] as? String ?? ""] = entry["count"] as? Int }
        #expect(counts == theirs)
        #expect(expected["count"] as? Int == counts.values.reduce(0, +))
        #expect(Set(counts.keys) == ["198.51.100.201", "11.0.0.1", "203.0.113.150", "192.169.0.1"])
    }

    @Test func promptInjectionAndExposureMatchAnIndependentCount() throws {
        let fixture = try fixture()
        let phrases = ["ignore previous instructions", "ignore above", "system prompt", "you are now", "disregard",
                       "bypass", "jailbreak", "dan mode", "developer mode", "reveal your instructions"]
        var hits: [String] = []
        var exposed = 0
        let card = try NSRegularExpression(pattern: "\\b(?:\\d[ -]?){12,18}\\d\\b")
        for file in try ScenarioText.files(in: fixture.directory + "/llm", prefix: "llm-") {
            for line in try ScenarioText.lines(file) {
                let row = try ScenarioText.json(line)
                let messages = (row["request"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
                let prompt = messages.last { $0["role"] as? String == "user" }?["content"] as? String ?? ""
                let lowered = String(prompt.unicodeScalars.map { $0.value < 128 ? Character(String($0).lowercased()) : Character($0) })
                if phrases.contains(where: { lowered.contains($0) }) {
                    hits.append("\(row["timestamp"] as? String ?? "")|\(row["user"] as? String ?? "")")
                }
                let choices = (row["response"] as? [String: Any])?["choices"] as? [[String: Any]] ?? []
                let response = (choices.first?["message"] as? [String: Any])?["content"] as? String ?? ""
                if response.contains("@") || response.contains("AKIA")
                    || card.firstMatch(in: response, range: NSRange(response.startIndex..., in: response)) != nil {
                    exposed += 1
                }
            }
        }
        let expected = fixture.detection("prompt.injection-phrase")
        let theirs = (expected["hits"] as? [[String: Any]] ?? []).map { "\($0["time"] as? String ?? "")|\($0["principal"] as? String ?? "")" }
        #expect(hits.sorted() == theirs.sorted())
        #expect(expected["count"] as? Int == hits.count)
        let benign = ((fixture.expected["ground_truth"] as? [String: Any])?["prompt_injection"] as? [String: Any])?["benign_phrase_hits"] as? [[String: Any]] ?? []
        #expect(!benign.isEmpty)
        #expect(expected["benign_count"] as? Int == benign.count)
        let exposure = fixture.analysis("data_exposure")
        #expect(exposure["records"] as? Int == exposed)
        #expect(exposed >= 5)
        #expect(fixture.analysis("flowchart")["sensitive_data_in_output"] as? Bool == true)
    }

    @Test func pipelineBurstMatchesAnIndependentCount() throws {
        let fixture = try fixture()
        var groups: [String: Int] = [:]
        for line in try ScenarioText.lines(fixture.directory + "/pipeline/mlops-pipeline-events.jsonl.zst") {
            let row = try ScenarioText.json(line)
            let action = row["action"] as? String ?? ""
            guard ["retrain", "deploy", "modify_data", "update_config"].contains(action) else { continue }
            let day = String((row["timestamp"] as? String ?? "").prefix(10))
            groups["\(row["pipeline"] as? String ?? "")|\(action)|\(row["user"] as? String ?? "")|\(day)", default: 0] += 1
        }
        var byPair: [String: [Int]] = [:]
        for (key, count) in groups {
            let parts = key.split(separator: "|")
            byPair["\(parts[0])|\(parts[1])", default: []].append(count)
        }
        var mine: [String] = []
        for (key, count) in groups {
            let parts = key.split(separator: "|")
            let values = (byPair["\(parts[0])|\(parts[1])"] ?? []).map(Double.init)
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.count > 1 ? values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1) : 0
            if Double(count) > mean + 2 * variance.squareRoot() {
                mine.append("\(parts[2])|\(parts[1])|\(parts[0])|\(parts[3])|\(count)")
            }
        }
        let hits = fixture.detection("pipeline.burst")["hits"] as? [[String: Any]] ?? []
        let theirs = hits.map { "\($0["user"] as? String ?? "")|\($0["action"] as? String ?? "")|\($0["pipeline"] as? String ?? "")|\($0["day"] as? String ?? "")|\($0["count"] as? Int ?? -1)" }
        #expect(mine.sorted() == theirs.sorted())
        #expect(theirs.contains { $0.hasPrefix("d.silva|modify_data|fraud-detector-training|") })
    }

    @Test func registryChangesAndAffectedDecisionsMatchAnIndependentCount() throws {
        let fixture = try fixture()
        var deploys: [(time: String, namespace: String, name: String, tag: String)] = []
        for line in try ScenarioText.lines(fixture.directory + "/registry/k8s-audit.jsonl.gz") {
            let event = try ScenarioText.json(line)
            let ref = event["objectRef"] as? [String: Any] ?? [:]
            let code = (event["responseStatus"] as? [String: Any])?["code"] as? Int ?? 0
            guard ["create", "patch", "update"].contains(event["verb"] as? String ?? ""), ref["resource"] as? String == "deployments",
                  ref["subresource"] == nil, (200..<300).contains(code) else { continue }
            let spec = (event["requestObject"] as? [String: Any])?["spec"] as? [String: Any]
            let containers = ((spec?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]
            guard let image = containers?.first?["image"] as? String else { continue }
            deploys.append((event["stageTimestamp"] as? String ?? "", ref["namespace"] as? String ?? "",
                            ref["name"] as? String ?? "", String(image.split(separator: ":").last ?? "")))
        }
        let db = fixture.directory + "/registry/mlflow.db"
        let counts = String(decoding: try ScenarioText.runTool("sqlite3", [db,
            "SELECT (SELECT count(*) FROM registered_models) + (SELECT count(*) FROM model_versions WHERE status = 'READY') + (SELECT count(*) FROM model_versions WHERE status = 'READY' AND current_stage != 'None' AND last_updated_time > creation_time)"]),
            as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let registry = fixture.detection("registry.change")
        #expect(registry["count"] as? Int == deploys.count + (Int(counts) ?? -1))
        let prod = deploys.filter { $0.namespace == "ml-prod" && $0.name == "fraud-detector" }
        #expect(prod.map(\.tag) == ["v13", "v12"])
        // Decisions of v13 inside deploy → rollback, counted from the decision logs.
        let start = prod[0].time
        let end = prod[1].time
        let affected = fixture.analysis("affected_decisions")
        #expect(String(start.prefix(19)) == ScenarioText.secondsKey(affected["window_start"] as? String ?? ""))
        let windowStart = try #require(affected["window_start"] as? String)
        let windowEnd = try #require(affected["window_end"] as? String)
        #expect(windowEnd >= windowStart)
        #expect(String(end.prefix(19)) == ScenarioText.secondsKey(windowEnd))
        // Decision times have milliseconds, the window ends whole or fractional seconds: compare
        // as nanosecond-padded strings.
        func padded(_ time: String) -> String {
            let body = time.dropLast()  // "Z"
            let parts = body.split(separator: ".", maxSplits: 1)
            let fraction = parts.count > 1 ? String(parts[1]) : ""
            return String(parts[0]) + "." + fraction + String(repeating: "0", count: 9 - fraction.count)
        }
        var byDecision: [String: Int] = [:]
        for file in try ScenarioText.files(in: fixture.directory + "/predictions", prefix: "fraud-detector-") {
            for line in try ScenarioText.lines(file) {
                let row = try ScenarioText.json(line)
                let time = padded(row["timestamp"] as? String ?? "")
                guard row["model_version"] as? String == "v13", time >= padded(windowStart), time <= padded(windowEnd) else { continue }
                byDecision[row["decision"] as? String ?? "", default: 0] += 1
            }
        }
        #expect(affected["count"] as? Int == byDecision.values.reduce(0, +))
        #expect(affected["by_decision"] as? [String: Int] == byDecision)
        #expect((affected["count"] as? Int ?? 0) > 0)
    }

    @Test func groundTruthAndFlowchartTellTheStory() throws {
        let fixture = try fixture()
        let flowchart = fixture.analysis("flowchart")
        #expect(flowchart["model_in_production"] as? Bool == true)
        #expect(flowchart["extraction_ongoing"] as? Bool == true)
        #expect(flowchart["extraction_ongoing_playbook_hit_in_last_hour"] as? Bool == true)
        let identities = fixture.analysis("extraction")["identities"] as? [[String: Any]] ?? []
        #expect(Set(identities.compactMap { $0["style"] as? String }) == ["loud", "wide", "slow-and-low", "distributed", "loud-nginx"])
        let distributed = identities.first { $0["style"] as? String == "distributed" }
        #expect((distributed?["src_ips"] as? [String])?.count == 4)
        #expect((distributed?["peak_hourly_rate"] as? Int ?? 0) > 1000)
        let slow = identities.first { $0["style"] as? String == "slow-and-low" }
        #expect((slow?["peak_hourly_rate"] as? Int ?? 9999) < 500)
        #expect(slow?["active_in_last_hour"] as? Bool == true)
        let attempts = ((fixture.expected["ground_truth"] as? [String: Any])?["prompt_injection"] as? [String: Any])?["attempts"] as? [[String: Any]] ?? []
        let evasions = attempts.filter { $0["technique"] as? String != "plain" }
        #expect(evasions.count == 4)
        #expect(evasions.allSatisfy { $0["matches_playbook_rule"] as? Bool == false })
    }

    @Test(arguments: [
        ("2026-03-02", 1_772_409_600), ("1970-01-01", 0), ("2024-02-29", 1_709_164_800),
    ])
    func parsesStartDates(text: String, seconds: Int) {
        #expect(ScenarioTime.parseDate(text) == Int64(seconds) * 1_000_000_000)
    }

    @Test(arguments: ["2026-02-30", "2026-3-02", "yesterday", ""])
    func rejectsInvalidDates(text: String) {
        #expect(ScenarioTime.parseDate(text) == nil)
    }

    @Test func rejectsInvalidRequests() {
        let request = SimulationRequest(outputDirectory: "/tmp/x", scale: 10, days: 0, start: 5)
        #expect(request.problems.count == 3)
        #expect(throws: SimulationError.self) { try Simulator.run(request) }
    }
}
