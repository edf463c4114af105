@testable import FathomCore
import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Small stores for detection tests: JSON Lines with canonical field names, ingested as one kind.
final class DetectStore: @unchecked Sendable {
    let directory: TemporaryDirectory
    var store: String { directory.path("store") }
    private var files = 0

    init() throws { directory = try TemporaryDirectory("fathom-detect") }

    /// Writes `records` (JSON objects) as one JSON Lines file and ingests it as `kind`.
    func add(_ kind: SourceKind, _ records: [[String: Any]]) throws {
        var text = ""
        for record in records {
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        try addRaw(kind, text)
    }

    /// Ingests raw JSON Lines text (for escapes written by hand).
    func addRaw(_ kind: SourceKind, _ text: String) throws {
        files += 1
        let path = try directory.write("in/\(kind.rawValue)-\(files).jsonl", text)
        _ = try IngestEngine.run(IngestRequest(paths: [path], storeDirectory: store, kind: kind, jobs: 1))
    }

    func hunt(_ rules: [String], settings: RuleSettings = RuleSettings(), sigma: [SigmaRule] = [],
              from: Int64? = nil, to: Int64? = nil) throws -> [Hit] {
        try Hunt.run(HuntRequest(storeDirectory: store, from: from, to: to, settings: settings, ruleIDs: rules,
                                 includeBuiltIn: !rules.isEmpty || sigma.isEmpty, sigmaRules: sigma, jobs: 2)).hits.map { $0 }
    }
}

/// RFC 3339 text of a time given as an offset in nanoseconds from 2026-03-02T10:00:00Z.
func at(_ seconds: Int64, nanos: Int64 = 0) -> String {
    TimeParser.format((TimeParser.parse("2026-03-02T10:00:00Z") ?? 0) + seconds * 1_000_000_000 + nanos)
}

func inferenceRows(_ count: Int, ip: String = "198.51.100.23", key: String = "k1", path: String = "/v1/models/m/predict",
                   start: Int64 = 0, distinct: Bool = true, salt: String = "") -> [[String: Any]] {
    (0..<count).map { index in
        ["timestamp": at(start + Int64(index) % 3000), "client_ip": ip, "api_key": key, "method": "POST", "path": path,
         "status": 200, "request_body": distinct ? "{\"x\":\(index)\(salt)}" : "{\"x\":1}", "model": "m"]
    }
}
