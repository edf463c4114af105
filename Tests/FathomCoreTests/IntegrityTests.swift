import Foundation
import Testing
@testable import FathomCore
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

// MARK: - Training data manifests

@Suite struct ManifestTests {
    let old = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    func makeDataset() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("train/a.csv", "id,label\n1,0\n", modified: old)
        try directory.write("train/b.csv", "id,label\n2,1\n", modified: old)
        try directory.write("val/c.csv", "id,label\n3,0\n", modified: old)
        try directory.write("README", "dataset v1\n", modified: old)
        return directory
    }

    @Test func manifestIsDeterministicAndSorted() throws {
        let directory = try makeDataset()
        let first = try ManifestBuilder.create(root: directory.path).manifest.jsonText()
        let second = try ManifestBuilder.create(root: directory.path, hasher: ParallelHasher(workers: 1)).manifest.jsonText()
        #expect(first == second)
        #expect(!first.contains("createdAt"))
        let manifest = try ManifestBuilder.create(root: directory.path).manifest
        #expect(manifest.files.map(\.path) == ["README", "train/a.csv", "train/b.csv", "val/c.csv"])
        #expect(manifest.files[1].modified == "2026-01-01T00:00:00Z")
        let pinned = try ManifestBuilder.create(root: directory.path, createdAt: 1_767_225_600_000_000_000).manifest
        #expect(pinned.header.createdAt == "2026-01-01T00:00:00Z")
    }

    @Test func knownDigest() throws {
        let directory = try TemporaryDirectory()
        try directory.write("abc", "abc")
        let manifest = try ManifestBuilder.create(root: directory.path).manifest
        #expect(manifest.files.first?.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Chunked hashing across chunk boundaries gives the same digest as one pass.
        try directory.write("big", Data(repeating: 0x61, count: 3 * 4096 + 17))
        let whole = ParallelHasher.hashFile(at: directory.path + "/big", chunkSize: 1 << 20)
        let chunked = ParallelHasher.hashFile(at: directory.path + "/big", chunkSize: 4096)
        #expect(try whole.get().sha256 == chunked.get().sha256)
    }

    @Test func verifyReportsChangedMissingAndNew() throws {
        let directory = try makeDataset()
        let manifest = try ManifestBuilder.create(root: directory.path).manifest
        let clean = try ManifestVerifier.verify(manifest: manifest, manifestPath: "m.json", root: directory.path)
        #expect(clean.outcome == .clean)
        #expect(clean.matched == 4)

        let poisonTime = Date(timeIntervalSince1970: 1_767_400_000)
        let newTime = Date(timeIntervalSince1970: 1_767_500_000)
        try directory.write("train/a.csv", "id,label\n1,1\n", modified: poisonTime)
        try directory.remove("val/c.csv")
        try directory.write("train/injected.csv", "id,label\n9,1\n", modified: newTime)

        let report = try ManifestVerifier.verify(manifest: manifest, manifestPath: "m.json", root: directory.path)
        #expect(report.outcome == .findings)
        #expect(report.outcome.exitStatus == 5)
        #expect(report.matched == 2)
        let kinds = Dictionary(uniqueKeysWithValues: report.findings.map { ($0.subject, $0.kind) })
        #expect(kinds == ["train/a.csv": .trainingDataChanged, "val/c.csv": .trainingDataMissing,
                          "train/injected.csv": .trainingDataNew])
        #expect(report.findings.allSatisfy { $0.category == .trainingDataPipelineCompromise })
        let changed = try #require(report.findings.first { $0.kind == .trainingDataChanged })
        #expect(changed.attributes["oldModified"] == "2026-01-01T00:00:00Z")
        #expect(changed.attributes["newModified"] == Timestamp(nanoseconds: 1_767_400_000_000_000_000).rfc3339)
        #expect(changed.attributes["oldSize"] == changed.attributes["newSize"])
        #expect(report.firstModified == 1_767_400_000_000_000_000)
        #expect(report.findings.map(\.subject) == ["train/a.csv", "train/injected.csv", "val/c.csv"])
    }

    /// Tests run as root, where chmod 000 does not stop reads: use a file replaced by a
    /// directory, a dangling symbolic link and a FIFO instead.
    @Test func unreadableFilesAreReportedNotSkipped() throws {
        let directory = try makeDataset()
        let manifest = try ManifestBuilder.create(root: directory.path).manifest
        try directory.remove("train/a.csv")
        try FileManager.default.createDirectory(atPath: directory.path + "/train/a.csv", withIntermediateDirectories: false)
        try directory.remove("train/b.csv")
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/train/b.csv", withDestinationPath: "/nonexistent/target")
        try directory.remove("val/c.csv")
        #expect(mkfifo(directory.path + "/val/c.csv", 0o600) == 0)

        let report = try ManifestVerifier.verify(manifest: manifest, manifestPath: "m.json", root: directory.path)
        let unreadable = report.findings.filter { $0.kind == .unreadable }.map(\.subject).sorted()
        #expect(unreadable == ["train/a.csv", "train/b.csv", "val/c.csv"])
        #expect(report.matched == 1)
        #expect(report.outcome == .incomplete)
        #expect(report.outcome.exitStatus == 2)
    }

    @Test func manifestRejectsPathsLeavingTheRoot() throws {
        let directory = try TemporaryDirectory()
        let text = """
        {"header":{"format":"fathom-manifest","formatVersion":1,"tool":"fathom","toolVersion":"0.1.0",
        "algorithm":"sha256","root":".","fileCount":1,"totalBytes":1},
        "files":[{"path":"../../etc/passwd","size":1,"modificationTime":0,"modified":"x",
        "sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}],"skipped":[]}
        """
        try directory.write("m.json", text)
        #expect(throws: IntegrityError.self) { try Manifest.load(path: directory.path + "/m.json") }
    }
}

// MARK: - Dependency inventories

@Suite struct DependencyTests {
    @Test(arguments: [
        ("Fast_Tokenizer", "fast-tokenizer"), ("fast.tokenizer", "fast-tokenizer"), ("FAST--__tok", "fast-tok"),
        ("zope.interface", "zope-interface"), ("numpy", "numpy"),
    ])
    func pep503(name: String, expected: String) {
        #expect(RequirementsParser.normalize(name) == expected)
    }

    @Test func transitiveLookupAcrossSBOMsAndRequirements() throws {
        let inventory = try fixturesDirectory() + "/inventory"
        let query = try #require(ComponentQuery.parse("fast-tokenizer@0.9.1"))
        let report = try DependencyIndex.search(inventory: inventory, for: query)
        let byModel = Dictionary(grouping: report.matches, by: \.model)
        #expect(Set(byModel.keys) == ["fraud-detector@3", "churn-model@1.2.0", "legacy-api", "sentiment-freeze"])
        let fraud = try #require(byModel["fraud-detector@3"]?.first)
        #expect(fraud.path == ["fraud-detector@3", "scikit-learn@1.4.2", "scipy@1.13.0", "Fast_Tokenizer@0.9.1"])
        #expect(!fraud.isDirect)
        #expect(fraud.evidence.file == "fraud-detector/bom.json")
        let churn = try #require(byModel["churn-model@1.2.0"]?.first)
        #expect(churn.isDirect)
        // recsys uses another version: not a match.
        #expect(byModel["recsys@7"] == nil)
        #expect(report.models.contains("recsys@7"))
        // The included base.txt is part of legacy-api, not a model.
        #expect(!report.models.contains("common"))
        let legacy = try #require(byModel["legacy-api"]?.first)
        #expect(legacy.evidence.file == "legacy-api/requirements.txt")
        #expect(legacy.evidence.line == 5)
        #expect(report.outcome == .findings)
        #expect(report.findings.allSatisfy { $0.kind == .dependencyMatch && $0.category == .supplyChainCompromise })
    }

    @Test func hashAndIncludeQueries() throws {
        let inventory = try fixturesDirectory() + "/inventory"
        let byHash = try DependencyIndex.search(
            inventory: inventory,
            for: try #require(ComponentQuery.parse("fast_tokenizer#5c1e2f6b3c6e1d4f9a0b7c2d8e4f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e2f")))
        #expect(Set(byHash.matches.map(\.model)) == ["fraud-detector@3", "legacy-api"])
        // numpy comes to legacy-api through the -r include.
        let numpy = try DependencyIndex.search(inventory: inventory, for: try #require(ComponentQuery.parse("NumPy@1.26.4")))
        let legacy = try #require(numpy.matches.first { $0.model == "legacy-api" })
        #expect(legacy.evidence.file == "common/base.txt")
        #expect(legacy.path == ["legacy-api", "(common/base.txt)", "numpy@1.26.4"])
        #expect(Set(numpy.matches.map(\.model)) == ["churn-model@1.2.0", "legacy-api", "sentiment-freeze"])
        // Nothing depends on this.
        let none = try DependencyIndex.search(inventory: inventory, for: try #require(ComponentQuery.parse("left-pad")))
        #expect(none.outcome == .clean)
        // purl queries keep their ecosystem.
        let npm = try DependencyIndex.search(inventory: inventory, for: try #require(ComponentQuery.parse("pkg:npm/lodash@4.17.21")))
        #expect(npm.matches.map(\.model) == ["recsys@7"])
    }

    @Test func requirementsWithHashesContinuationsAndMarkers() {
        let text = """
        # comment
        -r base.txt
        --index-url https://pypi.example/simple
        Flask==3.0.3 \\
            --hash=sha256:34E815DFAA43340D1D15A5C3A02B8476004037EB4840B34910C6E21679D288F3
        requests[security]>=2.31 ; python_version >= "3.9"  # trailing comment
        pkg-with-url@ https://example.invalid/p.whl#sha256=abc
        """
        let parsed = RequirementsParser.parse(text: text, path: "r.txt")
        #expect(parsed.includes.map(\.path) == ["base.txt"])
        #expect(parsed.requirements.map(\.name) == ["Flask", "requests", "pkg-with-url"])
        #expect(parsed.requirements[0].version == "3.0.3")
        #expect(parsed.requirements[0].line == 4)
        #expect(parsed.requirements[0].sha256 == ["34e815dfaa43340d1d15a5c3a02b8476004037eb4840b34910c6e21679d288f3"])
        #expect(parsed.requirements[1].version == nil)
        #expect(parsed.requirements[1].specifier == ">=2.31")
        #expect(parsed.requirements[2].specifier == "https://example.invalid/p.whl#sha256=abc")
        #expect(parsed.problems.isEmpty)
    }

    @Test func pipFreeze() throws {
        let path = try fixturesDirectory() + "/inventory/sentiment-freeze.txt"
        let inventory = RequirementsInventory.load(path: path)
        let names = inventory.requirements.map { $0.requirement.normalizedName }
        #expect(names == ["certifi", "fast-tokenizer", "torch", "ml-helpers", "numpy"])
        #expect(inventory.requirements[1].requirement.version == "0.9.1")
        #expect(inventory.requirements[2].requirement.specifier?.hasPrefix("https://") == true)
        #expect(inventory.problems.isEmpty)
    }

    @Test func includeCycleIsAProblemNotAHang() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.txt", "-r b.txt\nsix==1.16.0\n")
        try directory.write("b.txt", "-r a.txt\n")
        let inventory = RequirementsInventory.load(path: directory.path + "/a.txt")
        #expect(inventory.requirements.count == 1)
        #expect(inventory.problems.contains { $0.contains("cycle") })
    }
}

// MARK: - Model artifacts

@Suite struct ArtifactTests {
    @Test func benignPickleHasNoFindings() {
        let result = PickleScanner.scan(PickleBytes.benign)
        #expect(result.error == nil)
        #expect(result.imports.isEmpty)
        #expect(result.protocolVersion == 2)
    }

    @Test func maliciousStackGlobalIsFlaggedWithOffset() throws {
        let result = PickleScanner.scan(PickleBytes.malicious)
        #expect(result.error == nil)
        let item = try #require(result.imports.first)
        #expect(result.imports.count == 1)
        #expect(item.qualifiedName == "posix.system")
        #expect(item.opcode == "STACK_GLOBAL")
        #expect(item.offset == PickleBytes.stackGlobalOffset)
        #expect(item.severity == .critical)
        #expect(item.invokedBy.first?.hasPrefix("REDUCE@") == true)
    }

    @Test func protocol0AndMemoObfuscation() throws {
        let zero = PickleScanner.scan(PickleBytes.protocol0)
        #expect(zero.error == nil)
        #expect(zero.imports.map(\.qualifiedName) == ["os.system"])
        #expect(zero.imports.first?.offset == 0)
        let memo = PickleScanner.scan(PickleBytes.memoObfuscated)
        #expect(memo.error == nil)
        #expect(memo.imports.map(\.qualifiedName) == ["builtins.eval"])
        #expect(memo.imports.first?.severity == .critical)
    }

    @Test(arguments: [1, 5, 12, 20, 29, 30, 39])
    func truncatedPickleIsAnErrorNotACrash(length: Int) {
        #expect(length < PickleBytes.malicious.count)
        let cut = Array(PickleBytes.malicious.prefix(length))
        let result = PickleScanner.scan(cut)
        #expect(result.error != nil)
        // What was read before the cut is still reported.
        if length > PickleBytes.stackGlobalOffset {
            #expect(result.imports.map(\.qualifiedName) == ["posix.system"])
        }
    }

    @Test func garbageNeverTraps() {
        var seeded = SplitMix(seed: 42)
        for _ in 0..<200 {
            let length = Int(seeded.next() % 64)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: seeded.next()) }
            _ = PickleScanner.scan([0x80, 0x04] + bytes)
        }
    }

    @Test func scanArtifactsFindsPicklesInFilesAndZips() throws {
        let directory = try TemporaryDirectory()
        try directory.write("good/model.pkl", Data(PickleBytes.benign))
        try directory.write("bad/exploit.pickle", Data(PickleBytes.protocol0))
        let pt = ZipBytes.archive([
            ("archive/data.pkl", PickleBytes.malicious, false),
            ("archive/data/0", [UInt8](repeating: 0, count: 64), false),
            ("archive/version", Array("3\n".utf8), false),
        ])
        try directory.write("bad/model.pt", Data(pt))
        let deflated = ZipBytes.archive([("checkpoint/data.pkl", PickleBytes.memoObfuscated, true)])
        try directory.write("bad/pytorch_model.bin", Data(deflated))
        try directory.write("broken.pkl", Data(PickleBytes.malicious.prefix(25)))
        try directory.write("notes.txt", "not a model")

        let report = try ArtifactScanner.scan(root: directory.path)
        let imports = report.findings.filter { $0.kind == .unsafePickleImport }
        #expect(Set(imports.map { $0.attributes["import"] ?? "" }) == ["os.system", "posix.system", "builtins.eval"])
        let zipped = try #require(imports.first { $0.subject == "bad/model.pt" })
        #expect(zipped.evidence.member == "archive/data.pkl")
        #expect(zipped.evidence.offset == PickleBytes.stackGlobalOffset)
        #expect(zipped.severity == .critical)
        let inflated = try #require(imports.first { $0.subject == "bad/pytorch_model.bin" })
        #expect(inflated.evidence.member == "checkpoint/data.pkl")
        #expect(report.findings.contains { $0.kind == .unreadable && $0.subject == "broken.pkl" })
        #expect(!report.findings.contains { $0.subject == "good/model.pkl" })
        #expect(report.outcome == .findings)
    }

    @Test func corruptZipIsReported() throws {
        let directory = try TemporaryDirectory()
        var pt = ZipBytes.archive([("archive/data.pkl", PickleBytes.benign, false)])
        pt.removeLast(10)  // cut into the end-of-central-directory record
        try directory.write("model.pt", Data(pt))
        let report = try ArtifactScanner.scan(root: directory.path)
        #expect(report.findings.map(\.kind) == [.unreadable])
        #expect(report.outcome == .incomplete)
    }

    @Test func registryHashMismatch() throws {
        let directory = try TemporaryDirectory()
        try directory.write("models/fraud-detector/3/model.pt", Data(ZipBytes.archive([("a/data.pkl", PickleBytes.benign, false)])))
        try directory.write("models/churn.pkl", Data(PickleBytes.benign))
        let churnHash = try ParallelHasher.hashFile(at: directory.path + "/models/churn.pkl").get().sha256
        let wrong = String(repeating: "ab", count: 32)
        let registry = try TemporaryDirectory()
        try registry.write("hashes.csv", "path,sha256\nmodels/churn.pkl,\(churnHash)\nmodels/missing.pt,\(wrong)\n")
        try registry.write("hashes.json", #"[{"name": "fraud-detector", "version": "3", "sha256": "sha256:\#(wrong)"}]"#)

        let csv = try RegistryHashes.load(path: registry.path + "/hashes.csv")
        let clean = try ArtifactScanner.scan(root: directory.path, registry: csv)
        #expect(!clean.findings.contains { $0.kind == .artifactHashMismatch })
        #expect(clean.registryEntriesNotFound.map(\.label) == ["models/missing.pt"])

        let json = try RegistryHashes.load(path: registry.path + "/hashes.json")
        let report = try ArtifactScanner.scan(root: directory.path, registry: json)
        let mismatch = try #require(report.findings.first { $0.kind == .artifactHashMismatch })
        #expect(mismatch.subject == "models/fraud-detector/3/model.pt")
        #expect(mismatch.attributes["expectedSha256"] == wrong)
        #expect(report.outcome == .findings)
    }
}

// MARK: - Output

@Suite struct IntegrityOutputTests {
    @Test func terminalEscaping() {
        #expect(TerminalText.escape("plain name.csv") == "plain name.csv")
        #expect(TerminalText.escape("a\u{1B}[31mred") == "a\\u{1B}[31mred")
        #expect(TerminalText.escape("evil\u{202E}gpj.exe") == "evil\\u{202E}gpj.exe")
        #expect(TerminalText.escape("zero\u{200B}width") == "zero\\u{200B}width")
        #expect(TerminalText.escape("line\nbreak") == "line\\u{A}break")
    }

    @Test func findingsJSONIsSortedAndEscaped() throws {
        let a = IntegrityFinding(kind: .trainingDataNew, category: .trainingDataPipelineCompromise, severity: .high,
                                 subject: "b\u{202E}.csv", detail: "x", evidence: FindingEvidence(file: "b.csv"),
                                 time: 1_767_225_600_000_000_000)
        let b = IntegrityFinding(kind: .trainingDataMissing, category: .trainingDataPipelineCompromise, severity: .high,
                                 subject: "a.csv", detail: "y", evidence: FindingEvidence(file: "a.csv"))
        let text = try IntegrityJSON.encode([a, b].sorted())
        let first = try #require(text.range(of: "\"a.csv\""))
        let second = try #require(text.range(of: "\"b.csv\""))
        #expect(first.lowerBound < second.lowerBound)
        #expect(text.contains("\\u202e"))
        #expect(!text.contains("\u{202E}"))
        #expect(text.contains("\"timeUTC\" : \"2026-01-01T00:00:00Z\""))
        let decoded = try JSONDecoder().decode([IntegrityFinding].self, from: Data(text.utf8))
        #expect(decoded == [b, a])
    }
}

/// The seeded SplitMix64 generator of EscapingTests.swift, by the name these tests use.
typealias SplitMix = SeededGenerator
