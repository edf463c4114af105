import ArgumentParser
import FathomCore
import Foundation

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Record and check the hashes of training data.",
        subcommands: [Create.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Write the SHA-256, size and modification time of every regular file under a directory.",
            discussion: """
            Paths are relative to DIR and sorted bytewise; symbolic links and special files are listed \
            as skipped, never followed. The output is deterministic: no wall-clock field is written \
            unless --now is given.

            Exit status: 0 = manifest written; 2 = manifest written but some files could not be read \
            (listed on standard error); 64 = usage error; 1 = DIR or the output could not be used.
            """
        )

        @Argument(help: "The directory to record.")
        var directory: String

        @Option(name: .shortAndLong, help: "Where to write the manifest JSON.")
        var output: String

        @Option(help: "Creation time to record (RFC 3339, e.g. 2026-03-01T12:00:00Z, as every --now takes it), or 'now'.")
        var now: String?

        func validate() throws {
            if let now, now != "now", Timestamp(rfc3339: now) == nil {
                throw ValidationError("--now '\(now)' is not an RFC 3339 time such as 2026-03-01T12:00:00Z.")
            }
        }

        func run() throws {
            let createdAt: Int64? = now.flatMap {
                $0 == "now" ? Int64(Date().timeIntervalSince1970 * 1_000) * 1_000_000 : Timestamp(rfc3339: $0)?.nanoseconds
            }
            // Bytes and files hashed, the rate and the ETA, on stderr when it is a terminal.
            let line = ProgressLine()
            let show: @Sendable (ProgressSnapshot) -> Void = { line.update($0.line) }
            let progress = standardErrorIsTerminal ? show : nil
            defer { line.clear() }
            let creation = try ManifestBuilder.create(root: directory, createdAt: createdAt, excluding: [output], progress: progress)
            line.clear()
            try creation.manifest.jsonText().write(toFile: output, atomically: true, encoding: .utf8)
            print("Recorded \(creation.manifest.files.count) files (\(creation.manifest.header.totalBytes) bytes) in \(Output.safe(output)).")
            if !creation.problems.isEmpty {
                Output.printError("\(creation.problems.count) entries could not be read:")
                for problem in creation.problems {
                    Output.printError("  \(Output.safe(problem.subject)): \(Output.safe(problem.detail))")
                }
                throw ExitCode(2)
            }
        }
    }
}
