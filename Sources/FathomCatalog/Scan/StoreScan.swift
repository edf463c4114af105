import FathomStore
import Foundation
import FathomSupport

/// Parallel scans over the segments of one source kind.
///
/// Only segments whose time range overlaps the query are opened (pruning by the catalog's
/// min/max time); the others are never mapped. Segments are processed on `jobs` threads and the
/// per-segment results come back in catalog order, so a merge over them is deterministic.
public struct StoreScan: Sendable {
    public let store: Store
    public let jobs: Int
    /// Bounds applied to every scan (inclusive), narrowing any range a scan asks for: only
    /// segments overlapping them are read (a sweep's incident analysis over its look-back window).
    public let bounds: (from: Int64?, to: Int64?)

    public init(store: Store, jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                bounds: (from: Int64?, to: Int64?) = (nil, nil)) {
        self.store = store
        self.jobs = max(1, jobs)
        self.bounds = bounds
    }

    /// The segments of `kind` overlapping `[from, to]` (and the scan's bounds).
    public func segments(_ kind: SourceKind, from: Int64? = nil, to: Int64? = nil) throws(ScanError) -> [SegmentRecord] {
        let low = [from, bounds.from].compactMap { $0 }.max()
        let high = [to, bounds.to].compactMap { $0 }.min()
        do { return try store.catalog.segments(kind: kind, from: low, to: high) } catch { throw .catalog(error) }
    }

    /// Applies `body` to every segment of `kind` overlapping `[from, to]`, in parallel, and returns
    /// the results in segment order.
    ///
    /// - Complexity: O(rows in the overlapping segments) work spread over `jobs` threads.
    public func map<T: Sendable>(_ kind: SourceKind, from: Int64? = nil, to: Int64? = nil,
                                 _ body: @Sendable (SegmentTable) throws -> T) throws -> [T] {
        try mapIndexed(kind, from: from, to: to) { table, _ in try body(table) }
    }

    /// ``map(_:from:to:_:)`` with each segment's place in segment order given to `body`.
    public func mapIndexed<T: Sendable>(_ kind: SourceKind, from: Int64? = nil, to: Int64? = nil,
                                        _ body: @Sendable (SegmentTable, Int) throws -> T) throws -> [T] {
        let records = try segments(kind, from: from, to: to)
        let slots = WorkSlots<T, any Error>(count: records.count)
        let store = store
        // On the process's shared threads: inside a hunt, a rule's segments still spread over every
        // core once the rules beside it are done (``TaskPool``).
        TaskPool.shared.apply(count: records.count, width: jobs) { index in
            do {
                let table = try SegmentTable(record: records[index], path: store.absolute(records[index].path))
                slots.store(index, .success(try body(table, index)))
            } catch {
                slots.store(index, .failure(error))
            }
        }
        return try slots.results()
    }
}

extension WorkSlots where Failure == any Error {
    /// The values in input order; the first failure in input order is thrown.
    package func results() throws -> [Value] {
        try all.map { slot in
            guard let slot else { throw ScanError.store(.corrupt(path: "", offset: 0, detail: "segment not scanned")) }
            return try slot.get()
        }
    }
}
