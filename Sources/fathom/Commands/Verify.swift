import ArgumentParser
import Foundation
import FathomCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash training data and report files changed, missing or new since a manifest.",
        discussion: """
        Findings are evidence of a training data / pipeline compromise. "First modified" is the \
        earliest modification time among changed and new files. A file that cannot be read \
        (permissions, replaced by a directory, FIFO or symbolic link, I/O error) is reported as an \
        error entry, never counted as a match.

        The baseline may be a manifest written by 'fathom manifest create', a JSON object of \
        path → SHA-256, 'sha256sum' or 'shasum -a 256' output (text or '*' binary marker, GNU \
        escapes, BSD tags), a CycloneDX BOM or an SPDX document (JSON or tag-value) with SHA-256 \
        file hashes. Paths are relative to the baseline's folder unless --root is given (absolute \
        paths: to their common folder).

        Exit status: 0 = every file matches; 5 = differences found (changed, missing or new files; \
        unreadable files are listed too); 2 = no differences, but some files could not be read; \
        64 = usage error, or a baseline that cannot be read or is in none of these formats (one \
        line says why); 1 = the root could not be used.
        """
    )

    @Argument(help: "The baseline: a Fathom manifest, {path: sha256} JSON, sha256sum output, CycloneDX or SPDX.")
    var manifest: String

    @Option(help: "The directory to check (default: the directory recorded in the manifest).")
    var root: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let loaded: Manifest
        do {
            loaded = try Baseline.load(path: manifest).manifest
        } catch {
            FileHandle.standardError.write(Data("fathom verify: \(Output.safe(error.description))\n".utf8))
            throw ExitCode(64)
        }
        let report = try ManifestVerifier.verify(manifest: loaded, manifestPath: manifest,
                                                 root: root ?? loaded.header.root, excluding: [manifest])
        if json {
            print(try IntegrityJSON.encode(report))
        } else {
            print("Checked \(report.checked) files under \(Output.safe(report.root)): \(report.matched) match.")
            Output.printFindings(report.findings)
            if let first = report.firstModifiedUTC { print("First modified: \(first)") }
        }
        try Output.exit(report.outcome)
    }
}
