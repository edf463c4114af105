import ArgumentParser
import FathomCore
import Foundation

/// Printing helpers shared by the integrity commands. Everything that came from a file is passed
/// through ``TerminalText`` before it reaches the terminal.
enum Output {
    static func safe(_ text: String) -> String { TerminalText.escape(text) }

    static func printError(_ text: String) {
        var standardError = StandardError()
        print(text, to: &standardError)
    }

    /// One line per finding: severity, kind, subject, location, detail.
    static func printFindings(_ findings: [IntegrityFinding]) {
        for finding in findings {
            var location = finding.evidence.file
            if let member = finding.evidence.member { location += " [\(member)]" }
            if let line = finding.evidence.line { location += ":\(line)" }
            if let offset = finding.evidence.offset { location += " @\(offset)" }
            print("\(finding.severity.rawValue.uppercased())\t\(finding.kind.rawValue)\t\(safe(finding.subject))\t\(safe(location))")
            print("    \(safe(finding.detail))")
        }
    }

    static func exit(_ outcome: IntegrityOutcome) throws {
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
    }
}


