@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomDetect
import FathomAnalysis
import FathomReports

/// The response runbook of SampleData read as an on-call responder would: nothing done is ordered
/// again, the rollback target is proven clean (or there is none), every misused or leaked
/// credential is contained by its type, and every command is one the real tools accept.
@Suite(.serialized) struct ResponseRunbookTests {
    func load() throws -> (AnalysisResult, String) {
        let (outcome, _, reports) = try SampleDataTests.outcome.get()
        let result = outcome.result
        let text = try String(contentsOf: reports.appendingPathComponent(result.caseInfo.id + "/response.md"), encoding: .utf8)
        return (result, text)
    }

    /// The shell lines of the runbook's fenced `sh` blocks, continuation lines joined.
    static func shellLines(_ markdown: String) -> [String] {
        var lines: [String] = []
        var inBlock = false
        var pending = ""
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") { inBlock = line == "```sh"; continue }
            guard inBlock else { continue }
            if line.hasSuffix("\\") { pending += line.dropLast() + " "; continue }
            lines.append(pending + line)
            pending = ""
        }
        return lines
    }

    @Test func aRollbackTheEvidenceShowsDoneIsNotOrderedAgain() throws {
        let (result, text) = try load()
        let response = try #require(result.response)
        let done = try #require(response.rollbacks.last { $0.succeeded })
        #expect(done.toVersion == "v12" && done.principal == "oncall-sre@acme.example")
        #expect(response.rollbacks.contains { !$0.succeeded }, "the failed first attempt is recorded")
        #expect(text.contains("- [x] Roll back to the last known-good version immediately — **done** at 2026-03-04T09:36:00Z"))
        #expect(!text.contains("kubectl rollout undo"))
        let (_, _, reports) = try SampleDataTests.outcome.get()
        let brief = try String(contentsOf: reports.appendingPathComponent(result.caseInfo.id + "/brief.md"), encoding: .utf8)
        #expect(!brief.contains("Roll back to the last known-good version immediately"))
        // An account, not a person; cloud credentials used from outside are a broader compromise.
        #expect(brief.contains("the account d.silva ran 50 modify_data"))
        #expect(brief.contains("- **Broader compromise:** aws iam user svc-model-sync used from outside"))
    }

    /// The brief as a CISO reads it (issue #23): every affected system, each window once, defended
    /// numbers, at most seven decisions.
    @Test func theBriefNamesEverySystemAndDefendsItsNumbers() throws {
        let (result, _) = try load()
        let (_, _, reports) = try SampleDataTests.outcome.get()
        let brief = try String(contentsOf: reports.appendingPathComponent(result.caseInfo.id + "/brief.md"), encoding: .utf8)
        // The chatbot that leaked data is an affected system; a model without a profile is one placeholder.
        #expect(brief.contains("- **Affected system:** gpt-4o — customer support chatbot"))
        #expect(brief.contains("- **Affected system:** credit-risk — [TO BE COMPLETED: business function, daily volume and data type of credit-risk] (INC-6)."))
        #expect(!brief.contains("From not determinable to unknown") && brief.contains("Dates: not determinable from the evidence."))
        // INC-1's window is in its summary: not said a second time.
        let inc1 = try #require(brief.split(separator: "\n").first { $0.hasPrefix("  - INC-1 ") })
        #expect(inc1.components(separatedBy: "2026-03-03T06:14:45Z").count == 2)
        // The re-review list's in_window column is explained where the decision is asked for.
        #expect(brief.contains("rows with in_window = false were served by it after the rollback"))
        // Leaks by occurrence and distinct value, not by response.
        #expect(brief.contains("card number 4 (3 distinct)"))
        #expect(brief.contains("activity in the last hour of the data") && !brief.contains("still ongoing"))
        // Dwell time from the tampering the analysis relies on, not from the burst rule's noise.
        let dwell = try #require(result.keyIntervals?.first { $0.measure == "Dwell time" })
        #expect(dwell.from.time?.rfc3339 == "2026-03-02T01:03:08.947Z")
        #expect(dwell.seconds.map { $0 < 3 * 86_400 } == true)
    }

    @Test func theLastKnownGoodVersionIsNotCleanAndNoVersionIsProvenClean() throws {
        let (result, text) = try load()
        let response = try #require(result.response)
        let v12 = try #require(response.candidates.first { $0.version == "v12" })
        #expect(v12.verdict == "compromised")
        #expect(v12.reasons.first == "built with pkg:pypi/torchtriton@2.0.0: fraud-detector@12 → torch@2.0.0.dev20221230 → torchtriton@2.0.0 (fraud-detector.cdx.json)")
        #expect(response.rollbackTarget == nil)
        #expect(response.candidates.filter { $0.verdict == "clean" }.isEmpty)
        #expect(text.contains("**No version in the registry history is proven clean:**"))
        #expect(result.contradictions.contains { $0.field == "last known good" && $0.logs.contains("torchtriton@2.0.0") })
    }

    @Test func everyMisusedOrLeakedCredentialIsContainedByItsType() throws {
        let (result, text) = try load()
        let credentials = try #require(result.response?.credentials)
        func kinds(_ kind: String) -> [String] { credentials.filter { $0.kind == kind }.map(\.identifier) }
        #expect(kinds("aws-iam-user") == ["svc-model-sync"])
        #expect(kinds("azure-sas") == ["key1"])
        #expect(kinds("aws-access-key-id").count == 2 && kinds("aws-access-key-id").allSatisfy { $0.hasPrefix("AKIA****") })
        #expect(kinds("gateway-api-key").count == 4)
        #expect(kinds("k8s-service-account") == ["deployer"])
        let lines = Self.shellLines(text)
        #expect(lines.contains("aws iam update-access-key --user-name 'svc-model-sync' --access-key-id \"$ACCESS_KEY_ID\" --status Inactive"))
        #expect(lines.contains("az storage account keys renew --resource-group \"$RESOURCE_GROUP\" --account-name \"$STORAGE_ACCOUNT\" --key primary"))
        #expect(lines.filter { $0.hasPrefix("KEY_USER=$(aws iam get-access-key-last-used") }.count == 2)
        // A Kubernetes service account is not an IAM user, and a refused user is not revoked.
        #expect(!lines.contains { $0.contains("iam") && $0.contains("system:serviceaccount") })
        #expect(lines.contains("kubectl auth can-i --list --as='system:serviceaccount:ml-cicd:deployer'"))
        #expect(!lines.contains { $0.contains("u_90017") })
        // API keys by id, looked up without the key's value; no secret is whole in the runbook.
        #expect(!lines.contains { $0.contains("update-api-key --api-key 'ak_") })
        #expect(text.range(of: #"ak_(live|trial|int)\\?_[A-Za-z0-9]{6}"#, options: .regularExpression) == nil, "every API key is masked")
        #expect(result.extraction?.attackers.flatMap(\.principals).allSatisfy { $0.contains("****") } == true)
    }

    @Test func blockListsAreWholeAndOneAddressVersionPerSet() throws {
        let (result, text) = try load()
        let lines = Self.shellLines(text)
        let updates = lines.filter { $0.hasPrefix("aws wafv2 update-ip-set") }
        #expect(updates.count == 2)
        #expect(updates[0].contains("$IPV4_SET_ID") && !updates[0].contains("::"))
        #expect(updates[1].contains("$IPV6_SET_ID") && updates[1].contains("'2001:db8:4f2a::17/128'"))
        #expect(lines.filter { $0.hasPrefix("LOCK_TOKEN=$(aws wafv2 get-ip-set") }.count == 2, "the lock token is set before it is used")
        // Every external attacker address of the findings: extraction, artifact access, injection.
        for address in ["198.51.100.201", "203.0.113.150", "192.169.0.1", "11.0.0.1", "198.51.100.77", "203.0.113.7", "192.0.2.13"] {
            #expect(updates.joined().contains("'" + address + "/32'"), "\(address) is blocked")
        }
        #expect(!updates.joined().contains("10.20.30.40"), "the internal batch job is not blocked")
        #expect(result.response?.blockAddresses.count == 14)
    }

    @Test func mlflowVersionsAreIntegers() throws {
        let (_, text) = try load()
        let bodies = Self.shellLines(text).filter { $0.hasPrefix("curl") && $0.contains("transition-stage") }
        #expect(bodies.count == 2)
        #expect(bodies.allSatisfy { $0.contains("\"version\": \"13\"") || $0.contains("\"version\": \"12\"") })
        #expect(!text.contains("\"version\": \"v1"))
    }

    @Test func theSupplyChainNamesItsWayInAndDoesNotAdviseWhatIsDone() throws {
        let (result, text) = try load()
        let response = try #require(result.response)
        #expect(response.installSources == ["--extra-index-url https://download.pytorch.org/whl/nightly/cpu"])
        #expect(response.hashPinned == true)
        #expect(text.contains("already pinned by hash"))
        #expect(response.dependencyPaths.map(\.model).sorted() == ["credit-risk", "doc-classifier", "fraud-detector", "fraud-detector"])
        #expect(Self.shellLines(text).contains("pip show 'torchtriton'"))
    }

    @Test func requirementsSourcesAndPinning() {
        let read = RequirementsSources.read("""
            # comment
            -i https://pypi.example/simple
            --extra-index-url=https://nightly.example/whl
            torch==2.0.0 \\
                --hash=sha256:aa
            numpy==1.26.4
            """)
        #expect(read.sources == ["-i https://pypi.example/simple", "--extra-index-url https://nightly.example/whl"])
        #expect(!read.hashPinned)
        #expect(RequirementsSources.read("a==1 --hash=sha256:x\nb==2 \\\n  --hash=sha256:y\n").hashPinned)
    }

    @Test func credentialShapesFromTheLogs() {
        #expect(ResponseStateAnalysis.awsUser("arn:aws:iam::482910374455:user/svc-model-sync")! == ("482910374455", "svc-model-sync"))
        #expect(ResponseStateAnalysis.awsAssumedRole("arn:aws:sts::1:assumed-role/Deployer/ci-42")! == ("1", "Deployer", "ci-42"))
        #expect(ResponseStateAnalysis.azureKey("key1(6C6F2A3B),SasSignature(870E408CA78D)")! == ("key1", "6C6F2A3B", true))
        #expect(ResponseStateAnalysis.azureKey("key2(0A0B)")! == ("key2", "0A0B", false))
        #expect(ResponseStateAnalysis.azureKey("keyring(1)") == nil)
        #expect(ResponseStateAnalysis.serviceAccount("system:serviceaccount:ml-cicd:deployer")! == ("ml-cicd", "deployer"))
        #expect(ResponseStateAnalysis.awsAccessKeyIDs(in: "keys AKIAIOSFODNN7EXAMPLE, xAKIAIOSFODNN7EXAMPLE and ASIAIOSFODNN7EXAMPLZ.")
                == ["AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLZ"])
    }
}
