import FathomStore
import Foundation
import GRDB

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
}

/// A finding as the sweep state keeps it: its stable identity and what was last reported of it.
public struct StoredFinding: Sendable, Equatable {
    public var id: Int64
    public var identity: String
    public var rule: String
    public var key: String
    public var time: Int64?
    public var window: HitWindow?
    public var metrics: [String: HitValue]
    public var firstSweep: Int64
    public var lastSweep: Int64
}

/// What one sweep commits, all in one transaction (see ``Catalog/commitSweep(_:)``).
public struct SweepCommit: Sendable {
    public struct Reported: Sendable {
        /// Nil for a new finding.
        public var existingID: Int64?
        public var identity: String
        public var hit: Hit
        public var isUpdate: Bool
        public var incident: String
    }

    public var sweepID: Int64
    public var finishedAt: Int64
    public var folder: String
    public var exitStatus: Int32
    /// Archives whose data this sweep looked at.
    public var archiveIDs: [Int64]
    public var findings: [Reported]
    public var alteredReported: Int
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

    /// The stored findings of the given rules.
    public func findings(rules: Set<String>) throws(CatalogError) -> [StoredFinding] {
        guard !rules.isEmpty else { return [] }
        return try read { db in
            let marks = Array(repeating: "?", count: rules.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: "SELECT * FROM findings WHERE rule IN (\(marks)) ORDER BY id",
                                    arguments: StatementArguments(rules.sorted())).map(StoredFinding.init(row:))
        }
    }

    /// Number of stored findings (all sweeps).
    public func findingCount() throws(CatalogError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings") ?? 0 }
    }

    /// Commits a sweep: its findings, the archives it covered, the copies and altered files it
    /// reported, and its completion — in one transaction, so a sweep killed before this point has
    /// changed nothing the next sweep relies on, and one killed after it is complete.
    public func commitSweep(_ commit: SweepCommit) throws(CatalogError) {
        try write { db in
            let id = commit.sweepID
            for reported in commit.findings {
                let hit = reported.hit
                let metrics = try SweepJSON.text(hit.metrics)
                let hitText = try SweepJSON.text(hit)
                let findingID: Int64
                if let existing = reported.existingID {
                    try db.execute(sql: """
                        UPDATE findings SET time = ?, window_start = ?, window_end = ?, metrics = ?, hit = ?,
                            last_sweep = ?, status = ?, incident = CASE WHEN ? = '' THEN incident ELSE ? END WHERE id = ?
                        """, arguments: [hit.time, hit.window?.start, hit.window?.end, metrics, hitText, id,
                                         reported.isUpdate ? "updated" : "new", reported.incident, reported.incident, existing])
                    findingID = existing
                } else {
                    try db.execute(sql: """
                        INSERT INTO findings (identity, rule, key, time, window_start, window_end, metrics, hit,
                            first_sweep, last_sweep, status, incident) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)
                        """, arguments: [reported.identity, hit.rule, hit.keyText, hit.time, hit.window?.start,
                                         hit.window?.end, metrics, hitText, id, id, reported.incident])
                    findingID = db.lastInsertedRowID
                }
                try db.execute(sql: "INSERT INTO finding_reports (sweep_id, finding_id, status, metrics) VALUES (?, ?, ?, ?)",
                               arguments: [id, findingID, reported.isUpdate ? "updated" : "new", metrics])
            }
            for archive in commit.archiveIDs {
                try db.execute(sql: "UPDATE archives SET swept_by = ? WHERE id = ? AND swept_by IS NULL", arguments: [id, archive])
            }
            try db.execute(sql: "UPDATE archive_aliases SET reported_by = ? WHERE reported_by IS NULL", arguments: [id])
            try db.execute(sql: "UPDATE altered_evidence SET reported_by = ? WHERE reported_by IS NULL", arguments: [id])
            let newCount = commit.findings.filter { !$0.isUpdate }.count
            try db.execute(sql: """
                UPDATE sweeps SET status = 'complete', finished_at = ?, folder = ?, new_archives = ?, new_findings = ?,
                    updated_findings = ?, altered = ?, exit_status = ? WHERE id = ?
                """, arguments: [commit.finishedAt, commit.folder, commit.archiveIDs.count, newCount,
                                 commit.findings.count - newCount, commit.alteredReported, commit.exitStatus, id])
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
    init(row: Row) {
        path = row["path"]
        size = row["size"]
        modificationTime = row["mtime_ns"]
        originalPath = row["original"]
        sha256 = row["sha256"] ?? ""
    }
}

extension AlteredEvidence {
    init(row: Row) {
        path = row["path"]
        size = row["size"]
        modificationTime = row["mtime_ns"]
        sha256 = row["sha256"]
        originalSize = row["original_size"]
        originalSHA256 = row["original_sha256"] ?? ""
        originalIngestedAt = row["original_ingested_at"] ?? 0
    }
}

extension StoredFinding {
    init(row: Row) {
        id = row["id"]
        identity = row["identity"]
        rule = row["rule"]
        key = row["key"]
        time = row["time"]
        if let start: Int64 = row["window_start"], let end: Int64 = row["window_end"] {
            window = HitWindow(start: start, end: end)
        }
        metrics = (try? SweepJSON.decode([String: HitValue].self, from: row["metrics"] as String)) ?? [:]
        firstSweep = row["first_sweep"]
        lastSweep = row["last_sweep"]
    }
}

/// Compact, key-sorted JSON for values kept in the catalog.
enum SweepJSON {
    static func text(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
