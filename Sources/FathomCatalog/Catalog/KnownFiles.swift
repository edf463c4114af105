import FathomStore
import Foundation
import GRDB
import FathomSupport

/// A copy of an archive already in the catalog, seen at another path (a renamed or re-delivered
/// file), or the same file whose modification time changed while its content did not.
public struct ArchiveAlias: Sendable, Equatable, Codable {
    public var path: String
    public var size: Int64
    public var modificationTime: Int64
    /// The path and SHA-256 of the archive it is a copy of.
    public var originalPath: String
    public var sha256: String
}

/// A file at the path of an ingested archive whose content no longer matches the recorded SHA-256.
/// The original record stays; the altered content is not ingested.
public struct AlteredEvidence: Sendable, Equatable, Codable {
    public var path: String
    public var size: Int64
    public var modificationTime: Int64
    public var sha256: String
    /// What the catalog recorded when the file was read.
    public var originalSize: Int64
    public var originalSHA256: String
    public var originalIngestedAt: Int64

    /// The memberwise initializer, for the other targets of the package.
    package init(path: String,
                 size: Int64,
                 modificationTime: Int64,
                 sha256: String,
                 originalSize: Int64,
                 originalSHA256: String,
                 originalIngestedAt: Int64) {
        self.path = path
        self.size = size
        self.modificationTime = modificationTime
        self.sha256 = sha256
        self.originalSize = originalSize
        self.originalSHA256 = originalSHA256
        self.originalIngestedAt = originalIngestedAt
    }
}

extension Catalog {
    // MARK: Identities of files at known paths

    /// A recorded copy (or touched file) with exactly this path, size and modification time.
    public func alias(path: String, size: Int64, modificationTime: Int64) throws(CatalogError) -> ArchiveAlias? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT x.path, x.size, x.mtime_ns, a.path AS original, a.sha256 FROM archive_aliases x
                JOIN archives a ON a.id = x.archive_id WHERE x.path = ? AND x.size = ? AND x.mtime_ns = ?
                """, arguments: [path, size, modificationTime]).map(ArchiveAlias.init(row:))
        }
    }

    /// Recorded altered evidence with exactly this path, size and modification time.
    public func alteredEvidence(path: String, size: Int64, modificationTime: Int64) throws(CatalogError) -> AlteredEvidence? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT x.*, a.size AS original_size, a.sha256 AS original_sha256, a.ingested_at AS original_ingested_at
                FROM altered_evidence x JOIN archives a ON a.id = x.archive_id
                WHERE x.path = ? AND x.size = ? AND x.mtime_ns = ?
                """, arguments: [path, size, modificationTime]).map(AlteredEvidence.init(row:))
        }
    }

    /// Complete archives recorded at `path` (any size or modification time), newest first.
    public func completeArchives(path: String) throws(CatalogError) -> [ArchiveRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM archives WHERE status = 'complete' AND path = ? ORDER BY id DESC",
                             arguments: [path]).map(ArchiveRecord.init(row:))
        }
    }

    /// Whether a complete archive of exactly `size` bytes exists (a file of another size cannot be
    /// a copy of it, so only same-size files need hashing before they are read).
    public func hasCompleteArchive(size: Int64) throws(CatalogError) -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM archives WHERE status = 'complete' AND size = ?)",
                              arguments: [size]) ?? false
        }
    }

    /// Records that the file at `path` holds the same bytes as archive `archiveID`. Idempotent.
    public func recordAlias(archiveID: Int64, path: String, size: Int64, modificationTime: Int64, seenAt: Int64) throws(CatalogError) {
        try write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO archive_aliases (archive_id, path, size, mtime_ns, seen_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [archiveID, path, size, modificationTime, seenAt])
        }
    }

    /// Records that the file at `path` no longer matches archive `archiveID`. Idempotent.
    public func recordAlteredEvidence(archiveID: Int64, path: String, size: Int64, modificationTime: Int64,
                                      sha256: String, detectedAt: Int64) throws(CatalogError) {
        try write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO altered_evidence (archive_id, path, size, mtime_ns, sha256, detected_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [archiveID, path, size, modificationTime, sha256, detectedAt])
        }
    }

    // MARK: Sweeps

    /// Marks sweeps that never finished (the process was killed) as interrupted.
    public func markInterruptedSweeps() throws(CatalogError) {
        try write { db in try db.execute(sql: "UPDATE sweeps SET status = 'interrupted' WHERE status = 'running'") }
    }

    /// Records that a sweep started and returns its id.
    public func beginSweep(startedAt: Int64, configHash: String) throws(CatalogError) -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO sweeps (started_at, status, config_hash) VALUES (?, 'running', ?)",
                           arguments: [startedAt, configHash])
            return db.lastInsertedRowID
        }
    }

    /// Output folders already used by completed sweeps.
    public func sweepFolders() throws(CatalogError) -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT folder FROM sweeps WHERE status = 'complete'")) }
    }

    /// Complete archives that no completed sweep has looked at yet, ordered by path.
    public func unsweptArchives() throws(CatalogError) -> [ArchiveRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM archives WHERE status = 'complete' AND swept_by IS NULL ORDER BY path, id
                """).map(ArchiveRecord.init(row:))
        }
    }

    /// Copies and touched files not yet reported by a completed sweep.
    public func unreportedAliases() throws(CatalogError) -> [ArchiveAlias] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT x.path, x.size, x.mtime_ns, a.path AS original, a.sha256 FROM archive_aliases x
                JOIN archives a ON a.id = x.archive_id WHERE x.reported_by IS NULL ORDER BY x.path, x.id
                """).map(ArchiveAlias.init(row:))
        }
    }

    /// Altered evidence not yet reported by a completed sweep.
    public func unreportedAlteredEvidence() throws(CatalogError) -> [AlteredEvidence] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT x.*, a.size AS original_size, a.sha256 AS original_sha256, a.ingested_at AS original_ingested_at
                FROM altered_evidence x JOIN archives a ON a.id = x.archive_id
                WHERE x.reported_by IS NULL ORDER BY x.path, x.id
                """).map(AlteredEvidence.init(row:))
        }
    }

    // MARK: Pruning

    /// Drops the catalog rows of segments whose newest row is older than `cutoff`, and notes on
    /// their archives that rows were pruned. Archives, members, rejects, findings and the sweep
    /// state stay. Returns the dropped segments (their files are deleted afterwards by the caller,
    /// or as unreferenced files by the next writer if the process dies first).
    public func pruneSegments(olderThan cutoff: Int64, at now: Int64) throws(CatalogError) -> [SegmentRecord] {
        try write { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM segments WHERE max_time IS NOT NULL AND max_time < ? ORDER BY id
                """, arguments: [cutoff])
            let dropped = rows.map(SegmentRecord.init(row:))
            for (archive, segments) in Dictionary(grouping: dropped, by: \.archiveID) {
                try db.execute(sql: "UPDATE archives SET pruned_at = ?, pruned_rows = pruned_rows + ? WHERE id = ?",
                               arguments: [now, segments.reduce(0) { $0 + $1.rows }, archive])
            }
            try db.execute(sql: "DELETE FROM segments WHERE max_time IS NOT NULL AND max_time < ?", arguments: [cutoff])
            return dropped
        }
    }
}

extension ArchiveAlias {
    package init(row: Row) {
        path = row["path"]
        size = row["size"]
        modificationTime = row["mtime_ns"]
        originalPath = row["original"]
        sha256 = row["sha256"] ?? ""
    }
}

extension AlteredEvidence {
    package init(row: Row) {
        path = row["path"]
        size = row["size"]
        modificationTime = row["mtime_ns"]
        sha256 = row["sha256"]
        originalSize = row["original_size"]
        originalSHA256 = row["original_sha256"] ?? ""
        originalIngestedAt = row["original_ingested_at"] ?? 0
    }
}
