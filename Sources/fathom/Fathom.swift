import ArgumentParser
import FathomCore

/// The `fathom` command line: an offline forensic analyzer for AI/ML security incidents.
@main
struct Fathom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fathom",
        abstract: "Offline forensic analysis of AI/ML security incidents from compressed log archives.",
        discussion: """
            Exit statuses:
              0   success (rejected records are counted in the summary, not errors)
              1   an internal error
              2   some inputs could not be read (they are recorded as evidence with the reason)
              3   the store or catalog failed (in use by another process, corrupt, I/O error); for report and
                  export, the case has no readable analysis or a file could not be written
              4   report --final refused: facts only a person can supply are missing
              5   'fathom verify' found files changed, missing or new
              10  'fathom sweep' found new or updated findings
              11  'fathom sweep' found altered evidence (a file changed after it was read)
              64  invalid arguments
            """,
        version: FathomVersion.current,
        subcommands: [
            Ingest.self,
            StoreCommand.self,
            Formats.self,
            Hunt.self,
            Rules.self,
            Analyze.self,
            SparkJobCommand.self,
            Sweep.self,
            Report.self,
            Export.self,
            Simulate.self,
            ManifestCommand.self,
            Verify.self,
            Deps.self,
            ScanArtifacts.self,
        ]
    )

    static func main() {
        // An allocator policy for the whole process, before any work (``MemoryRelease``).
        MemoryRelease.keepFreedMemory()
        Self.main(nil)
    }
}
