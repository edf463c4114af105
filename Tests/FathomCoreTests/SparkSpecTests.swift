@testable import FathomCore
import Foundation
import Testing
import FathomSupport
import FathomIngest
import FathomDetect

/// The data `fathom spark-job` exports for the PySpark job is the Swift definitions' own: the
/// thresholds are RuleSettings', the field names the formats', and the storage action table maps
/// operations exactly as the native ingest does.
@Suite struct SparkSpecTests {
    private func exported(_ settings: RuleSettings = RuleSettings()) throws -> [String: Any] {
        let data = try SparkSpec(settings: settings).json()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func thresholdsEqualRuleSettingsDefaults() throws {
        let defaults = RuleSettings()
        let settings = try #require(try exported()["settings"] as? [String: Any])
        #expect(settings["max_queries"] as? Int64 == defaults.maxQueries)
        #expect(settings["max_distinct_inputs"] as? Int64 == defaults.maxDistinctInputs)
        #expect(settings["extraction_bucket_seconds"] as? Int64 == defaults.extractionBucketSeconds)
        #expect(settings["endpoint_patterns"] as? [String] == defaults.endpointPatterns)
        #expect(settings["artifact_pattern"] as? String == defaults.artifactPattern)
        #expect(settings["artifact_operations"] as? [String] == defaults.artifactOperations)
        #expect(settings["injection_phrases"] as? [String] == defaults.injectionPhrases)
        #expect(settings["pipeline_actions"] as? [String] == defaults.pipelineActions)
        #expect(settings["pipeline_sigmas"] as? Double == defaults.pipelineSigmas)
        #expect(settings["internal_networks"] as? [String] == defaults.internalNetworks)
    }

    @Test func changedSettingsAndCaseFileNetworksAreExported() throws {
        var settings = RuleSettings()
        settings.maxQueries = 42
        var caseFile = CaseFile()
        caseFile.internalNetworks = ["172.31.0.0/16"]
        let effective = SparkJob.effectiveSettings(.init(outputDirectory: "/unused", settings: settings, caseFile: caseFile))
        let exported = try #require(try exported(effective)["settings"] as? [String: Any])
        #expect(exported["max_queries"] as? Int64 == 42)
        #expect(exported["artifact_internal_networks"] as? [String] == ["172.31.0.0/16"])
    }

    @Test func formatsAndFieldsComeFromTheDescriptors() throws {
        let spec = SparkSpec(settings: RuleSettings())
        #expect(spec.formats.map(\.name) == FormatRegistry.builtIn.formats.map(\.name))
        #expect(spec.s3AccessLogFields == S3AccessLogFormat.fields.names)
        #expect(spec.accessLogFields == CombinedAccessLogFormat.fields.names)
        #expect(spec.genericCandidates.map { $0[0] } == CanonicalFields.candidates.map(\.column))
        #expect(spec.kindEvidence.map(\.kind) == CanonicalFields.kindEvidence.map(\.kind.rawValue))
        #expect(spec.kinds["inference"]?.map(\.name) == SourceKind.inference.schema.columns.map(\.name))
        #expect(spec.rules.map(\.id) == RuleCatalog.builtIn.map(\.info.id))
        #expect(spec.specVersion == SparkSpec.version)
    }

    /// The table-driven action mapping keeps the native answers (the table replaced if/else code).
    @Test(arguments: [
        ("REST.GET.OBJECT", "read"), ("REST.PUT.OBJECT", "write"), ("REST.DELETE.OBJECT", "delete"),
        ("REST.GET.BUCKET", "list"), ("ListBlobs", "list"), ("GetBlob", "read"), ("PutBlob", "write"),
        ("CopyBlob", "write"), ("DeleteBlob", "delete"), ("storage.objects.get", "read"), ("HeadObject", "read"),
        ("AppendBlock", "write"), ("SetBlobTier", "other"), ("", "other"),
    ])
    func storageActions(operation: String, action: String) {
        #expect(CanonicalFields.storageAction(forOperation: operation) == action)
    }

    @Test func jobFolderHoldsTheJobAndItsData() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spark-job-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let written = try SparkJob.write(.init(outputDirectory: folder))
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["fathom_spark_job.py", "fathom-spec.json"])
        let job = try String(contentsOfFile: folder + "/fathom_spark_job.py", encoding: .utf8)
        #expect(job.contains("SPEC_VERSION = \(SparkSpec.version)"))
        // Deterministic: the same build and settings write the same spec bytes.
        // The spec is the settings' spec plus the hash a native run compares (detection_sha256).
        var expected = SparkSpec(settings: RuleSettings())
        expected.detectionSha256 = try SparkSpec.sha256(settings: RuleSettings())
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/fathom-spec.json")) == (try expected.json()))
    }

    /// The fold table is FoldedText's own: applying it gives the native folding, including the
    /// cases Unicode's full lower-casing gets differently (Kelvin sign, long s, final sigma, dotted I).
    @Test func foldTableIsTheNativeFolding() throws {
        let spec = SparkSpec(settings: RuleSettings())
        let table = Dictionary(uniqueKeysWithValues: spec.foldTable.map { ($0[0], $0[1]) })
        for text in ["ABC", "\u{212A}elvin", "ſecret", "ΣΑΣ ς", "İstanbul ı", "ＤＡＮ ｍｏｄｅ", "Straße", "\u{10400}"] {
            let viaTable = text.unicodeScalars.map { table[$0.value] ?? $0.value }
            #expect(viaTable == FoldedText.folded(text), "\(text)")
        }
        #expect(table[0x41] == 0x61)
        #expect(table[0x130] == nil)
    }

    @Test func artifactLiteralsAndRegistryTablesAreExported() throws {
        var settings = RuleSettings()
        let spec = SparkSpec(settings: settings)
        #expect(spec.artifactLiterals == TextPattern.expand(settings.artifactPattern))
        #expect(spec.artifactLiterals?.contains(".safetensors") == true)
        settings.artifactPattern = "model[0-9]+"
        #expect(SparkSpec(settings: settings).artifactLiterals == nil)
        #expect(spec.registry.successStatuses == RegistryChangeRule.successStatuses)
        #expect(spec.registry.changeNeedles.map { $0[0] } == ["rollback", "deploy", "stage_transition", "registration"])
        // The tables drive the native classifier: each exported needle classifies as its change.
        for entry in spec.registry.changeNeedles {
            for needle in entry.dropFirst() { #expect(RegistryChangeRule.change("model_" + needle.uppercased()) == entry[0]) }
        }
        #expect(RegistryChangeRule.change("scale_deploy") == nil)
    }
}
