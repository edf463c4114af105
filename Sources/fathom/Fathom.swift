import ArgumentParser
import FathomCore

/// The `fathom` command: offline forensic analysis of AI/ML security incidents.
@main
struct Fathom: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fathom",
        abstract: "Offline forensic analyzer for AI/ML security incidents.",
        discussion: """
            Exit status: 0 on success, 1 on a failure while running, 64 when the arguments are \
            not valid.
            """,
        version: "0.1.0",
        subcommands: [Simulate.self]
    )
}
