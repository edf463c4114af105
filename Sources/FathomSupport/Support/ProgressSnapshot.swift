import Foundation

/// Where a long command is: the line a responder watches on a terminal while an ingest, a hunt or
/// an analysis runs.
///
/// `done` and `total` measure the phase's work in its own unit (bytes of archives read for an
/// ingest, segment rows scanned for a hunt): the ETA is the phase's elapsed time scaled by the
/// share of that work left. A phase whose total is not known (0) shows no ETA.
public struct ProgressSnapshot: Sendable, Equatable {
    /// What `done` and `total` count.
    public enum Unit: Sendable, Equatable {
        /// Bytes of the input files (an archive's compressed size).
        case bytes
        /// Rows of the store's segments.
        case rows
        /// Nothing measured: the phase's name and notes alone.
        case none
    }

    public var phase: String
    public var unit: Unit
    public var done: Int64
    public var total: Int64
    /// Rows decoded (ingest) or scanned (hunt) so far.
    public var rows: Int64
    /// Bytes after decompression (ingest), when the phase reads archives.
    public var uncompressedBytes: Int64?
    /// Seconds since the phase started.
    public var seconds: Double
    /// Further counts, shown after the rates (`12 rejected`, `3/9 files`, `5/14 rules`).
    public var notes: [String]

    public init(phase: String, unit: Unit, done: Int64, total: Int64, rows: Int64, uncompressedBytes: Int64? = nil,
                seconds: Double, notes: [String] = []) {
        self.phase = phase
        self.unit = unit
        self.done = done
        self.total = total
        self.rows = rows
        self.uncompressedBytes = uncompressedBytes
        self.seconds = seconds
        self.notes = notes
    }

    /// Seconds left at the rate so far: nil before a second has passed (too early to tell), when
    /// nothing is done yet, without a total, or once the work counted is all done.
    public var eta: Double? {
        guard seconds >= 1, done > 0, total > done else { return nil }
        return seconds * Double(total - done) / Double(done)
    }

    /// A phase with nothing measured: its name and notes.
    public static func phase(_ phase: String, notes: [String] = []) -> ProgressSnapshot {
        ProgressSnapshot(phase: phase, unit: .none, done: 0, total: 0, rows: 0, seconds: 0, notes: notes)
    }

    /// `ingest  412.0 MB / 1.2 GB  2.9 GB uncompressed  730.0 MB/s  3,120,000 rows  12 rejected  3/9 files  ETA 0:12`,
    /// or for a hunt `hunt  12,345,678 / 40,000,000 rows  9,800,000 rows/s  5/14 rules  ETA 0:03`.
    public var line: String {
        var parts = [phase]
        switch unit {
        case .bytes:
            parts.append(total > 0 ? "\(TextFormat.bytes(done)) / \(TextFormat.bytes(total))" : TextFormat.bytes(done))
            if let uncompressedBytes {
                parts.append("\(TextFormat.bytes(uncompressedBytes)) uncompressed")
                parts.append("\(TextFormat.bytes(Self.rate(uncompressedBytes, seconds)))/s")
            } else {
                parts.append("\(TextFormat.bytes(Self.rate(done, seconds)))/s")
            }
            // Rows are an ingest's (files hashed or scanned make none).
            if uncompressedBytes != nil { parts.append("\(ReportNumber.grouped(rows)) rows") }
        case .rows:
            parts.append(total > 0 ? "\(ReportNumber.grouped(min(done, total))) / \(ReportNumber.grouped(total)) rows" : "\(ReportNumber.grouped(done)) rows")
            parts.append("\(ReportNumber.grouped(Self.rate(done, seconds))) rows/s")
        case .none:
            break
        }
        parts += notes
        if let eta { parts.append("ETA " + Self.clock(eta)) }
        return parts.joined(separator: "  ")
    }

    /// Per second, 0 before any time has passed.
    static func rate(_ amount: Int64, _ seconds: Double) -> Int64 {
        seconds > 0 ? Int64((Double(amount) / seconds).rounded()) : 0
    }

    /// `0:07`, `3:05`, `1:02:30`: whole seconds, rounded up (an ETA of 0:00 while work is left
    /// would be wrong).
    public static func clock(_ seconds: Double) -> String {
        let total = Int(min(seconds.rounded(.up), 99 * 3600 + 3599))
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(rest))" : "\(minutes):\(two(rest))"
    }
}

/// The running totals of a phase that reads whole files (hashing a manifest, scanning artifacts):
/// files and bytes done of those planned, reported at most four times a second and at the last
/// file. Thread-safe.
public final class FileProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let phase: String
    private let filesTotal: Int
    private let bytesTotal: Int64
    private let report: @Sendable (ProgressSnapshot) -> Void
    private let started = Clock.monotonicSeconds()
    private var lastReport = 0.0
    private var files = 0
    private var bytes: Int64 = 0

    public init(phase: String, filesTotal: Int, bytesTotal: Int64, report: @escaping @Sendable (ProgressSnapshot) -> Void) {
        self.phase = phase
        self.filesTotal = filesTotal
        self.bytesTotal = bytesTotal
        self.report = report
    }

    /// One file done, of `size` bytes.
    public func fileDone(size: Int64) {
        lock.lock()
        files += 1
        bytes += size
        let now = Clock.monotonicSeconds()
        var snapshot: ProgressSnapshot?
        if now - lastReport >= 0.25 || files == filesTotal {
            lastReport = now
            snapshot = ProgressSnapshot(phase: phase, unit: .bytes, done: bytes, total: max(bytesTotal, bytes), rows: 0,
                                        seconds: now - started, notes: ["\(files)/\(filesTotal) files"])
        }
        lock.unlock()
        if let snapshot { report(snapshot) }
    }
}
