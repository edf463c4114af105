import Foundation
import Testing
@testable import FathomCore
import FathomStore
import FathomSupport
import FathomIntegrity

/// `fathom verify` on the baselines teams already keep: each format, made by the real tool where
/// there is one (`sha256sum`, `shasum`), must report exactly what a Fathom manifest reports.
@Suite struct BaselineTests {
    let old = Date(timeIntervalSince1970: 1_767_225_600)

    func makeDataset() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("train/a.csv", "id,label\n1,0\n", modified: old)
        try directory.write("train/b.csv", "id,label\n2,1\n", modified: old)
        try directory.write("val/c.csv", "id,label\n3,0\n", modified: old)
        try directory.write("odd\\name.csv", "backslash\n", modified: old)
        return directory
    }

    /// Runs `tool` in `directory` and returns its standard output.
    func run(_ tool: String, _ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The baselines of one dataset in every format, as (file name, text).
    func baselines(_ directory: TemporaryDirectory) throws -> [(String, String)] {
        let manifest = try ManifestBuilder.create(root: directory.path).manifest
        let files = manifest.files.map(\.path)
        var result: [(String, String)] = []
        result.append(("sha256sum.txt", try run("sha256sum", files.map { "./" + $0 }, in: directory.path)))
        result.append(("sha256sum-binary.txt", try run("sha256sum", ["-b"] + files, in: directory.path)))
        result.append(("sha256sum-tag.txt", try run("sha256sum", ["--tag"] + files, in: directory.path)))
        if (try? run("shasum", ["-a", "256", files[0]], in: directory.path))?.isEmpty == false {
            result.append(("shasum.txt", try run("shasum", ["-a", "256"] + files, in: directory.path)))
        }
        let pairs = Dictionary(uniqueKeysWithValues: manifest.files.map { ($0.path, $0.sha256) })
        let json = try JSONSerialization.data(withJSONObject: pairs, options: [.sortedKeys])
        result.append(("seed_baseline.json", String(decoding: json, as: UTF8.self)))
        let components: [[String: Any]] = manifest.files.map {
            ["type": "file", "name": $0.path, "hashes": [["alg": "SHA-256", "content": $0.sha256]]]
        }
        let bom: [String: Any] = ["bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                                  "components": [["type": "data", "name": "dataset", "components": components]]]
        result.append(("bom.json", String(decoding: try JSONSerialization.data(withJSONObject: bom), as: UTF8.self)))
        let spdxFiles: [[String: Any]] = manifest.files.map {
            ["fileName": "./" + $0.path, "SPDXID": "SPDXRef-\($0.sha256.prefix(8))",
             "checksums": [["algorithm": "SHA1", "checksumValue": String(repeating: "0", count: 40)],
                           ["algorithm": "SHA256", "checksumValue": $0.sha256]]]
        }
        let spdx: [String: Any] = ["spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "dataset",
                                   "files": spdxFiles]
        result.append(("spdx.json", String(decoding: try JSONSerialization.data(withJSONObject: spdx), as: UTF8.self)))
        var tagValue = "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nDocumentName: dataset\n"
        for file in manifest.files {
            tagValue += "\nFileName: ./\(file.path)\nSPDXID: SPDXRef-F\(file.sha256.prefix(6))\nFileChecksum: SHA256: \(file.sha256)\n"
        }
        result.append(("dataset.spdx", tagValue))
        return result
    }

    @Test func everyFormatReportsWhatTheManifestReports() throws {
        let directory = try makeDataset()
        let native = try ManifestBuilder.create(root: directory.path).manifest
        let formats = try baselines(directory)
        #expect(formats.count >= 7)
        for (name, text) in formats {
            try directory.write("baselines/" + name, text)
        }
        // The poisoning: one file changed, one removed, one added.
        try directory.write("train/a.csv", "id,label\n1,1\n", modified: Date(timeIntervalSince1970: 1_767_400_000))
        try directory.remove("val/c.csv")
        try directory.write("train/injected.csv", "id,label\n9,1\n", modified: Date(timeIntervalSince1970: 1_767_500_000))
        let expected = try ManifestVerifier.verify(manifest: native, manifestPath: "m.json", root: directory.path,
                                                   excluding: formats.map { directory.path("baselines/" + $0.0) })
        let expectedKinds = expected.findings.map { "\($0.subject) \($0.kind)" }
        #expect(expectedKinds == ["train/a.csv trainingDataChanged", "train/injected.csv trainingDataNew",
                                  "val/c.csv trainingDataMissing"])
        for (name, _) in formats {
            let path = directory.path("baselines/" + name)
            let loaded = try Baseline.load(path: path)
            #expect(loaded.manifest.files.map(\.path) == native.files.map(\.path), "\(name)")
            #expect(loaded.manifest.files.map(\.sha256) == native.files.map(\.sha256), "\(name)")
            let report = try ManifestVerifier.verify(manifest: loaded.manifest, manifestPath: path, root: directory.path,
                                                     excluding: formats.map { directory.path("baselines/" + $0.0) })
            #expect(report.findings.map { "\($0.subject) \($0.kind)" } == expectedKinds, "\(name)")
            #expect(report.matched == expected.matched && report.outcome == expected.outcome, "\(name)")
            let changed = report.findings.first { $0.kind == .trainingDataChanged }
            #expect(changed?.attributes["oldSha256"] == native.files.first { $0.path == "train/a.csv" }?.sha256, "\(name)")
            #expect(changed?.detail.contains("recorded the hash only") == true, "\(name)")
        }
        #expect(try Baseline.load(path: directory.path("baselines/sha256sum.txt")).format == .sha256sum)
        #expect(try Baseline.load(path: directory.path("baselines/bom.json")).format == .cycloneDX)
    }

    @Test func theBaselinesFolderIsTheRootAndAbsolutePathsTheirCommonFolder() throws {
        let directory = try makeDataset()
        let files = try ManifestBuilder.create(root: directory.path).manifest.files.map(\.path)
        // sha256sum run in the data folder, its output kept there.
        try directory.write("SHA256SUMS", try run("sha256sum", files, in: directory.path))
        let relative = try Baseline.load(path: directory.path("SHA256SUMS")).manifest
        #expect(relative.header.root == directory.path)
        let clean = try ManifestVerifier.verify(manifest: relative, manifestPath: directory.path("SHA256SUMS"),
                                                root: relative.header.root, excluding: [directory.path("SHA256SUMS")])
        #expect(clean.outcome == .clean && clean.matched == files.count)
        // sha256sum of absolute paths, kept elsewhere.
        let elsewhere = try TemporaryDirectory()
        try elsewhere.write("sums", try run("sha256sum", files.map { directory.path($0) }, in: "/"))
        let absolute = try Baseline.load(path: elsewhere.path("sums")).manifest
        #expect(absolute.header.root == directory.path)
        #expect(absolute.files.map(\.path) == relative.files.map(\.path))
    }

    @Test(arguments: [
        ("notes.txt", "these are not hashes\n", "not a hash baseline"),
        ("config.json", #"{"header": 1}"#, "JSON, but not"),
        ("half.txt", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\nnot a line\n", "line 2"),
        ("bad.json", #"{"a": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "b": "xyz"}"#, "64 hex digits"),
        ("escape.json", #"{"../etc/passwd": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#, "leaves the root"),
        ("empty.bom.json", #"{"bomFormat": "CycloneDX", "components": []}"#, "no component"),
    ])
    func anythingElseIsOneSentence(name: String, text: String, reason: String) throws {
        let directory = try TemporaryDirectory()
        try directory.write(name, text)
        do {
            _ = try Baseline.load(path: directory.path(name))
            Issue.record("\(name) was read as a baseline")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
            #expect(!error.description.contains("DecodingError") && !error.description.contains("\n"))
        }
    }
}
