import ArgumentParser
import FathomCore

struct ScanArtifacts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-artifacts",
        abstract: "Scan model artifacts for pickle imports that execute code, without loading them.",
        discussion: """
        Walks the pickle opcodes of .pkl/.pickle files and of the pickle members of zip checkpoints \
        (.pt/.pth/.bin), reporting imports such as os.system or builtins.eval with their offsets. \
        With --registry-hashes, files whose SHA-256 differs from the registry's are reported too.

        Exit status: 0 = nothing found; 5 = unsafe imports or hash mismatches found; 2 = nothing \
        found, but some files were unreadable or malformed; 64 = usage error; 1 = the directory or \
        the registry file could not be used.
        """
    )

    @Argument(help: "The directory of model artifacts.")
    var directory: String

    @Option(help: "A JSON or CSV file of SHA-256 values recorded by the model registry.")
    var registryHashes: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let registry = try registryHashes.map { path throws(IntegrityError) in try RegistryHashes.load(path: path) }
        let report = try ArtifactScanner.scan(root: directory, registry: registry)
        if json {
            print(try IntegrityJSON.encode(report))
        } else {
            print("Scanned \(report.artifacts.count) files under \(Output.safe(report.root)).")
            Output.printFindings(report.findings)
            for entry in report.registryEntriesNotFound {
                print("NOTE\tregistry entry not found under the directory: \(Output.safe(entry.label))")
            }
        }
        try Output.exit(report.outcome)
    }
}
