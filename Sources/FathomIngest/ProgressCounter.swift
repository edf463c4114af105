import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Thread-safe running totals of an ingest, read by a progress reporter.
public final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: Int64 = 0
    private var decoded: Int64 = 0
    private var rows: Int64 = 0
    private var rejected: Int64 = 0
    private var filesDone = 0
    package let bytesTotal: Int64
    package let filesTotal: Int
    package let started = Clock.monotonicSeconds()
    private let report: (@Sendable (IngestProgress) -> Void)?
    private var lastReport = 0.0

    package init(bytesTotal: Int64, filesTotal: Int, report: (@Sendable (IngestProgress) -> Void)?) {
        self.bytesTotal = bytesTotal
        self.filesTotal = filesTotal
        self.report = report
    }

    package func add(bytes: Int64, rows: Int64, rejected: Int64, decoded: Int64 = 0, fileDone: Bool = false) {
        var snapshot: IngestProgress?
        lock.lock()
        self.bytes += bytes
        self.decoded += decoded
        self.rows += rows
        self.rejected += rejected
        if fileDone { filesDone += 1 }
        let now = Clock.monotonicSeconds()
        if report != nil, now - lastReport >= 0.25 || fileDone {
            lastReport = now
            snapshot = currentLocked(now: now)
        }
        lock.unlock()
        if let snapshot { report?(snapshot) }
    }

    package var current: IngestProgress {
        lock.lock()
        defer { lock.unlock() }
        return currentLocked(now: Clock.monotonicSeconds())
    }

    private func currentLocked(now: Double) -> IngestProgress {
        IngestProgress(bytesRead: bytes, bytesTotal: bytesTotal, bytesDecoded: decoded, rows: rows, rejected: rejected,
                       filesDone: filesDone, filesTotal: filesTotal, seconds: now - started)
    }
}
