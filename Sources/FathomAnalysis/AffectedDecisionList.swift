import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// The decisions of the compromised version, for `affected_decisions.csv` (or, without decision
/// logs, the requests answered inside the window, for `affected_requests.csv`): 16 bytes each (time,
/// segment, row) instead of their strings, written in (time, request id) order; the strings are
/// read back from the segments while the file is written, each segment released once its last row
/// is out.
///
/// Holding the request ids, decisions and evidence as strings cost about 150 bytes a decision
/// (120 MB for the 800,000 of the 4 GB benchmark week). The references themselves are put in order
/// by an external merge sort (``SortedSpill``, in runs of 262,144 — 4 MB): held in one array and
/// sorted there, they were the part of `analyze`'s memory that still grew with the evidence (18 MB
/// for the 1.14 million of the 8 GB week, twice that while the segments' parts were joined).
package final class AffectedDecisionList: @unchecked Sendable {
    /// References sorted and spilled together: 4 MB of them.
    package static let runLength = 1 << 18

    package struct Ref: Sendable, BitwiseCopyable, Equatable {
        package var time: Int64
        package var segment: UInt32
        /// The row, with the top bit set when the decision is inside the window.
        package var rowAndFlag: UInt32

        package init(time: Int64, segment: UInt32, row: Int, inWindow: Bool) {
            self.time = time
            self.segment = segment
            rowAndFlag = UInt32(row) | (inWindow ? 1 << 31 : 0)
        }

        package var row: Int { Int(rowAndFlag & ~(1 << 31)) }
        package var inWindow: Bool { rowAndFlag & (1 << 31) != 0 }

        /// The order of the evidence: time, then segment and row (a total order: a row has one reference).
        @inline(__always)
        package static func precedes(_ a: Ref, _ b: Ref) -> Bool {
            (a.time, a.segment, a.row) < (b.time, b.segment, b.row)
        }
    }

    /// The references, handed over segment by segment as the scans make them (from any thread), put
    /// in order out of memory, with each segment's last reference in that order (where the writer
    /// lets the segment go).
    package final class Collector: @unchecked Sendable {
        fileprivate let sorter: SortedSpill<Ref>
        private let lock = NSLock()
        private var lastBySegment: [UInt32: Ref] = [:]

        /// References sorted in runs of `runLength`, spilled to a scratch file under the store's
        /// `tmp/` (else the system's temporary folder, else kept in memory).
        package init(store: Store, runLength: Int = AffectedDecisionList.runLength) {
            sorter = SortedSpill(runLength: runLength,
                                 spills: [SpillDirectory(store: store),
                                          SpillDirectory(root: FileManager.default.temporaryDirectory.path + "/fathom")],
                                 name: "affected", by: Ref.precedes)
        }

        /// Adds references (from any thread).
        package func add(_ refs: [Ref]) {
            guard !refs.isEmpty else { return }
            var last: [UInt32: Ref] = [:]
            for ref in refs where last[ref.segment].map({ Ref.precedes($0, ref) }) ?? true { last[ref.segment] = ref }
            lock.lock()
            for (segment, ref) in last where lastBySegment[segment].map({ Ref.precedes($0, ref) }) ?? true {
                lastBySegment[segment] = ref
            }
            lock.unlock()
            sorter.add(refs)
        }

        package var count: Int { sorter.count }

        /// Runs written to the scratch file (0: every reference in memory).
        package var spilledRuns: Int { sorter.spilledRuns }

        fileprivate var lasts: [UInt32: Ref] {
            lock.lock()
            defer { lock.unlock() }
            return lastBySegment
        }
    }

    /// What the rows are: decisions (prediction segments) or requests (inference segments).
    package enum Layout: Sendable {
        case decisions
        case requests

        package var fileName: String { self == .decisions ? "affected_decisions.csv" : "affected_requests.csv" }

        var header: String {
            switch self {
            case .decisions: "request_id,time,decision,score,subject,in_window,archive,member,line\n"
            case .requests: "request_id,time,src_ip,principal,path,status,in_lower_bound,archive,member,line\n"
            }
        }
    }

    private let store: Store
    private let records: [SegmentRecord]
    private let resolver: EvidenceResolver
    package let layout: Layout
    private var collector: Collector?

    package let count: Int
    /// Runs of references the external sort wrote to its scratch file (0: all kept in memory).
    package let spilledRuns: Int

    /// The list of the references `collector` was given (its sorter is read once, by the writer).
    package init(store: Store, records: [SegmentRecord], resolver: EvidenceResolver, collector: Collector,
                 layout: Layout = .decisions) {
        self.layout = layout
        self.store = store
        self.records = records
        self.resolver = resolver
        self.collector = collector
        count = collector.count
        spilledRuns = collector.spilledRuns
    }

    /// Writes the CSV now, into a run folder under the store's `tmp/`, and lets the references go:
    /// they are the analysis's largest state that grows with the evidence (13 MB for the 800,000
    /// decisions of a 4 GB week), and the rest of the analysis runs without them.
    /// ``StagedFile/move(to:)`` puts the CSV in the report folder.
    ///
    /// The file is written on a thread of its own while the analysis goes on (its scans seldom
    /// keep both cores busy, and the CSV took a tenth of a second of one core for a week of
    /// decisions); ``StagedFile/move(to:)`` waits for it. Nothing else may use the list meanwhile.
    package func stage() throws -> StagedFile {
        let folder = SpillDirectory(store: store)
        let path = try folder.path(of: layout.fileName)
        let staged = StagedFile(folder: folder, path: path)
        staged.write { [self] in try writeCSV(to: path) }
        return staged
    }

    /// Writes the CSV (header and one line per decision) to `path`, in 1 MiB pieces. Once only:
    /// the references are read from the sorter as they are written.
    package func writeCSV(to path: String) throws {
        guard let collector else { throw AnalysisError.output(path: path, detail: "the list was written already") }
        self.collector = nil
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw AnalysisError.output(path: path, detail: "cannot be opened for writing")
        }
        defer { try? file.close() }
        try file.truncate(atOffset: 0)
        let lastUse = collector.lasts
        let merge = collector.sorter.sorted()
        var tables = SegmentCache(store: store, records: records, layout: layout)
        var csv: [UInt8] = Array(layout.header.utf8)
        csv.reserveCapacity(1 << 20 + 4096)
        var archives: [UInt32: [UInt8]] = [:]
        /// One line: the fields of `ref` read from its segment's columns.
        func append(_ ref: Ref, _ columns: SegmentCache.Columns) {
            CSV.append(field: columns.requestIDs[ref.row], to: &csv)
            csv.append(0x2C)
            TimeParser.append(ref.time, to: &csv)
            csv.append(0x2C)
            if let decisions = columns.decisions {
                CSV.append(field: decisions[ref.row], to: &csv)
                csv.append(0x2C)
                // The model's score (empty when the log has none) and the subject decided on (the
                // customer or transaction the re-review reaches).
                if let scores = columns.scores, !scores[ref.row].isNaN { csv.append(contentsOf: String(scores[ref.row]).utf8) }
                csv.append(0x2C)
                if let subjects = columns.subjects { CSV.append(field: subjects[ref.row], to: &csv) }
            } else if let addresses = columns.addresses, let principals = columns.principals, let paths = columns.paths,
                      let status = columns.status {
                CSV.append(field: addresses[ref.row], to: &csv)
                csv.append(0x2C)
                columns.maskedPrincipals[Int(principals.code(at: ref.row))].withByteView { CSV.append(field: $0, to: &csv) }
                csv.append(0x2C)
                CSV.append(field: paths[ref.row], to: &csv)
                csv.append(0x2C)
                csv.append(contentsOf: String(status[ref.row]).utf8)
            }
            csv.append(contentsOf: ref.inWindow ? Self.trueField : Self.falseField)
            if archives[ref.segment] == nil {
                // The archive path as its CSV field, once per segment.
                var field: [UInt8] = []
                let path = resolver.archivePath(columns.table)
                path.withByteView { CSV.append(field: $0, to: &field) }
                archives[ref.segment] = field
            }
            csv.append(contentsOf: archives[ref.segment] ?? [])
            csv.append(0x2C)
            CSV.append(field: columns.member[ref.row], to: &csv)
            csv.append(0x2C)
            csv.append(contentsOf: String(columns.line[ref.row]).utf8)
            csv.append(0x0A)
        }
        // The references of one time, then the first of the next.
        var group: [Ref] = []
        var next = try merge.next()
        while let first = next {
            group.removeAll(keepingCapacity: true)
            group.append(first)
            next = try merge.next()
            while let ref = next, ref.time == first.time {
                group.append(ref)
                next = try merge.next()
            }
            if group.count == 1 {
                append(first, try tables.columns(first.segment))
            } else {
                // Equal times: by request id, then in the order of the evidence.
                let keyed = try group.map { ref in (try tables.columns(ref.segment).requestIDs.string(at: ref.row), ref) }
                let ordered = keyed.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
                for item in ordered { append(item.element.1, try tables.columns(item.element.1.segment)) }
            }
            for ref in group where lastUse[ref.segment] == ref {
                tables.release(ref.segment)
                archives[ref.segment] = nil
            }
            if csv.count >= 1 << 20 {
                try file.write(contentsOf: csv)
                csv.removeAll(keepingCapacity: true)
            }
        }
        try file.write(contentsOf: csv)
    }

    private static let trueField = Array(",true,".utf8)
    private static let falseField = Array(",false,".utf8)

    /// The prediction segments opened so far, by index.
    private struct SegmentCache {
        struct Columns {
            var table: SegmentTable
            var requestIDs: TextColumn
            var member: DictionaryColumn
            var line: Int64Column
            /// Decisions.
            var decisions: DictionaryColumn?
            var scores: Float64Column?
            var subjects: DictionaryColumn?
            /// Requests.
            var addresses: DictionaryColumn?
            var principals: DictionaryColumn?
            /// The principal dictionary's entries with their secrets masked (API keys are credentials).
            var maskedPrincipals: [String] = []
            var paths: DictionaryColumn?
            var status: Int64Column?
        }

        let store: Store
        let records: [SegmentRecord]
        let layout: Layout
        var open: [UInt32: Columns] = [:]

        init(store: Store, records: [SegmentRecord], layout: Layout) {
            self.store = store
            self.records = records
            self.layout = layout
        }

        mutating func columns(_ segment: UInt32) throws -> Columns {
            if let columns = open[segment] { return columns }
            let record = records[Int(segment)]
            let table = try SegmentTable(record: record, path: store.absolute(record.path))
            var columns = Columns(table: table, requestIDs: try table.text("request_id"),
                                  member: try table.dictionary("member"), line: try table.int64("line"))
            switch layout {
            case .decisions:
                columns.decisions = try table.dictionary("decision")
                columns.scores = table.has("score") ? try table.float64("score") : nil
                columns.subjects = table.has("subject") ? try table.dictionary("subject") : nil
            case .requests:
                let principals = try table.dictionary("principal")
                columns.addresses = try table.dictionary("src_ip")
                columns.principals = principals
                columns.maskedPrincipals = (0..<principals.entryCount).map { code in
                    SecretMask.maskCredential(principals.entry(UInt32(code)).string)
                }
                columns.paths = try table.dictionary("path")
                columns.status = try table.int64("status")
            }
            open[segment] = columns
            return columns
        }

        mutating func release(_ segment: UInt32) { open[segment] = nil }
    }
}

/// A file written under the store's `tmp/` before the folder it belongs in is written; dropped
/// without being moved, it is deleted with its run folder.
package final class StagedFile: @unchecked Sendable {
    private let folder: SpillDirectory
    package let path: String
    /// Set (to the writer's error, if any) when the writing started by ``write(_:)`` has ended.
    private let finished = NSCondition()
    private var writing = false
    private var failure: (any Error)?

    package init(folder: SpillDirectory, path: String) {
        self.folder = folder
        self.path = path
    }

    /// Runs `body`, which writes the file, on a thread of its own; ``wait()`` and
    /// ``move(to:)`` wait for it to end and throw what it threw.
    package func write(_ body: @escaping @Sendable () throws -> Void) {
        finished.lock()
        writing = true
        finished.unlock()
        let thread = Thread { [self] in
            var thrown: (any Error)?
            do { try body() } catch { thrown = error }
            finished.lock()
            failure = thrown
            writing = false
            finished.broadcast()
            finished.unlock()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Waits until the file is written; throws the writer's error.
    package func wait() throws {
        finished.lock()
        while writing { finished.wait() }
        let thrown = failure
        finished.unlock()
        if let thrown { throw thrown }
    }

    /// Moves the file to `destination`, replacing it: a rename, or, when `tmp/` is on another file
    /// system than the destination, a copy put in place atomically. Waits for the file to be
    /// written first.
    package func move(to destination: String) throws {
        try wait()
        do throws(StoreError) {
            try FileSystem.rename(path, to: destination)
        } catch {
            guard case .io(_, _, EXDEV) = error else {
                throw AnalysisError.output(path: destination, detail: "cannot be moved into place: \(error.description)")
            }
            try StreamingFile.write(try Data(contentsOf: URL(fileURLWithPath: path)), to: destination)
        }
    }
}
