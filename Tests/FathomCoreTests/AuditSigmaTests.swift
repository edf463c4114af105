@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect

/// Sigma rules written with a log's own field names, read from the record each audit row keeps:
/// dotted paths, lists, `''` apart from null, `fieldref`, logsources that select their own log.
@Suite struct AuditSigmaTests {
    /// CloudTrail-shaped records written for these tests (not real events): who, what, and the
    /// fields the matching semantics turn on.
    static let cloudTrail = """
        {"eventVersion":"1.09","eventTime":"2026-03-02T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"},"sourceIPAddress":"198.51.100.7","requestParameters":{"userName":"bob"},"responseElements":{"accessKey":{"userName":"bob","status":"Active"}}}
        {"eventVersion":"1.09","eventTime":"2026-03-02T10:01:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"},"sourceIPAddress":"198.51.100.7","requestParameters":{"userName":"alice"},"responseElements":{"accessKey":{"userName":"alice","status":"Active"}}}
        {"eventVersion":"1.09","eventTime":"2026-03-02T10:02:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"},"sourceIPAddress":"198.51.100.7","requestParameters":{"name":"management-trail"},"responseElements":null,"errorMessage":""}
        {"eventVersion":"1.09","eventTime":"2026-03-02T10:03:00Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ops/carol"},"sourceIPAddress":"10.0.0.5","requestParameters":{"bucketName":"ml-artifacts"},"resources":[{"ARN":"arn:aws:s3:::ml-artifacts"},{"ARN":"arn:aws:s3:::ml-logs"}],"errorCode":"AccessDenied","errorMessage":"Access Denied"}

        """

    static let kubernetes = """
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"t-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ml/pods/trainer-0/exec?command=sh","verb":"create","user":{"username":"mallory@example.com"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"pods","namespace":"ml","name":"trainer-0","apiVersion":"v1","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-03-02T11:00:00.000000Z","stageTimestamp":"2026-03-02T11:00:00.100000Z"}
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"t-2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ml/secrets/registry-token","verb":"get","user":{"username":"mallory@example.com"},"sourceIPs":["203.0.113.9"],"objectRef":{"resource":"secrets","namespace":"ml","name":"registry-token","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-03-02T11:01:00.000000Z","stageTimestamp":"2026-03-02T11:01:00.010000Z"}
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"t-3","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ml/secrets/registry-token","verb":"get","user":{"username":"system:serviceaccount:ml:puller"},"sourceIPs":["10.0.0.9"],"objectRef":{"resource":"secrets","namespace":"ml","name":"registry-token","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-03-02T11:02:00.000000Z","stageTimestamp":"2026-03-02T11:02:00.010000Z"}

        """

    static func store() throws -> DetectStore {
        let store = try DetectStore()
        try store.addRaw(.audit, cloudTrail)
        try store.addRaw(.audit, kubernetes)
        return store
    }

    static func rule(_ detection: String, product: String = "aws", service: String = "cloudtrail") -> String {
        """
        title: test
        id: t
        logsource:
          product: \(product)
          service: \(service)
        detection:
        \(detection.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
        """
    }

    /// (detection, expected CloudTrail line numbers).
    static let cloudTrailCases: [(String, [Int64])] = [
        // eventName is read from the action column: every record has it, and Sigma compares ignoring case.
        ("sel:\n  eventName: stoplogging\ncondition: sel", [3]),
        ("sel:\n  eventSource: iam.amazonaws.com\n  requestParameters.userName: bob\ncondition: sel", [1]),
        // A key spelled in another case is still found.
        ("sel:\n  userIdentity.ARN|endswith: /alice\ncondition: sel", [1, 2, 3]),
        // A list: any of its items.
        ("sel:\n  resources.ARN: 'arn:aws:s3:::ml-logs'\ncondition: sel", [4]),
        // null: absent or null; '' only an empty string.
        ("sel:\n  errorCode: null\ncondition: sel", [1, 2, 3]),
        ("sel:\n  errorMessage: ''\ncondition: sel", [3]),
        ("sel:\n  responseElements: null\ncondition: sel", [3, 4]),
        ("sel:\n  errorCode|exists: true\ncondition: sel", [4]),
        // fieldref: two fields of the same record.
        ("sel:\n  eventName: CreateAccessKey\nfilter:\n  userIdentity.userName|fieldref: requestParameters.userName\ncondition: sel and not filter", [1]),
        // An object matched as its JSON text.
        ("sel:\n  userIdentity|contains: AssumedRole\ncondition: sel", [4]),
        // Keywords search the whole record.
        ("keywords:\n  - 'management-trail'\ncondition: keywords", [3]),
        // A field no record has matches only null.
        ("sel:\n  noSuchField|exists: true\ncondition: sel", []),
    ]

    @Test(arguments: cloudTrailCases)
    func cloudTrailFieldsAsWritten(detection: String, lines: [Int64]) throws {
        let store = try Self.store()
        let loaded = SigmaLoader.load(sources: [("t.yml", Self.rule(detection))])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let hits = try store.hunt([], sigma: loaded.rules)
        // Only the CloudTrail file's rows: the Kubernetes events are never read by an aws/cloudtrail rule.
        #expect(hits.allSatisfy { $0.evidence.archive?.contains("audit-1") == true })
        #expect(hits.compactMap(\.evidence.line).sorted() == lines, "\(detection)")
    }

    @Test func kubernetesRulesReadTheAuditAPIsNames() throws {
        let store = try Self.store()
        let exec = Self.rule("sel:\n  verb: create\n  objectRef.resource: pods\n  objectRef.subresource: exec\ncondition: sel",
                             product: "kubernetes", service: "audit")
        let secrets = Self.rule("sel:\n  verb: get\n  objectRef.resource: secrets\nfilter:\n  user.username|startswith: 'system:'\ncondition: sel and not filter",
                                product: "kubernetes", service: "audit").replacingOccurrences(of: "id: t", with: "id: t2")
        let loaded = SigmaLoader.load(sources: [("exec.yml", exec), ("secrets.yml", secrets)])
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let hits = try store.hunt([], sigma: loaded.rules)
        #expect(hits.filter { $0.rule == "t" }.compactMap(\.evidence.line) == [1])
        #expect(hits.filter { $0.rule == "t2" }.compactMap(\.evidence.line) == [2])
        #expect(hits.allSatisfy { $0.evidence.archive?.contains("audit-2") == true })
    }

    @Test func controlPlaneActionsAreFoundAndFailuresAreNot() throws {
        let store = try Self.store()
        let hits = try store.hunt([RuleID.controlPlane])
        let found = hits.map { hit -> String in
            guard case let .string(category)? = hit.metrics["category"] else { return "?" }
            return "\(hit.evidence.archive?.contains("audit-1") == true ? "ct" : "k8s"):\(hit.evidence.line ?? 0):\(category)"
        }.sorted()
        // CreateAccessKey ×2, StopLogging; the denied PutBucketPolicy is not an action of this
        // rule anyway; exec and the human's secret read, not the service account's.
        #expect(found == ["ct:1:credential-created", "ct:2:credential-created", "ct:3:logging-disabled",
                          "k8s:1:remote-execution", "k8s:2:secret-read"])
    }

    @Test func broaderCompromiseLinesCiteTheEvidence() throws {
        let store = try Self.store()
        let hits = try store.hunt([RuleID.controlPlane])
        let lines = try #require(BroaderCompromise.lines(hits: hits, examinedSources: ["cloudtrail", "k8s-audit"]))
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("logging stopped or deleted: StopLogging by arn:aws:iam::111122223333:user/alice, first from 198.51.100.7 on management-trail at 2026-03-02T10:02:00Z"))
        #expect(lines[0].contains("line 3"))
        #expect(lines[1].hasPrefix("credentials created: CreateAccessKey ×2 by arn:aws:iam::111122223333:user/alice"))
        #expect(BroaderCompromise.lines(hits: [], examinedSources: ["cloudtrail"]) == [])
        #expect(BroaderCompromise.lines(hits: [], examinedSources: ["llm-gateway"]) == nil, "no control-plane log: a person must say")
    }

    @Test func webRequestTargetParts() throws {
        let store = try DetectStore()
        try store.add(.inference, [
            ["timestamp": at(0), "client_ip": "198.51.100.1", "method": "GET", "path": "/uploads/shell.php?cmd=id", "status": 200],
            ["timestamp": at(1), "client_ip": "198.51.100.1", "method": "GET", "path": "/v1/models/m.onnx", "status": 200],
            ["timestamp": at(2), "client_ip": "198.51.100.1", "method": "GET", "path": "/health", "status": 200],
        ])
        func lines(_ detection: String) throws -> [Int64] {
            let rule = Self.rule(detection).replacingOccurrences(of: "product: aws\n  service: cloudtrail", with: "category: webserver")
            let loaded = SigmaLoader.load(sources: [("w.yml", rule)])
            #expect(loaded.problems.isEmpty, "\(loaded.problems)")
            return try store.hunt([], sigma: loaded.rules).compactMap(\.evidence.line).sorted()
        }
        #expect(try lines("sel:\n  cs-uri-query|contains: 'cmd='\ncondition: sel") == [1])
        #expect(try lines("sel:\n  cs-uri-query: null\ncondition: sel") == [2, 3])
        #expect(try lines("sel:\n  cs-uri-stem|endswith: '.php'\ncondition: sel") == [1])
        #expect(try lines("sel:\n  c-uri-extension:\n    - php\n    - onnx\ncondition: sel") == [1, 2])
    }
}

/// Real third-party audit logs (Fixtures/audit, provenance there) and SigmaHQ's own rules
/// (Fixtures/sigmahq): every record kept, the rules find the events.
@Suite struct RealAuditSampleTests: StoreReading {
    static func ingested() throws -> (DetectStore, IngestSummary) {
        let store = try DetectStore()
        let paths = ["cloudtrail-attack.jsonl", "k8s-audit-real.jsonl", "azure-activity-real.jsonl"].map { Fixtures.path("audit/" + $0) }
        let summary = try IngestEngine.run(IngestRequest(paths: paths, storeDirectory: store.store, jobs: 1))
        return (store, summary)
    }

    @Test func everyRecordIsKept() throws {
        let (store, summary) = try Self.ingested()
        #expect(summary.rejected == 0)
        #expect(summary.filtered == 0)
        let byName = Dictionary(uniqueKeysWithValues: summary.files.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(byName["cloudtrail-attack.jsonl"]?.formats == ["cloudtrail"])
        #expect(byName["k8s-audit-real.jsonl"]?.formats == ["k8s-audit"])
        #expect(byName["azure-activity-real.jsonl"]?.formats == ["azure-activity-log"])
        let audit = try rows(.audit, store: store.store)
        #expect(audit.count == 29 + 15 + 15)
        let sources = Dictionary(grouping: audit, by: { $0["source"] ?? "" }).mapValues(\.count)
        #expect(sources == ["cloudtrail": 29, "k8s-audit": 15, "azure-activity": 10, "azure-audit": 3, "azure-signin": 2])
        // Kubernetes events without any timestamp (lines 1–6) are kept undated, not dropped.
        #expect(audit.filter { $0["source"] == "k8s-audit" && $0["time"] == nil }.count == 6)
        // Panther's "2022-09-27 17:09:18" form of eventTime is read as UTC.
        let expected = try #require(TimeParser.parse("2025-01-21T17:49:47Z"))
        #expect(audit.contains { $0["action"] == "DeleteModelInvocationLoggingConfiguration" && $0["time"] == String(expected) })
    }

    static func sigmaHQ(_ names: [String]) -> [SigmaRule] {
        let loaded = SigmaLoader.load(sources: names.map { name in
            (name, (try? String(contentsOfFile: Fixtures.path("sigmahq/" + name), encoding: .utf8)) ?? "")
        })
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        return loaded.rules
    }

    @Test func sigmaHQRulesFindTheEvents() throws {
        let (store, _) = try Self.ingested()
        let rules = Self.sigmaHQ(["aws_cloudtrail_disable_logging.yml", "aws_iam_backdoor_users_keys.yml",
                                  "kubernetes_audit_exec_into_container.yml"])
        #expect(rules.count == 3)
        let hits = try store.hunt([], sigma: rules)
        func lines(_ title: String, _ file: String) -> [Int64] {
            hits.filter { $0.title == title && $0.evidence.archive?.hasSuffix(file) == true }.compactMap(\.evidence.line).sorted()
        }
        // StopLogging (5: denied, still an attempt), DeleteTrail, StopLogging, UpdateTrail.
        #expect(lines("AWS CloudTrail Important Change", "cloudtrail-attack.jsonl") == [5, 13, 14, 15])
        // Every CreateAccessKey: the rule's filter compares with literal text (see Fixtures/sigmahq).
        #expect(lines("AWS IAM Backdoor Users Keys", "cloudtrail-attack.jsonl") == [6, 11, 16, 17, 27, 28])
        #expect(lines("Potential Remote Command Execution In Pod Container", "k8s-audit-real.jsonl") == [1, 2])
        #expect(hits.count == 4 + 6 + 2)
    }

    @Test func broaderCompromiseFromRealEvents() throws {
        let (store, _) = try Self.ingested()
        let hits = try store.hunt([RuleID.controlPlane])
        let lines = try #require(BroaderCompromise.lines(hits: hits, examinedSources: ["cloudtrail", "k8s-audit"]))
        // The denied StopLogging (line 5) is not evidence of logging stopped; the successful one (13) is.
        let logging = try #require(lines.first { $0.hasPrefix("logging stopped or deleted:") })
        #expect(logging.contains("StopLogging") && logging.contains("DeleteTrail") && logging.contains("DeleteModelInvocationLoggingConfiguration"))
        #expect(logging.contains("line 13"))
        let credentials = try #require(lines.first { $0.hasPrefix("credentials created:") })
        #expect(credentials.contains("CreateAccessKey ×6"))
        #expect(lines.contains { $0.hasPrefix("commands run inside workloads: create ×2") })
        #expect(lines.contains { $0.hasPrefix("privileges granted:") && $0.contains("AttachUserPolicy") })
    }
}

/// CloudTrail event-history exports: `lookup-events` JSON and the console's CSV.
@Suite struct CloudTrailExportTests: StoreReading {
    @Test func lookupEventsCarryTheWholeRecord() throws {
        let store = try DetectStore()
        let summary = try IngestEngine.run(IngestRequest(paths: [Fixtures.path("audit/cloudtrail-lookup-events.jsonl")],
                                                         storeDirectory: store.store, jobs: 1))
        #expect(summary.files.first?.formats == ["cloudtrail-export"])
        #expect(summary.rejected == 0)
        let audit = try rows(.audit, store: store.store)
        #expect(audit.map { $0["action"] } == ["DescribeInstances", "TerminateInstances", "StopInstances",
                                               "SharedSnapshotVolumeCreated", "RunInstances", "CreateSecurityGroup"])
        // The time is the record's eventTime (UTC), not the export's local EventTime.
        #expect(audit[0]["time"] == TimeParser.parse("2022-02-07T22:23:37Z").map(String.init))
        #expect(audit[0]["principal"] == "arn:aws:iam::012345678901:user/fakeusername")
        #expect(audit[0]["record"]?.hasPrefix("{\"eventVersion\":\"1.08\"") == true)
        // Sigma rules read the record's own names.
        let rule = """
            title: terminate
            id: t
            logsource: {product: aws, service: cloudtrail}
            detection:
              sel:
                eventName: TerminateInstances
                requestParameters.instancesSet.items.instanceId: i-01234567890123456
              condition: sel
            """
        let loaded = SigmaLoader.load(sources: [("t.yml", rule)])
        #expect(loaded.problems.isEmpty)
        #expect(try store.hunt([], sigma: loaded.rules).compactMap(\.evidence.line) == [2])
    }

    @Test func consoleCSVByItsHeaderNames() throws {
        let store = try DetectStore()
        let summary = try IngestEngine.run(IngestRequest(paths: [Fixtures.path("audit/cloudtrail-event-history.csv")],
                                                         storeDirectory: store.store, jobs: 1))
        #expect(summary.files.first?.formats == ["cloudtrail-export"])
        #expect(summary.rejected == 1, "the row whose time cannot be read")
        let audit = try rows(.audit, store: store.store)
        #expect(audit.map { $0["action"] } == ["StopLogging", "CreateAccessKey"])
        #expect(audit.map { $0["outcome"] } == ["success", "failure"])
        #expect(audit[0]["service"] == "cloudtrail.amazonaws.com")
        #expect(audit[0]["principal"] == "mallory")
        #expect(audit[0]["src_ip"] == "198.51.100.7")
        #expect(audit[0]["target"] == "management-trail")
        let rules = RealAuditSampleTests.sigmaHQ(["aws_cloudtrail_disable_logging.yml"])
        #expect(try store.hunt([], sigma: rules).compactMap(\.evidence.line) == [2])
        let control = try store.hunt([RuleID.controlPlane])
        #expect(control.compactMap(\.evidence.line) == [2], "the denied CreateAccessKey is not a created credential")
    }
}
