import ArgumentParser
import FathomCore

@main
struct Fathom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fathom",
        abstract: "Offline forensic analyzer for AI/ML security incidents.",
        subcommands: [
            ManifestCommand.self,
            Verify.self,
            Deps.self,
            ScanArtifacts.self,
        ]
    )
}
