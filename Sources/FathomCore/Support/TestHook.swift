import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named points in long-running commands where the crash-safety tests stop the process.
///
/// When the environment variable `FATHOM_TEST_HOOK` is `POINT=kill`, the process sends itself
/// `SIGKILL` on reaching `POINT` (no cleanup runs, as with a power cut or the OOM killer); with
/// `POINT=pause:SECONDS` it sleeps there (to hold a lock while a second process starts). Unset —
/// always, outside tests — a hook costs one dictionary lookup.
public enum TestHook {
    static let variable = "FATHOM_TEST_HOOK"

    /// Called on reaching `point`.
    static func reached(_ point: String) {
        guard let spec = ProcessInfo.processInfo.environment[variable] else { return }
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == point else { return }
        if parts[1] == "kill" {
            kill(getpid(), SIGKILL)
        } else if parts[1].hasPrefix("pause:"), let seconds = Double(parts[1].dropFirst(6)) {
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}
