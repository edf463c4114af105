import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Byte-for-byte comparison of rendered documents with committed golden files.
///
/// `FATHOM_RECORD=1 swift test --filter …` rewrites the golden folder from the current output and
/// FAILS the test, so a recording run can never pass CI. Reusable for any folder (e.g. the
/// repository's `Reports/sample/` for the real sample data): pass the folder and the documents.
enum GoldenFiles {
    /// The repository root, found from this source file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `Tests/FathomCoreTests/Fixtures/<name>` in the source tree (not the copied bundle, so that
    /// recording writes where git sees it).
    static func fixtureFolder(_ name: String) -> URL {
        repositoryRoot.appendingPathComponent("Tests/FathomCoreTests/Fixtures").appendingPathComponent(name)
    }

    /// A folder's README (origin of the golden files) is kept and never compared.
    static let readme = "README.md"

    static var isRecording: Bool { ProcessInfo.processInfo.environment["FATHOM_RECORD"] == "1" }

    /// Compares `documents` (file name → content) with the files in `folder`; records them instead
    /// when `FATHOM_RECORD=1`. Every difference, missing and extra file is recorded as an issue.
    /// Entries named in `ignoring` (sub-folders checked on their own) are neither compared nor removed.
    static func check(_ documents: [String: String], against folder: URL, ignoring: Set<String> = [],
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let manager = FileManager.default
        if isRecording {
            do {
                try manager.createDirectory(at: folder, withIntermediateDirectories: true)
                for stale in (try manager.contentsOfDirectory(atPath: folder.path)) where stale != readme && !ignoring.contains(stale) && documents[stale] == nil {
                    try manager.removeItem(at: folder.appendingPathComponent(stale))
                }
                for name in documents.keys.sorted() {
                    try Data((documents[name] ?? "").utf8).write(to: folder.appendingPathComponent(name))
                }
            } catch {
                Issue.record("Cannot record golden files in \(folder.path): \(error)", sourceLocation: sourceLocation)
                return
            }
            Issue.record("Recorded \(documents.count) golden files in \(folder.path); unset FATHOM_RECORD and run again.",
                         sourceLocation: sourceLocation)
            return
        }
        let existing = Set((try? manager.contentsOfDirectory(atPath: folder.path)) ?? []).subtracting([readme]).subtracting(ignoring)
        for name in existing.subtracting(documents.keys).sorted() {
            Issue.record("Golden file \(name) is no longer written; re-record with FATHOM_RECORD=1.", sourceLocation: sourceLocation)
        }
        for name in documents.keys.sorted() {
            guard let expected = manager.contents(atPath: folder.appendingPathComponent(name).path) else {
                Issue.record("Golden file \(name) is missing in \(folder.path); record with FATHOM_RECORD=1.", sourceLocation: sourceLocation)
                continue
            }
            let actual = Data((documents[name] ?? "").utf8)
            if actual != expected {
                Issue.record("\(name) differs from its golden file: \(firstDifference(String(decoding: expected, as: UTF8.self), documents[name] ?? ""))",
                             sourceLocation: sourceLocation)
            }
        }
    }

    /// The first differing line, for the failure message.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let left = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let right = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "<end of file>"
            let r = index < right.count ? String(right[index]) : "<end of file>"
            if l != r { return "line \(index + 1):\n  golden: \(l.prefix(300))\n  actual: \(r.prefix(300))" }
        }
        return "trailing bytes differ"
    }
}
