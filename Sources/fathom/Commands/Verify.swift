import ArgumentParser
import FathomCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash training data and report files changed, missing or new since a manifest.",
        discussion: """
        Findings are evidence of a training data / pipeline compromise. "First modified" is the \
        earliest modification time among changed and new files. A file that cannot be read \
        (permissions, replaced by a directory, FIFO or symbolic link, I/O error) is reported as an \
        error entry, never counted as a match.

        Exit status: 0 = every file matches; 5 = differences found (changed, missing or new files; \
        unreadable files are listed too); 2 = no differences, but some files could not be read; \
        64 = usage error; 1 = the manifest or root could not be used.
        """
    )

    @Argument(help: "The manifest written by 'fathom manifest create'.")
    var manifest: String

    @Option(help: "The directory to check (default: the directory recorded in the manifest).")
    var root: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let loaded = try Manifest.load(path: manifest)
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
