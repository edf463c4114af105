import Foundation
#if canImport(Glibc)
import Glibc
#endif
import FathomStore

/// Named points in long-running commands where the crash-safety tests stop the process.
///
/// When the environment variable `FATHOM_TEST_HOOK` is `POINT=kill`, the process sends itself
/// `SIGKILL` on reaching `POINT` (no cleanup runs, as with a power cut or the OOM killer); with
/// `POINT=pause:SECONDS` it sleeps there (to hold a lock while a second process starts); with
/// `POINT=fail` or `POINT=fail:ERRNO` a write there fails as the system would fail it (`ENOSPC`
/// unless another errno is named). Unset — always, outside tests — a hook costs one environment
/// lookup.
public enum TestHook {
    package static let variable = "FATHOM_TEST_HOOK"

    /// The action set for `point`, if any.
    private static func action(at point: String) -> String? {
        guard let raw = FileSystem.environment(variable) else { return nil }
        let parts = raw.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == point else { return nil }
        return parts[1]
    }

    /// The errno a write at `point` must fail with, when a test asks for one.
    package static func injectedFailure(_ point: String) -> Int32? {
        guard let action = action(at: point), action.hasPrefix("fail") else { return nil }
        return Int32(action.dropFirst(5)) ?? ENOSPC
    }

    /// Called on reaching `point`.
    package static func reached(_ point: String) {
        guard let action = action(at: point) else { return }
        let parts = [point, action]
        if parts[1] == "kill" {
            kill(getpid(), SIGKILL)
        } else if parts[1].hasPrefix("pause:"), let seconds = Double(parts[1].dropFirst(6)) {
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}
