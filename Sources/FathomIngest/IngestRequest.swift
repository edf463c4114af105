import FathomStore
import FathomSupport
import FathomCatalog

/// What `fathom ingest` was asked to do.
public struct IngestRequest: Sendable {
    public var paths: [String]
    public var storeDirectory: String
    /// Forces the source kind of generic inputs.
    public var kind: SourceKind?
    /// Forces the source kind of the generic inputs at these paths (absolute, as discovered),
    /// before ``kind``: a sweep reads the files of all its watched patterns in one run, each with
    /// its pattern's kind, so both cores share them (one run per kind left a core idle).
    public var kindsByPath: [String: SourceKind] = [:]
    public var profile: Profile?
    /// Forces a format by name (see `fathom formats`).
    public var formatName: String?
    /// Archives read in parallel.
    public var jobs: Int
    /// A line or record longer than this is rejected, not loaded.
    public var maxRecordBytes: Int
    /// A segment is written when it holds this many rows …
    public var segmentRows: Int
    /// … or this many bytes of buffered column data. 6 MB: a segment being built, and one being
    /// scanned (its mapped pages count as resident), is a fixed share of the peak memory on both
    /// cores. Halving the former 24 MB took 28 MB off a 1 GB analysis and 22 MB off a 4 GB one, with
    /// the same reports and no measurable change in speed. At 12 MB the builders of the kinds with
    /// fewer rows (LLM, decisions, storage) filled a segment only in the larger sets of evidence,
    /// so ingest's peak still grew with the evidence (103 → 134 MB from 1 to 4 GB of the
    /// high-cardinality benchmark); at 6 MB every kind's builder reaches its cap in the 1 GB set
    /// already, and the peak stays flat, for a store about 5 % larger.
    public var segmentBytes: Int
    /// The largest whole-file input (an SQLite database inside a tar or compressed file) copied to
    /// a temporary file to be read; a larger one is rejected, not copied.
    public var maxWholeFileBytes: Int64
    /// Record absolute paths in the catalog even for files under the current directory (the sweep
    /// sets it, so a file's identity does not depend on where the scheduler started it).
    public var recordsAbsolutePaths: Bool
    /// Folders never read as inputs besides the store (the report folder).
    public var excludedDirectories: [String]
    /// Follow symbolic links that lead out of the input folders (``InputDiscovery``).
    public var followsSymlinks: Bool

    public init(paths: [String], storeDirectory: String = ".fathom", kind: SourceKind? = nil, profile: Profile? = nil,
                formatName: String? = nil, jobs: Int = 2, maxRecordBytes: Int = 16 << 20,
                segmentRows: Int = 1 << 20, segmentBytes: Int = 6 << 20, maxWholeFileBytes: Int64 = 4 << 30,
                recordsAbsolutePaths: Bool = false, excludedDirectories: [String] = [], followsSymlinks: Bool = false) {
        self.excludedDirectories = excludedDirectories
        self.followsSymlinks = followsSymlinks
        self.recordsAbsolutePaths = recordsAbsolutePaths
        self.paths = paths
        self.storeDirectory = storeDirectory
        self.kind = kind
        self.profile = profile
        self.formatName = formatName
        self.jobs = jobs
        self.maxRecordBytes = maxRecordBytes
        self.segmentRows = segmentRows
        self.segmentBytes = segmentBytes
        self.maxWholeFileBytes = maxWholeFileBytes
    }

    /// The source kind forced for the input at `path`, if any.
    public func kind(of path: String) -> SourceKind? { kindsByPath[path] ?? kind }
}

/// What happened to one input file.
public struct FileOutcome: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// Read and recorded.
        case ingested
        /// The same path, size and modification time is already in the catalog; not read again.
        case alreadyIngested = "already-ingested"
        /// A copy of an archive already in the catalog (same SHA-256 at another path: renamed or
        /// re-delivered); recorded as a copy of it, its rows not ingested again.
        case duplicate
        /// A file at the path of an ingested archive whose content changed after it was read (its
        /// SHA-256 differs from the recorded one); recorded as altered evidence, not ingested; the
        /// original record stays.
        case altered
        /// Recorded as evidence, but its content could not be decoded (see `note`).
        case unreadable
        /// Not read through this time — it changed while it was read (shrank, was rewritten), could
        /// not be opened, or its disk failed — and so not recorded: the next run reads it again.
        case notRead = "not-read"
        /// Not an input: a symbolic link out of the input folders, a link loop, a special file, or
        /// Fathom's own output (the store, the report folder). Listed, never read.
        case skipped
    }

    public var path: String
    public var status: Status
    public var size: Int64
    public var sha256: String
    public var rows: Int64
    public var rejected: Int64
    public var formats: [String]
    public var kinds: [String]
    public var segments: Int
    /// Why it was skipped, what it duplicates, or what could not be read.
    public var note: String
    /// Well-formed records passed over as not evidence of any kept kind (e.g. read verbs in a
    /// Kubernetes audit log); never counted as rejects.
    public var filtered: Int64 = 0
    /// Records lost to damaged data (truncated or corrupt frames and members), estimated from the
    /// bytes lost and the mean record size; see `note` for the damage.
    public var lostRecords: Int64 = 0
}

/// An input that was found but not recorded: skipped by the walk (a link out of the input
/// folders, a loop, a special file, Fathom's own output) or not read through this time. Reports
/// list these so that nothing is passed over silently.
public struct PassedInput: Sendable, Codable, Equatable {
    public var path: String
    public var status: FileOutcome.Status
    public var reason: String

    public init(_ outcome: FileOutcome) {
        path = outcome.path
        status = outcome.status
        reason = outcome.note
    }

    public init(path: String, status: FileOutcome.Status, reason: String) {
        self.path = path
        self.status = status
        self.reason = reason
    }
}

/// The result of an ingest run.
public struct IngestSummary: Sendable, Codable, Equatable {
    public var files: [FileOutcome]
    /// Bytes of the input files read (compressed, as stored on disk).
    public var bytesRead: Int64
    /// Bytes those files held once decompressed: what the decoders read.
    public var bytesDecoded: Int64
    public var seconds: Double

    public init(files: [FileOutcome], bytesRead: Int64, bytesDecoded: Int64, seconds: Double) {
        self.files = files
        self.bytesRead = bytesRead
        self.bytesDecoded = bytesDecoded
        self.seconds = seconds
    }

    public var rows: Int64 { files.reduce(0) { $0 + $1.rows } }
    public var rejected: Int64 { files.reduce(0) { $0 + $1.rejected } }
    public var filtered: Int64 { files.reduce(0) { $0 + $1.filtered } }
    public var lostRecords: Int64 { files.reduce(0) { $0 + $1.lostRecords } }
    /// The inputs found but not recorded (see ``PassedInput``).
    public var passedOver: [PassedInput] {
        files.filter { $0.status == .notRead || $0.status == .skipped }.map(PassedInput.init)
    }
    /// Whether some inputs could not be read (exit status 2): decoded to nothing, or not read through.
    public var hasUnreadable: Bool { files.contains { $0.status == .unreadable || $0.status == .notRead } }
}

/// A snapshot of ingest progress, for a progress line.
public struct IngestProgress: Sendable {
    /// Bytes of the input files read so far, of `bytesTotal` (compressed sizes: the ETA's measure).
    public var bytesRead: Int64
    public var bytesTotal: Int64
    /// Bytes decompressed so far.
    public var bytesDecoded: Int64
    public var rows: Int64
    public var rejected: Int64
    public var filesDone: Int
    public var filesTotal: Int
    public var seconds: Double
}

extension IngestProgress {
    /// The progress line's view of the ingest: archive bytes read against their total (the ETA),
    /// with the uncompressed bytes and their rate.
    public var snapshot: ProgressSnapshot {
        ProgressSnapshot(phase: "ingest", unit: .bytes, done: bytesRead, total: bytesTotal, rows: rows,
                         uncompressedBytes: bytesDecoded, seconds: seconds,
                         notes: ["\(ReportNumber.grouped(rejected)) rejected", "\(filesDone)/\(filesTotal) files"])
    }
}
