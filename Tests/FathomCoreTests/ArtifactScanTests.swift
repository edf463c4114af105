import Foundation
import Testing
@testable import FathomCore
import FathomStore
import FathomSupport
import FathomIntegrity

// MARK: - The labelled corpus (Fixtures/artifacts, written by Benchmarks/artifacts/make_corpus.py)

/// One entry of `Fixtures/artifacts/labels.json`.
struct CorpusEntry: Decodable, Sendable, CustomTestStringConvertible {
    var path: String
    var label: String
    var technique: String
    var loader: String
    var expect: String?
    var verified: Bool

    var testDescription: String { path }
}

enum ArtifactCorpus {
    static func directory() throws -> String {
        let base = try #require(Bundle.module.resourceURL)
        return base.appendingPathComponent("Fixtures/artifacts").path
    }

    static let entries: [CorpusEntry] = {
        struct Labels: Decodable { var files: [CorpusEntry] }
        guard let base = Bundle.module.resourceURL,
              let data = FileManager.default.contents(atPath: base.appendingPathComponent("Fixtures/artifacts/labels.json").path),
              let labels = try? JSONDecoder().decode(Labels.self, from: data) else { return [] }
        return labels.files
    }()

    static func entries(_ label: String) -> [CorpusEntry] { entries.filter { $0.label == label } }

    /// Whether a finding fails the default gate (`--fail-on high`).
    static func failsGate(_ finding: IntegrityFinding) -> Bool {
        finding.kind != .unreadable && finding.severity >= .high
    }
}

@Suite struct ArtifactCorpusTests {
    @Test func corpusIsThereAndEveryMaliciousFileWasProvenToExecute() {
        #expect(ArtifactCorpus.entries("malicious").count >= 60)
        #expect(ArtifactCorpus.entries("benign").count >= 30)
        #expect(ArtifactCorpus.entries("malformed").count >= 5)
        let unverified = ArtifactCorpus.entries.filter { $0.label != "malformed" && !$0.verified }
        #expect(unverified.isEmpty)
    }

    @Test(arguments: ArtifactCorpus.entries("malicious"))
    func maliciousFileIsFound(_ entry: CorpusEntry) throws {
        let (_, findings) = ArtifactScanner.scanFile(root: try ArtifactCorpus.directory(), relativePath: entry.path)
        let failing = findings.filter(ArtifactCorpus.failsGate)
        #expect(!failing.isEmpty, "\(entry.technique): \(findings.map(\.detail))")
        if let expected = entry.expect {
            #expect(failing.contains { $0.attributes["import"] == expected }, "expected \(expected) among \(failing.map { $0.attributes["import"] ?? "" })")
        }
    }

    @Test(arguments: ArtifactCorpus.entries("benign"))
    func benignFileIsNotFlagged(_ entry: CorpusEntry) throws {
        let (artifact, findings) = ArtifactScanner.scanFile(root: try ArtifactCorpus.directory(), relativePath: entry.path)
        #expect(!findings.contains(where: ArtifactCorpus.failsGate), "\(entry.technique): \(findings.map(\.detail))")
        #expect(!findings.contains { $0.kind == .unreadable }, "\(findings.map(\.detail))")
        if entry.loader != "none" { #expect(artifact.format != "not-a-model-artifact") }
    }

    @Test(arguments: ArtifactCorpus.entries("malformed"))
    func malformedFileIsReportedUnreadable(_ entry: CorpusEntry) throws {
        let (_, findings) = ArtifactScanner.scanFile(root: try ArtifactCorpus.directory(), relativePath: entry.path)
        #expect(findings.contains { $0.kind == .unreadable }, "\(entry.technique)")
        #expect(!findings.contains(where: ArtifactCorpus.failsGate))
    }

    /// The issue's bar, on the whole corpus in one scan: ≥ 95 % of malicious files found, no
    /// benign file flagged at the default gate, and the scan's outcome per label.
    @Test func recallAndFalsePositivesOverTheCorpus() throws {
        let report = try ArtifactScanner.scan(root: try ArtifactCorpus.directory())
        let failing = Set(report.findings.filter(ArtifactCorpus.failsGate).map(\.subject))
        let malicious = ArtifactCorpus.entries("malicious")
        let found = malicious.filter { failing.contains($0.path) }.count
        #expect(Double(found) / Double(malicious.count) >= 0.95)
        #expect(found == malicious.count)
        #expect(ArtifactCorpus.entries("benign").filter { failing.contains($0.path) }.isEmpty)
        #expect(report.outcome == .findings)
        #expect(report.failOn == .high)
    }
}

// MARK: - Reading pickles like CPython

/// The bytes of `text` whose characters are all below U+0100 (opcodes written as `\u{93}`).
func latin1(_ text: String) -> [UInt8] { text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }

@Suite struct PickleParsingTests {
    @Test(arguments: [
        ("10", 10), ("1_0", 10), (" 1\r", 1), ("+01", 1), ("-0", 0), ("007", 7), ("\t42 ", 42),
        ("1__0", nil), ("_1", nil), ("1_", nil), ("", nil), ("0x10", nil), ("1.0", nil), ("--1", nil),
    ] as [(String, Int?)])
    func memoKeysParseLikePythonInt(text: String, expected: Int?) {
        let parsed = PickleWalker.pythonInteger(Array(text.utf8))
        #expect(parsed?.value == expected)
        #expect((parsed == nil) == (expected == nil))
    }

    @Test func hugeMemoKeysStillMatch() {
        let key = "123456789012345678901234567890"
        let bytes = Array("cos\nsystem\np\(key)\n0g\(key)\n(S'true'\ntR.".utf8)
        let result = PickleScanner.scan(bytes)
        #expect(result.error == nil)
        #expect(result.imports.map(\.qualifiedName) == ["os.system"])
        #expect(result.imports.first?.invokedBy.isEmpty == false)
    }

    @Test func negativeAndMissingMemoKeysAreErrors() {
        #expect(PickleScanner.scan(Array("Np-1\n.".utf8)).error?.detail.contains("negative") == true)
        #expect(PickleScanner.scan(Array("g5\n.".utf8)).error?.detail.contains("not found") == true)
    }

    @Test(arguments: [
        ("\\u006fs", "os"), ("\\U0000006fs", "os"), ("\\\\u006f", "\\\\u006f"), ("\\\\\\u006f", "\\\\o"),
        ("caf\u{E9}", "caf\u{C3}\u{A9}"), ("\\u00", "\\u00"), ("a\\b", "a\\b"),
    ])
    func rawUnicodeEscape(text: String, expected: String) {
        #expect(PickleWalker.rawUnicodeEscapeDecode(Array(text.utf8)) == expected)
    }

    @Test(arguments: [
        ("\\x6fs", "os"), ("\\157s", "os"), ("a\\nb", "a\nb"), ("\\'q\\'", "'q'"), ("\\q", "\\q"), ("\\x6", "\\x6"),
        ("sys\\164em", "system"),
    ])
    func escapeDecode(text: String, expected: String) {
        #expect(PickleWalker.latin1(PickleWalker.escapeDecode(Array(text.utf8))) == expected)
    }

    @Test func escapedProtocol0NamesAreDecodedBeforeMatching() throws {
        let bytes = latin1("V\\u006fs\nV\\u0073ystem\n\u{93}(S'true'\ntR.")
        let result = PickleScanner.scan(bytes)
        #expect(result.error == nil)
        let item = try #require(result.imports.first)
        #expect(item.qualifiedName == "os.system")
        #expect(item.severity == .critical)
    }

    @Test func python2NamesAreMappedBelowProtocol3() throws {
        let range = PickleScanner.scan(Array("\u{80}\u{02}c__builtin__\nxrange\nK\u{03}\u{85}R.".unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
        #expect(range.error == nil)
        #expect(range.imports.isEmpty)
        let eval = PickleScanner.scan(Array("c__builtin__\neval\n(V1\ntR.".utf8))
        let item = try #require(eval.imports.first)
        #expect(item.importedAs == "builtins.eval")
        #expect(item.severity == .critical)
        // At protocol 3 and above CPython does not map: the name stands as written.
        let proto4 = PickleScanner.scan(Array("\u{80}\u{04}c__builtin__\neval\n(V1\ntR.".unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
        #expect(proto4.imports.first?.importedAs == nil)
        #expect(proto4.imports.first?.severity == .critical)
    }

    @Test func everyProtocolAfterStopIsWalked() throws {
        let first = Array("\u{80}\u{02}K\u{01}.".unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        let second = Array("cos\nsystem\n(S'true'\ntR.".utf8)
        let result = PickleScanner.scan(first + second)
        #expect(result.pickleCount == 2)
        #expect(result.imports.map(\.qualifiedName) == ["os.system"])
        #expect(result.imports.first?.pickleIndex == 1)
        #expect(result.imports.first?.offset == first.count)
    }

    @Test func dataAfterTheLastPickleIsNotAnError() {
        // Legacy torch.save: pickles, then raw storage bytes.
        let pickle = Array("\u{80}\u{02}]q\u{00}.".unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        let storage: [UInt8] = [0x10, 0, 0, 0, 0, 0, 0, 0] + (0..<64).map { UInt8($0 * 7 & 0xFF) }
        let result = PickleScanner.scan(pickle + storage)
        #expect(result.error == nil)
        #expect(result.pickleCount == 1)
        #expect(result.trailingDataOffset == pickle.count)
        #expect(result.imports.isEmpty)
    }

    @Test func obfuscatedAndExtensionImportsAreHigh() {
        // STACK_GLOBAL of a string built by a call: not a literal.
        let obfuscated = PickleScanner.scan(Array("\u{80}\u{04}cbuiltins\nstr\n(Vos\ntRVsystem\n\u{93}.".unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }))
        #expect(obfuscated.imports.contains { $0.rule == "unresolved" && $0.severity == .high })
        let ext = PickleScanner.scan([0x80, 0x02, 0x82, 0x07, 0x29, 0x52, 0x2E])
        #expect(ext.imports.map(\.opcode) == ["EXT1"])
        #expect(ext.imports.first?.severity == .high)
    }

    @Test func memoKeepsValuesInOrderOutOfOrderAndPastItsCap() {
        var memo = PickleMemo()
        memo.set(2, .string("two"))                 // out of order: kept aside
        memo.set(0, .string("zero"))
        memo.set(1, .int(1))                        // continues the array, which then takes key 2
        #expect(memo.count == 3)
        #expect(memo.value(2) == .string("two"))
        #expect(memo.value(1) == .int(1))
        #expect(memo.value(3) == nil)
        for key in 3..<(PickleMemo.mostTracked + 10) { memo.set(key, .string("s")) }
        #expect(memo.count == PickleMemo.mostTracked + 10)
        #expect(memo.value(PickleMemo.mostTracked - 1) == .string("s"))
        // Past the cap a key is defined but its value is no longer tracked.
        #expect(memo.value(PickleMemo.mostTracked + 5) == .other)
        #expect(memo.value(PickleMemo.mostTracked + 10) == nil)
        memo.set(0, .string("again"))
        #expect(memo.value(0) == .string("again"))
        #expect(memo.count == PickleMemo.mostTracked + 10)
    }

    @Test func stackBombIsRefusedNotGrown() {
        let bytes = [0x80, 0x02] + [UInt8](repeating: 0x28, count: PickleWalker.deepestStack + 10) + [0x2E]
        let result = PickleScanner.scan(bytes)
        #expect(result.error?.detail.contains("refused") == true)
    }

    @Test func joblibArrayRunningPastTheEndIsAnError() {
        // NumpyArrayWrapper state claiming 1,000 float64s with only a few bytes after it.
        var body: [UInt8] = []
        func su(_ text: String) -> [UInt8] { [0x8C, UInt8(text.utf8.count)] + Array(text.utf8) }
        body += su("joblib.numpy_pickle") + su("NumpyArrayWrapper") + [0x93, 0x29, 0x81]        // STACK_GLOBAL () NEWOBJ
        body += [0x7D, 0x28] + su("shape") + [0x4D, 0xE8, 0x03, 0x85]                              // {( 'shape': (1000,)
        body += su("dtype") + su("numpy") + su("dtype") + [0x93] + su("f8") + [0x89, 0x88, 0x87, 0x52] // numpy.dtype('f8', False, True)
        body += [0x75, 0x62] + [UInt8](repeating: 0, count: 16)                                    // SETITEMS BUILD, 16 bytes
        let result = PickleScanner.scan([0x80, 0x04] + body)
        #expect(result.inlineArrays == 1)
        #expect(result.error?.detail.contains("8000 bytes") == true)
    }

    /// A multi-gigabyte pickle (one BINBYTES8 payload), generated as it is read: the walker skips
    /// the payload without holding it, and finds the call after it.
    @Test func hugePayloadIsSkippedNotHeld() throws {
        let size = 3 << 30
        var header: [UInt8] = [0x80, 0x04, 0x8E]
        for index in 0..<8 { header.append(UInt8(truncatingIfNeeded: size >> (8 * index))) }
        let tail = Array("0cos\nsystem\n(S'true'\ntR.".utf8)
        let stream = GeneratedStream(header: header, fill: size, tail: tail)
        let result = PickleScanner.scan(PickleInput(stream), policy: PickleScanner.defaultPolicy, isStrict: true)
        #expect(result.error == nil)
        #expect(result.imports.map(\.qualifiedName) == ["os.system"])
        #expect(result.imports.first?.offset == header.count + size + 1)
    }
}

/// A stream of `header`, `fill` zero bytes and `tail`, produced in 1 MiB chunks from one buffer.
final class GeneratedStream: ByteStream {
    private var pieces: [[UInt8]]
    private var fill: Int
    private let zeros = [UInt8](repeating: 0, count: 1 << 20)
    private var current: [UInt8] = []
    private(set) var consumedInputBytes = 0

    init(header: [UInt8], fill: Int, tail: [UInt8]) {
        pieces = [header]
        self.fill = fill
        self.tailPiece = tail
    }

    private let tailPiece: [UInt8]
    private var stage = 0

    func next() throws(StoreError) -> StreamEvent? {
        switch stage {
        case 0:
            current = pieces[0]
            stage = 1
        case 1 where fill > 0:
            let count = min(fill, zeros.count)
            fill -= count
            consumedInputBytes += count
            return .bytes(zeros.withUnsafeBytes { ByteView(unsafeStart: $0.baseAddress, count: count) })
        case 1:
            current = tailPiece
            stage = 2
        default:
            return nil
        }
        consumedInputBytes += current.count
        return .bytes(current.withUnsafeBytes { ByteView(unsafeStart: $0.baseAddress, count: $0.count) })
    }
}

// MARK: - Policy

@Suite struct PicklePolicyTests {
    let policy = PickleScanner.defaultPolicy

    @Test(arguments: [
        ("os", "system", PicklePolicy.Verdict.critical), ("posix", "system", .critical), ("subprocess", "Popen", .critical),
        ("builtins", "eval", .critical), ("__builtin__", "getattr", .critical), ("cProfile", "run", .critical),
        ("uuid", "_get_command_stdout", .critical), ("pydoc", "pipepager", .critical), ("torch", "load", .critical),
        ("numpy.testing._private.utils", "runstring", .critical), ("sklearn.utils._testing", "assert_run_python_script_without_output", .critical),
        ("pathlib", "os.system", .critical), ("torch", "serialization.load", .critical), ("collections", "os.system", .critical),
        ("io", "FileIO", .high), ("functools", "partial", .medium), ("collections", "__class__.__init__", .high),
        ("builtins", "range", .safe), ("__builtin__", "xrange", .safe), ("collections", "OrderedDict", .safe),
        ("torch._utils", "_rebuild_tensor_v2", .safe), ("torch", "FloatStorage", .safe), ("torch", "bfloat16", .safe),
        ("torch.nn.modules.linear", "Linear", .safe), ("numpy.core.multiarray", "_reconstruct", .safe),
        ("numpy._core.multiarray", "_reconstruct", .safe), ("sklearn.linear_model._logistic", "LogisticRegression", .safe),
        ("sklearn.linear_model.logistic", "LogisticRegression", .safe), ("sklearn.tree._tree", "Tree", .safe),
        ("sklearn.feature_selection._univariate_selection", "f_classif", .safe), ("sklearn.utils", "parallel_backend", .low),
        ("xgboost.core", "Booster", .safe), ("lightgbm.sklearn", "LGBMClassifier", .safe), ("pathlib", "PosixPath", .safe),
        ("pathlib", "Path.write_text", .medium), ("collections", "OrderedDict.fromkeys", .low), ("mylib.models", "Net", .low),
        ("joblib.numpy_pickle", "NumpyArrayWrapper", .safe), ("scipy.sparse._csr", "csr_matrix", .safe),
        ("types", "SimpleNamespace", .safe), ("types", "FunctionType", .critical), ("types", "CodeType", .critical),
    ])
    func builtInVerdicts(module: String, name: String, expected: PicklePolicy.Verdict) {
        #expect(policy.judge(module: module, name: name).verdict == expected)
    }

    @Test(arguments: [
        ("[A-Z]*", "LogisticRegression", true), ("[A-Z]*", "f_classif", false), ("[A-Z]*", "Foo.bar", false),
        ("_rebuild_*", "_rebuild_tensor_v2", true), ("*Storage", "FloatStorage", true), ("*", "a.b", false),
        ("?s", "os", true), ("?s", ".s", false), ("*Error", "ValueError", true), ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false),
    ])
    func patternsMatchWithinOneDottedPart(pattern: String, name: String, expected: Bool) {
        #expect(PicklePolicy.matches(Array(pattern.utf8), Array(name.utf8)) == expected)
    }

    @Test func userRulesExtendAndWinTies() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("policy.json", """
            {"format": "fathom-pickle-policy", "version": 1, "rules": [
              {"modules": ["mylib.models"], "names": ["Net"], "verdict": "safe", "reason": "our own model class"},
              {"modules": ["torch._utils"], "names": ["_rebuild_tensor_v2"], "verdict": "high", "reason": "distrust"},
              {"modules": ["mylib"], "names": ["*"], "verdict": "critical", "reason": "compromised", "submodules": true}
            ]}
            """)
        let extended = try PicklePolicy.load(extending: path)
        #expect(extended.sources == ["built-in", path])
        #expect(extended.judge(module: "mylib.models", name: "Net").verdict == .safe)
        #expect(extended.judge(module: "mylib.models", name: "Other").verdict == .critical)
        #expect(extended.judge(module: "torch._utils", name: "_rebuild_tensor_v2").verdict == .high)
        #expect(extended.judge(module: "os", name: "system").verdict == .critical)
    }

    @Test func invalidPolicyIsAnErrorNamingTheFile() throws {
        let directory = try TemporaryDirectory()
        let wrongFormat = try directory.write("a.json", #"{"format": "other", "version": 1, "rules": []}"#)
        #expect(throws: IntegrityError.self) { try PicklePolicy.load(extending: wrongFormat) }
        let emptyRule = try directory.write("b.json", #"{"format": "fathom-pickle-policy", "version": 1, "rules": [{"modules": [], "names": ["x"], "verdict": "safe", "reason": ""}]}"#)
        do {
            _ = try PicklePolicy.load(extending: emptyRule)
            Issue.record("accepted a rule without modules")
        } catch {
            #expect(error.description.contains("rule 1"))
        }
        let badVerdict = try directory.write("c.json", #"{"format": "fathom-pickle-policy", "version": 1, "rules": [{"modules": ["a"], "names": ["x"], "verdict": "fine", "reason": ""}]}"#)
        #expect(throws: IntegrityError.self) { try PicklePolicy.load(extending: badVerdict) }
    }

    /// The compiled-in policy is the JSON file in the sources (`.ci/embed-json.py` writes it).
    @Test func builtInMatchesTheJSONFile() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/FathomIntegrity/Policy/pickle-policy.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text == PicklePolicy.builtInJSON, "run python3 .ci/embed-json.py")
        #expect(try PicklePolicy.builtIn().sources == ["built-in"])
    }
}

// MARK: - Containers

@Suite struct ArtifactContainerTests {
    @Test func textFilesAreNotPicklesAndNotMalformed() throws {
        let directory = try TemporaryDirectory()
        try directory.write("notes.txt", "config\nfoo\nbar\n")
        try directory.write("Sfile", "S'unterminated")
        // Walks to a STOP, but through a GLOBAL no Python could import: binary data, not a pickle.
        try directory.write("tensor.bin", Data([0x63, 0x01, 0xFF, 0x0A, 0x20, 0x0A, 0x2E, 0x00, 0x7F]))
        let report = try ArtifactScanner.scan(root: directory.path)
        #expect(report.findings.isEmpty)
        #expect(report.artifacts.map(\.format) == ["not-a-model-artifact", "not-a-model-artifact", "not-a-model-artifact"])
        #expect(report.outcome == .clean)
    }

    @Test func unknownImportsAreListedButPassTheDefaultGate() throws {
        let directory = try TemporaryDirectory()
        try directory.write("model.pkl", Data("cmylib.models\nNet\n)R.".utf8))
        let report = try ArtifactScanner.scan(root: directory.path)
        #expect(report.findings.map(\.severity) == [.low])
        #expect(report.outcome == .clean)
        let strict = try ArtifactScanner.scan(root: directory.path, options: ArtifactScanOptions(failOn: .low))
        #expect(strict.outcome == .findings)
        #expect(strict.outcome.exitStatus == 5)
    }

    @Test func storedMemberOffsetsPointIntoTheFile() throws {
        let directory = try TemporaryDirectory()
        let archive = ZipBytes.archive([("config", Array("cos\nsystem\n(S'true'\ntR.".utf8), false)])
        try directory.write("bundle.zip", Data(archive))
        let report = try ArtifactScanner.scan(root: directory.path)
        let finding = try #require(report.findings.first)
        #expect(finding.evidence.member == "config")
        #expect(finding.evidence.offset == 0)
        let fileOffset = try #require(finding.attributes["fileOffset"].flatMap { Int($0) })
        #expect(archive[fileOffset] == UInt8(ascii: "c"))
        #expect(Array(archive[fileOffset..<(fileOffset + 3)]) == Array("cos".utf8))
    }

    @Test func zipNestingDeeperThanTheLimitIsReported() throws {
        let directory = try TemporaryDirectory()
        var archive = ZipBytes.archive([("data.pkl", PickleBytes.malicious, false)])
        for level in 0..<4 { archive = ZipBytes.archive([("level\(level).zip", archive, false)]) }
        try directory.write("deep.zip", Data(archive))
        let shallow = try ArtifactScanner.scan(root: directory.path, options: ArtifactScanOptions(maxDepth: 3))
        #expect(shallow.findings.map(\.kind) == [.unreadable])
        #expect(shallow.findings.first?.detail.contains("nested more than 3") == true)
        let deep = try ArtifactScanner.scan(root: directory.path)
        #expect(deep.findings.first?.evidence.member == "level3.zip!level2.zip!level1.zip!level0.zip!data.pkl")
        #expect(deep.findings.first?.severity == .critical)
    }

    @Test func crcMismatchIsReportedAndTheMemberStillScanned() throws {
        let directory = try TemporaryDirectory()
        var archive = ZipBytes.archive([("archive/data.pkl", PickleBytes.malicious, true)])
        // Flip one CRC byte in the central directory.
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let found = (0..<(archive.count - 4)).last { (index: Int) -> Bool in Array(archive[index..<(index + 4)]) == signature }
        let central = try #require(found)
        archive[central + 16] ^= 0xFF
        try directory.write("model.pt", Data(archive))
        let report = try ArtifactScanner.scan(root: directory.path)
        #expect(report.findings.contains { $0.kind == .unsafePickleImport && $0.severity == .critical })
        #expect(report.findings.contains { $0.kind == .unreadable && $0.detail.contains("CRC-32") })
    }

    @Test func sarifIsValidVersion210WithOneResultPerFinding() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a b/model.pkl", Data(PickleBytes.protocol0))
        try directory.write("ok.pkl", Data(PickleBytes.benign))
        let report = try ArtifactScanner.scan(root: directory.path)
        let text = try ArtifactSARIF.encode(report)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        #expect(log["$schema"] as? String == ArtifactSARIF.schema)
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == report.findings.count)
        let first = try #require(results.first)
        #expect(first["level"] as? String == "error")
        #expect(first["ruleId"] as? String == "unsafe-pickle-import")
        let location = try #require((first["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((location["artifactLocation"] as? [String: Any])?["uri"] as? String == "a%20b/model.pkl")
        #expect((location["region"] as? [String: Any])?["byteOffset"] as? Int == 0)
        #expect(try ArtifactSARIF.encode(report) == text)
    }
}
