import ArgumentParser
import FathomCore

struct Deps: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deps",
        abstract: "List the models that depend on a component, directly or transitively.",
        discussion: """
        The inventory directory holds CycloneDX JSON SBOMs (1.4–1.6, including ML-BOMs), Python \
        requirements files and pip freeze output. Python names match after PEP 503 normalisation; \
        versions match exactly; NAME#SHA256 matches a pinned hash. A package URL \
        (pkg:pypi/torch@2.1.0) is accepted too.

        Exit status: 0 = no model depends on the component; 5 = models depend on it; 2 = none \
        found, but some inventory files could not be read or parsed; 64 = usage error; 1 = the \
        inventory directory could not be read.
        """
    )

    @Option(help: "The directory of dependency inventories.")
    var inventory: String

    @Option(help: "The component, as NAME, NAME@VERSION, NAME#SHA256 or a package URL.")
    var component: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if ComponentQuery.parse(component) == nil {
            throw ValidationError("--component '\(component)' is not NAME, NAME@VERSION, NAME#SHA256 (64 hex digits) or a package URL.")
        }
    }

    func run() throws {
        guard let query = ComponentQuery.parse(component) else { throw ExitCode(64) }
        let report = try DependencyIndex.search(inventory: inventory, for: query)
        if json {
            print(try IntegrityJSON.encode(report))
        } else {
            print("\(report.matches.count) dependency paths to \(Output.safe(report.query)) among \(report.models.count) models.")
            Output.printFindings(report.findings)
        }
        try Output.exit(report.outcome)
    }
}
