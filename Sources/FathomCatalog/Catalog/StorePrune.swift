import FathomStore
import Foundation
import FathomSupport

/// What `fathom store prune` dropped.
public struct PruneSummary: Sendable, Codable, Equatable {
    public var store: String
    /// Segments whose newest row is older than this were dropped.
    public var cutoff: String
    public var segments: Int
    public var rows: Int64
    public var bytes: Int64
    /// Archives some of whose rows were dropped (their records, members, rejects and hashes stay).
    public var archives: Int

    public var text: String {
        "Store \(store): dropped \(segments) segments (\(rows) rows, \(TextFormat.bytes(bytes))) of \(archives) archives "
            + "with no row at or after \(cutoff); archives, findings and the evidence record are kept."
    }
}

/// `fathom store prune --older-than DAYS`: drops old segments to bound the store's size.
///
/// Only segment files and their catalog rows go. The evidence record — archives with their
/// SHA-256, members, rejected-record samples — and the sweep state (findings, altered evidence,
/// copies) stay, and each archive notes when and how many of its rows were pruned, so a later
/// sweep still recognises the archive and never reads it again.
///
/// Crash safety: the catalog rows are deleted in one transaction first, then the files; a process
/// killed in between leaves unreferenced segment files, which the next writer removes (see
/// ``Store``).
public enum StorePrune {
    public static func run(directory: String, olderThanDays days: Int, now: Int64? = nil) throws(CatalogError) -> PruneSummary {
        let store = try Store(directory: directory, forWriting: true)
        let at = now ?? Clock.nowNanoseconds()
        // Saturated: `--older-than 200000` or a `--now` in 1677 reaches before the first time a
        // column can hold, and nothing is older than that.
        let (span, overflow) = Int64(days).multipliedReportingOverflow(by: Clock.nanosecondsPerDay)
        let cutoff = overflow ? Int64.min + 1 : Timestamp.offset(at, by: -span)
        let dropped: [SegmentRecord]
        dropped = try store.catalog.pruneSegments(olderThan: cutoff, at: at)
        TestHook.reached("prune.committed")
        for segment in dropped {
            try? FileManager.default.removeItem(atPath: store.absolute(segment.path))
        }
        return PruneSummary(store: directory, cutoff: TimeParser.format(cutoff), segments: dropped.count,
                            rows: dropped.reduce(0) { $0 + $1.rows }, bytes: dropped.reduce(0) { $0 + $1.bytes },
                            archives: Set(dropped.map(\.archiveID)).count)
    }
}
