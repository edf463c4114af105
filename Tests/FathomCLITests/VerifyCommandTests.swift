import Foundation
import Testing

/// `fathom verify` as a new user runs it on the playbook's own `{path: sha256}` baseline.
@Suite struct VerifyCommandTests {
    @Test func readsAPathHashBaselineAndRefusesOtherFilesInOneLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fathom-verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("abc".utf8).write(to: directory.appendingPathComponent("data/train.csv"))
        try Data("def".utf8).write(to: directory.appendingPathComponent("data/val.csv"))
        // sha256("abc"), and a stale hash for val.csv.
        let baseline = #"{"train.csv": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "val.csv": "0000000000000000000000000000000000000000000000000000000000000000"}"#
        try Data(baseline.utf8).write(to: directory.appendingPathComponent("data/seed_baseline.json"))
        let result = try CLI.run(["verify", "data/seed_baseline.json"], in: directory)
        #expect(result.status == 5, "\(result.stderr)")
        #expect(result.stdout.contains("Checked 2 files") && result.stdout.contains("1 match"), "\(result.stdout)")
        #expect(result.stdout.contains("val.csv"))
        #expect(!result.stdout.contains("seed_baseline.json"), "the baseline itself is not a new file")

        try Data("just some notes\n".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        let refused = try CLI.run(["verify", "notes.txt"], in: directory)
        #expect(refused.status == 64)
        #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains("not a hash baseline"), "\(refused.stderr)")
        let missing = try CLI.run(["verify", "nowhere.json"], in: directory)
        #expect(missing.status == 64 && missing.stderr.contains("Cannot read"), "\(missing.stderr)")
    }
}
