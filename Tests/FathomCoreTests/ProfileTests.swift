@testable import FathomCore
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

struct ProfileTests {
    @Test func readsFieldsKindAndFormat() throws {
        let profile = try Profile(yaml: """
            name: acme-gateway
            kind: inference
            format: json
            fields:
              time: ts
              src_ip: [client.addr, x_forwarded_for]
              input: body
            """, origin: "acme.yaml")
        #expect(profile.name == "acme-gateway")
        #expect(profile.kind == .inference)
        #expect(profile.format == "json")
        #expect(profile.fields["time"] == ["ts"])
        #expect(profile.fields["src_ip"] == ["client.addr", "x_forwarded_for"])
        #expect(profile.fields["input"] == ["body"])
    }

    @Test(arguments: [
        ("kind: nonsense\n", "kind must be one of"),
        ("fields:\n  colour: x\n", "unknown canonical column 'colour'"),
        ("fields: [a, b]\n", "fields must be a mapping"),
        ("speed: 3\n", "unknown key 'speed'"),
        ("- just\n- a list\n", "expected a mapping"),
        ("fields:\n  time: {a: b}\n", "must name a field or a list"),
    ])
    func rejectsInvalidProfiles(yaml: String, message: String) {
        #expect {
            _ = try Profile(yaml: yaml, origin: "bad.yaml")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".contains("bad.yaml")
        }
    }
}

struct CanonicalFieldsTests {
    @Test(arguments: [
        (["decision", "score", "version"], SourceKind?.some(.predictions)),
        (["prompt", "response", "session"], .some(.llm)),
        (["to_stage", "version", "event"], .some(.registry)),
        (["pipeline", "action", "run_id"], .some(.pipeline)),
        (["bucket", "key", "operation"], .some(.storage)),
        (["path", "method", "status", "latency_ms"], .some(.inference)),
        (["status"], nil),
        ([], nil),
    ])
    func kindFromPresentFields(fields: [String], expected: SourceKind?) {
        #expect(CanonicalFields.kind(forPresent: Set(fields)) == expected)
    }

    @Test(arguments: [
        ("REST.GET.OBJECT", "read"), ("GetObject", "read"), ("GetBlob", "read"), ("REST.PUT.OBJECT", "write"),
        ("PutBlob", "write"), ("REST.DELETE.OBJECT", "delete"), ("DeleteBlob", "delete"), ("REST.GET.BUCKET", "list"),
        ("ListBlobs", "list"), ("REST.COPY.OBJECT", "write"), ("REST.HEAD.OBJECT", "read"), ("Weird", "other"),
    ])
    func storageActions(operation: String, action: String) {
        #expect(CanonicalFields.storageAction(forOperation: operation) == action)
    }
}
