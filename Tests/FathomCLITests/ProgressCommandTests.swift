import Foundation
import Testing

/// The progress line: on stderr while stderr is a terminal, never otherwise (a log file or a pipe
/// gets no carriage returns or escape sequences).
@Suite struct ProgressCommandTests {
    static let log = (0..<400).map { index in
        "198.51.100.\(index % 50) - - [02/Mar/2026:10:\(String(format: "%02d", index % 60)):00 +0000] "
            + "\"POST /v1/models/fraud:predict HTTP/1.1\" 200 512 \"-\" \"python-requests/2.31.0\"\n"
    }.joined()

    /// `script` (util-linux) runs a command on a pseudo-terminal, as a responder's shell would.
    static var script: String? {
        ["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func quietWhenStderrIsNotATerminal() throws {
        let directory = try TemporaryDirectory("progress")
        try directory.write("logs/access.log", Self.log)
        let ingest = try CLI.run(["ingest", "logs", "--store", "store"], in: directory.url)
        #expect(ingest.status == 0)
        #expect(!ingest.stderr.contains("\u{1B}[2K") && !ingest.stderr.contains("\r"))
        #expect(ingest.stdout.contains("uncompressed"))
        let hunt = try CLI.run(["hunt", "--store", "store", "--format", "jsonl"], in: directory.url)
        #expect(hunt.status == 0)
        #expect(hunt.stderr.isEmpty)
    }

    @Test func shownOnATerminal() throws {
        guard let script = Self.script else { return }
        let directory = try TemporaryDirectory("progress-tty")
        try directory.write("logs/access.log", Self.log)
        let fathom = CLI.executable.path
        for (command, phase) in [("ingest logs --store store", "ingest  "), ("hunt --store store --format jsonl", "hunt  ")] {
            // The pseudo-terminal's output is the command's stdout and stderr together.
            let run = try CLI.run(["-qec", "'\(fathom)' \(command)", "/dev/null"], in: directory.url, executable: script)
            #expect(run.status == 0)
            #expect(run.stdout.contains("\u{1B}[2K" + phase), "\(command): \(run.stdout.prefix(300))")
        }
        // The hunt ends at its rules' rows (the 400 gateway rows, read by the extraction rules
        // together) with every built-in rule done.
        let hunt = try CLI.run(["-qec", "'\(fathom)' hunt --store store --format jsonl", "/dev/null"], in: directory.url, executable: script)
        #expect(hunt.stdout.contains("hunt  400 / 400 rows  "))
        let last = try #require(hunt.stdout.matches(of: #/  (\d+)/(\d+) rules/#).last)
        #expect(last.output.1 == last.output.2)
    }
}
