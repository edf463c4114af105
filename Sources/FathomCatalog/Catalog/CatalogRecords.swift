import FathomStore
import Foundation
import GRDB
import FathomSupport

/// One ingested archive as the catalog records it.
public struct ArchiveRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var path: String
    public var size: Int64
    public var modificationTime: Int64
    public var sha256: String
    public var compression: String
    public var container: String
    public var formats: String
    public var kinds: String
    public var rows: Int64
    public var rejected: Int64
    /// Well-formed records passed over as not evidence (see ``RowWriter/skipRecord()``).
    public var filtered: Int64
    public var firstTime: Int64?
    public var lastTime: Int64?
    /// When `fathom store prune` last dropped segments of this archive, and how many rows in all.
    public var prunedAt: Int64?
    public var prunedRows: Int64
    /// Log text and records lost to damage (see ``MemberRecord/lostBytes``).
    public var lostBytes: Int64
    public var lostRecords: Int64

    package init(row: Row) {
        id = row["id"]
        path = row["path"]
        size = row["size"]
        modificationTime = row["mtime_ns"]
        sha256 = row["sha256"] ?? ""
        compression = row["compression"]
        container = row["container"]
        formats = row["formats"]
        kinds = row["kinds"]
        rows = row["rows"]
        rejected = row["rejected"]
        filtered = row["filtered"] ?? 0
        firstTime = row["first_time"]
        lastTime = row["last_time"]
        prunedAt = row["pruned_at"]
        prunedRows = row["pruned_rows"] ?? 0
        lostBytes = row["lost_bytes"] ?? 0
        lostRecords = row["lost_records"] ?? 0
    }
}

/// One logical input of an archive (the file itself, or one tar member).
public struct MemberRecord: Sendable, Equatable, Codable {
    public var name: String
    public var format: String
    public var kind: String
    public var rows: Int64
    public var rejected: Int64
    public var firstTime: Int64?
    public var lastTime: Int64?
    /// Damage or a decision worth telling the reader (e.g. "truncated zstd frame at byte 812").
    public var note: String
    /// Well-formed records passed over as not evidence (see ``RowWriter/skipRecord()``).
    public var filtered: Int64
    /// Bytes of log text lost to damage (declared by the format or estimated; see ``DamageLoss``).
    public var lostBytes: Int64 = 0
    /// Records lost to damage, estimated from the mean record size.
    public var lostRecords: Int64 = 0

    public init(name: String, format: String, kind: String, rows: Int64, rejected: Int64,
                firstTime: Int64?, lastTime: Int64?, note: String, filtered: Int64 = 0) {
        self.filtered = filtered
        self.name = name
        self.format = format
        self.kind = kind
        self.rows = rows
        self.rejected = rejected
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.note = note
    }
}

extension MemberRecord {
    /// The formats of members that could not be decoded at all.
    public static let unreadableFormats: Set<String> = ["binary", "unknown", "unreadable"]

    /// Whether this member could not be decoded at all.
    public var isUnreadable: Bool { Self.unreadableFormats.contains(format) }
}

/// A sampled rejected record: where it was, why, and its first bytes (untrusted; escape to show).
public struct RejectSample: Sendable, Equatable, Codable {
    public var member: String
    public var line: Int64
    public var reason: String
    public var sample: [UInt8]

    public init(member: String, line: Int64, reason: String, sample: [UInt8]) {
        self.member = member
        self.line = line
        self.reason = reason
        self.sample = sample
    }
}

/// A segment file as the catalog records it. `path` is relative to the store directory.
public struct SegmentRecord: Sendable, Equatable, Codable {
    public var archiveID: Int64
    public var path: String
    public var kind: SourceKind
    public var rows: Int64
    public var minTime: Int64?
    public var maxTime: Int64?
    public var bytes: Int64
    public var checksum: UInt64

    public init(archiveID: Int64, path: String, kind: SourceKind, rows: Int64, minTime: Int64?,
                maxTime: Int64?, bytes: Int64, checksum: UInt64) {
        self.archiveID = archiveID
        self.path = path
        self.kind = kind
        self.rows = rows
        self.minTime = minTime
        self.maxTime = maxTime
        self.bytes = bytes
        self.checksum = checksum
    }
}

extension SegmentRecord {
    /// The record of the segment a write made (``SegmentBuilder/write(to:archiveID:durable:)``).
    public init(_ info: SegmentInfo, archiveID: Int64, path: String, kind: SourceKind) {
        self.init(archiveID: archiveID, path: path, kind: kind, rows: Int64(info.rows), minTime: info.minTime,
                  maxTime: info.maxTime, bytes: Int64(info.bytes), checksum: info.checksum)
    }

    package init(row: Row) {
        self.init(archiveID: row["archive_id"], path: row["path"], kind: SourceKind(rawValue: row["kind"]) ?? .inference,
                  rows: row["rows"], minTime: row["min_time"], maxTime: row["max_time"], bytes: row["bytes"],
                  checksum: UInt64(row["checksum"] as String, radix: 16) ?? 0)
    }
}

/// Everything learned from reading one archive, committed in one transaction.
public struct ArchiveResult: Sendable {
    public var sha256: String
    public var compression: String
    public var container: String
    public var members: [MemberRecord]
    public var rejectSamples: [RejectSample]
    public var rejectReasons: [String: Int64]
    public var segments: [SegmentRecord]
    /// Damage found outside any member (tar headers, data between members, the container's end),
    /// counted as rejected records of the archive.
    public var containerRejected: Int64 = 0

    public var rows: Int64 { members.reduce(0) { $0 + $1.rows } }
    public var rejected: Int64 { members.reduce(containerRejected) { $0 + $1.rejected } }
    public var filtered: Int64 { members.reduce(0) { $0 + $1.filtered } }
    public var lostBytes: Int64 { members.reduce(0) { $0 + $1.lostBytes } }
    public var lostRecords: Int64 { members.reduce(0) { $0 + $1.lostRecords } }
    public var firstTime: Int64? { members.compactMap(\.firstTime).min() }
    public var lastTime: Int64? { members.compactMap(\.lastTime).max() }
    public var formats: [String] { Array(Set(members.map(\.format))).sorted() }
    /// Whether nothing of the archive could be read: no rows, and every member unreadable.
    public var isUnreadable: Bool { rows == 0 && rejected > 0 && members.allSatisfy(\.isUnreadable) }
    /// The kinds of all members (a member that fed several kinds lists them comma-separated).
    public var kinds: [String] {
        Array(Set(members.flatMap { $0.kind.split(separator: ",").map(String.init) })).sorted()
    }

    /// The memberwise initializer, for the other targets of the package.
    package init(sha256: String,
                 compression: String,
                 container: String,
                 members: [MemberRecord],
                 rejectSamples: [RejectSample],
                 rejectReasons: [String: Int64],
                 segments: [SegmentRecord],
                 containerRejected: Int64 = 0) {
        self.sha256 = sha256
        self.compression = compression
        self.container = container
        self.members = members
        self.rejectSamples = rejectSamples
        self.rejectReasons = rejectReasons
        self.segments = segments
        self.containerRejected = containerRejected
    }
}

/// Per-kind totals for `fathom store info`.
public struct KindTotals: Sendable, Equatable, Codable {
    public var kind: SourceKind
    public var archives: Int64
    public var segments: Int64
    public var rows: Int64
    public var firstTime: Int64?
    public var lastTime: Int64?
}

/// What happened when an archive's ingest was committed.
public enum CompletionOutcome: Sendable, Equatable {
    case recorded(archiveID: Int64)
    /// Another archive with the same SHA-256 was already in the catalog; nothing was recorded.
    case duplicate(of: ArchiveRecord)
}

extension Catalog {
    /// A complete archive with this path, size and modification time, if any.
    public func completeArchive(path: String, size: Int64, modificationTime: Int64) throws(CatalogError) -> ArchiveRecord? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM archives WHERE status = 'complete' AND path = ? AND size = ? AND mtime_ns = ?
                """, arguments: [path, size, modificationTime]).map(ArchiveRecord.init(row:))
        }
    }

    /// The complete archive with this SHA-256, if any.
    public func completeArchive(sha256: String) throws(CatalogError) -> ArchiveRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM archives WHERE status = 'complete' AND sha256 = ?",
                             arguments: [sha256]).map(ArchiveRecord.init(row:))
        }
    }

    /// Records that an archive is being read, and returns its id (used in segment names and headers).
    public func beginArchive(path: String, size: Int64, modificationTime: Int64, startedAt: Int64) throws(CatalogError) -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO archives (path, size, mtime_ns, status, started_at) VALUES (?, ?, ?, 'ingesting', ?)
                """, arguments: [path, size, modificationTime, startedAt])
            return db.lastInsertedRowID
        }
    }

    /// Completes an archive in one transaction: its totals, members, reject samples and segments.
    /// When a complete archive with the same SHA-256 exists, the pending one is dropped instead.
    public func completeArchive(id: Int64, result: ArchiveResult, ingestedAt: Int64) throws(CatalogError) -> CompletionOutcome {
        try write { db in
            if let existing = try Row.fetchOne(db, sql: """
                SELECT * FROM archives WHERE status = 'complete' AND sha256 = ?
                """, arguments: [result.sha256]).map(ArchiveRecord.init(row:)) {
                try db.execute(sql: "DELETE FROM archives WHERE id = ?", arguments: [id])
                return .duplicate(of: existing)
            }
            try db.execute(sql: """
                UPDATE archives SET sha256 = ?, status = 'complete', compression = ?, container = ?, formats = ?,
                    kinds = ?, rows = ?, rejected = ?, filtered = ?, first_time = ?, last_time = ?, ingested_at = ?,
                    lost_bytes = ?, lost_records = ?
                WHERE id = ?
                """, arguments: [result.sha256, result.compression, result.container,
                                 result.formats.joined(separator: ","), result.kinds.joined(separator: ","),
                                 result.rows, result.rejected, result.filtered, result.firstTime, result.lastTime,
                                 ingestedAt, result.lostBytes, result.lostRecords, id])
            for member in result.members {
                try db.execute(sql: """
                    INSERT INTO members (archive_id, name, format, kind, rows, rejected, filtered, first_time, last_time, note,
                                         lost_bytes, lost_records)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, member.name, member.format, member.kind, member.rows, member.rejected,
                                     member.filtered, member.firstTime, member.lastTime, member.note,
                                     member.lostBytes, member.lostRecords])
            }
            for sample in result.rejectSamples {
                try db.execute(sql: """
                    INSERT INTO rejects (archive_id, member, line, reason, sample) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [id, sample.member, sample.line, sample.reason, Data(sample.sample)])
            }
            for (reason, count) in result.rejectReasons.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO reject_reasons (archive_id, reason, count) VALUES (?, ?, ?)",
                               arguments: [id, reason, count])
            }
            for segment in result.segments {
                try db.execute(sql: """
                    INSERT INTO segments (archive_id, path, kind, rows, min_time, max_time, bytes, checksum)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, segment.path, segment.kind.rawValue, segment.rows, segment.minTime,
                                     segment.maxTime, segment.bytes, String(segment.checksum, radix: 16)])
            }
            return .recorded(archiveID: id)
        }
    }

    /// Removes the pending row of an archive whose ingest was given up (nothing about it is kept).
    public func abandonArchive(id: Int64) throws(CatalogError) {
        try write { db in
            try db.execute(sql: "DELETE FROM archives WHERE id = ? AND status = 'ingesting'", arguments: [id])
        }
    }

    /// Removes archives whose ingest never completed (the process was killed) and returns their ids.
    public func removeIncompleteArchives() throws(CatalogError) -> [Int64] {
        try write { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM archives WHERE status = 'ingesting'")
            try db.execute(sql: "DELETE FROM archives WHERE status = 'ingesting'")
            return ids
        }
    }

    /// Paths (relative to the store) of every recorded segment.
    public func segmentPaths() throws(CatalogError) -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT path FROM segments")) }
    }

    /// Segments of `kind` whose time range overlaps `[from, to]` (either bound optional), in a
    /// stable order. Segments without times are always included.
    public func segments(kind: SourceKind, from: Int64? = nil, to: Int64? = nil) throws(CatalogError) -> [SegmentRecord] {
        try read { db in
            // Ordered by archive path, then write order: archive ids depend on which worker started
            // first, paths do not, so scans see the same order on every run.
            var sql = "SELECT s.* FROM segments s JOIN archives a ON a.id = s.archive_id WHERE s.kind = ?"
            var arguments: StatementArguments = [kind.rawValue]
            if let from {
                sql += " AND (s.max_time IS NULL OR s.max_time >= ?)"
                arguments += [from]
            }
            if let to {
                sql += " AND (s.min_time IS NULL OR s.min_time <= ?)"
                arguments += [to]
            }
            sql += " ORDER BY a.path, a.id, s.id"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SegmentRecord.init(row:))
        }
    }

    /// Every complete archive, ordered by path.
    public func archives() throws(CatalogError) -> [ArchiveRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM archives WHERE status = 'complete' ORDER BY path, id")
                .map(ArchiveRecord.init(row:))
        }
    }

    /// The members of an archive, in reading order.
    public func members(archiveID: Int64) throws(CatalogError) -> [MemberRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM members WHERE archive_id = ? ORDER BY id", arguments: [archiveID])
                .map { row in
                    var member = MemberRecord(name: row["name"], format: row["format"], kind: row["kind"], rows: row["rows"],
                                              rejected: row["rejected"], firstTime: row["first_time"], lastTime: row["last_time"],
                                              note: row["note"], filtered: row["filtered"] ?? 0)
                    member.lostBytes = row["lost_bytes"] ?? 0
                    member.lostRecords = row["lost_records"] ?? 0
                    return member
                }
        }
    }

    /// The sampled rejected records of an archive.
    public func rejectSamples(archiveID: Int64) throws(CatalogError) -> [RejectSample] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM rejects WHERE archive_id = ? ORDER BY id", arguments: [archiveID])
                .map { row in
                    RejectSample(member: row["member"], line: row["line"], reason: row["reason"],
                                 sample: [UInt8]((row["sample"] as Data?) ?? Data()))
                }
        }
    }

    /// Counts of rejected records by reason for an archive.
    public func rejectReasons(archiveID: Int64) throws(CatalogError) -> [String: Int64] {
        try read { db in
            var result: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT reason, count FROM reject_reasons WHERE archive_id = ?",
                                        arguments: [archiveID]) {
                result[row["reason"]] = row["count"]
            }
            return result
        }
    }

    /// Per-kind totals over complete archives.
    public func kindTotals() throws(CatalogError) -> [KindTotals] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT kind, COUNT(DISTINCT archive_id) AS archives, COUNT(*) AS segments, SUM(rows) AS rows,
                       MIN(min_time) AS first, MAX(max_time) AS last
                FROM segments GROUP BY kind
                """).compactMap { row -> KindTotals? in
                guard let kind = SourceKind(rawValue: row["kind"]) else { return nil }
                return KindTotals(kind: kind, archives: row["archives"], segments: row["segments"], rows: row["rows"],
                                  firstTime: row["first"], lastTime: row["last"])
            }.sorted { $0.kind < $1.kind }
        }
    }
}
