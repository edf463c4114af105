import ArgumentParser
import FathomCore

struct Formats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "formats",
        abstract: "List the formats Fathom reads, the source kinds they feed and the fields they map."
    )

    func run() {
        for format in FormatRegistry.builtIn.formats {
            print("\(format.name) — \(format.summary)")
            print("  kinds: \(format.kinds.map(\.rawValue).joined(separator: ", "))")
            for (canonical, source) in format.fieldMap {
                print("  \(canonical) ← \(source)")
            }
            print("")
        }
    }
}
