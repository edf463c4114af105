import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum FileHandleOutput {
    static func standardError(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

/// Whether standard error is a terminal (progress lines are shown only then).
var standardErrorIsTerminal: Bool { isatty(2) != 0 }

/// A progress line that rewrites itself on a terminal.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var shown = false

    func update(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandleOutput.standardError("\r\u{1B}[2K" + text)
        shown = true
    }

    func clear() {
        lock.lock()
        defer { lock.unlock() }
        if shown { FileHandleOutput.standardError("\r\u{1B}[2K") }
        shown = false
    }
}
