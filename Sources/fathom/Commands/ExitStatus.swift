import ArgumentParser
import FathomCore

/// The documented exit statuses (see `fathom --help`).
enum ExitStatus {
    static let inputsUnreadable = ExitCode(2)
    static let storeFailure = ExitCode(3)
    /// `fathom report --final` refused: human-supplied facts are missing.
    static let finalRefused = ExitCode(4)
    /// `hunt`, `rules lint`: some Sigma rules cannot be used (each reported; the others ran).
    static let rulesSkipped = ExitCode(6)

    /// Maps a Core error onto its exit status, after printing it on stderr.
    static func fail(_ error: IngestError) -> ExitCode {
        printError(error.description)
        switch error {
        case .storeBusy, .store, .catalog, .storeWrite: return storeFailure
        case .missingInput, .unknownFormatName, .profile: return ExitCode(64)
        case .undecidableKind, .unknownFormat, .inputRead: return inputsUnreadable
        }
    }
}

func printError(_ message: String) {
    var standardError = StandardError()
    print("fathom: " + TerminalText.escape(message), to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleOutput.standardError(string)
    }
}
